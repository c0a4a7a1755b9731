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
