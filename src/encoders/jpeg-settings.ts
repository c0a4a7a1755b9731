/** How every JPEG of a stream is made, from the CLI's --jpeg-* options. */
export type JpegSubsampling = "420" | "422" | "444" | "gray";

export interface JpegSettings {
  /** 10–100 (vidgear's jpeg_compression_quality). */
  readonly quality: number;
  /** Faster, slightly less accurate DCT (TJFLAG_FASTDCT). */
  readonly fastDct: boolean;
  /** Fastest chroma resampling wherever chroma is resampled (see README). */
  readonly fastUpsample: boolean;
  readonly subsampling: JpegSubsampling;
}

export const defaultJpegSettings: JpegSettings = {
  quality: 90,
  fastDct: true,
  fastUpsample: false,
  subsampling: "420",
};

/**
 * ffmpeg's mjpeg encoder takes a quantiser scale (2 best … 31 worst) rather
 * than libjpeg's 1–100 quality. This maps libjpeg's quality scaling curve onto
 * it so that --jpeg-quality keeps its meaning with the fallback encoder.
 */
export function mjpegQscale(quality: number): number {
  const scale = quality < 50 ? 5000 / quality : 200 - 2 * quality; // libjpeg's percent scaling
  return Math.min(31, Math.max(2, Math.round((scale / 100) * 8)));
}
