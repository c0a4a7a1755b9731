/**
 * What a V4L2 camera offers, as one model whichever tool told us (v4l2-ctl or
 * ffmpeg's -list_formats): each capture format under the name ffmpeg's
 * `-input_format` takes, with its frame sizes and, where known, frame rates.
 * Also the table from V4L2 fourccs to those ffmpeg names, which is ffmpeg's
 * own (libavdevice/v4l2-common.c), so both tools give the same names.
 */

export interface FrameSize {
  readonly width: number;
  readonly height: number;
  /** Discrete frame rates at this size, highest first (v4l2-ctl only; ffmpeg does not list them). */
  readonly fps?: readonly number[];
  /** A continuous or stepwise range of frame rates at this size (rare; v4l2-ctl only). */
  readonly fpsRange?: { readonly min: number; readonly max: number };
}

/** Any size from min to max in steps (a stepwise or continuous V4L2 frame size; continuous has step 1). */
export interface SizeRange {
  readonly minWidth: number;
  readonly minHeight: number;
  readonly maxWidth: number;
  readonly maxHeight: number;
  readonly stepWidth: number;
  readonly stepHeight: number;
}

export interface V4l2Format {
  /**
   * ffmpeg's `-input_format` name for it: "mjpeg", "yuyv422", "h264", "nv12",
   * "yuv420p"…; null when ffmpeg cannot capture this format (ffmpeg lists it
   * as "Unsupported").
   */
  readonly ffmpegName: string | null;
  /** The V4L2 fourcc ("MJPG", "YUYV", "Y10 "…); known from v4l2-ctl only. */
  readonly fourcc?: string;
  /** The driver's description, e.g. "Motion-JPEG". */
  readonly description: string;
  readonly compressed: boolean;
  /** Made by libv4l's conversion, not by the device. */
  readonly emulated?: boolean;
  /** The discrete frame sizes, in the device's order. */
  readonly sizes: readonly FrameSize[];
  /** Set instead of `sizes` when the device takes any size in a range. */
  readonly sizeRange?: SizeRange;
  /** Every discrete frame rate offered at some size, highest first (v4l2-ctl only). */
  readonly fps?: readonly number[];
}

/** ffmpeg's V4L2 input table: fourcc → pixel format or codec name. */
const FFMPEG_NAMES: Readonly<Record<string, string>> = {
  YU12: "yuv420p",
  YV12: "yuv420p",
  "422P": "yuv422p",
  YUYV: "yuyv422",
  UYVY: "uyvy422",
  "411P": "yuv411p",
  YUV9: "yuv410p",
  YVU9: "yuv410p",
  RGBO: "rgb555le",
  RGBQ: "rgb555be",
  RGBP: "rgb565le",
  RGBR: "rgb565be",
  BGR3: "bgr24",
  RGB3: "rgb24",
  BGR4: "bgr0",
  RGB4: "0rgb",
  GREY: "gray",
  "Y16 ": "gray16le",
  NV12: "nv12",
  MJPG: "mjpeg",
  JPEG: "mjpeg",
  H264: "h264",
  CPIA: "cpia",
  BA81: "bayer_bggr8",
  GBRG: "bayer_gbrg8",
  GRBG: "bayer_grbg8",
  RGGB: "bayer_rggb8",
};

/** The `-input_format` name ffmpeg gives a V4L2 fourcc, or null when ffmpeg cannot capture it. */
export function ffmpegNameForFourcc(fourcc: string): string | null {
  return FFMPEG_NAMES[fourcc] ?? null;
}

/** Distinct rates, highest first. */
export function distinctRates(rates: Iterable<number>): number[] {
  return [...new Set(rates)].sort((a, b) => b - a);
}
