/** ffmpeg input arguments for raw pictures written to its stdin, in the stream's layouts. */
import type { RawFormat } from "../media/frame.ts";

const PIX_FMT: Record<RawFormat, string> = {
  i420: "yuv420p",
  i422: "yuv422p",
  i444: "yuv444p",
  gray: "gray",
  rgb: "rgb24",
  bgr: "bgr24",
  rgba: "rgba",
  bgra: "bgra",
};

/**
 * swscale options that give JPEG's YCbCr (JFIF), which every raw picture of a
 * stream is: full range, BT.601 matrix. A picture that says it is BT.709 is
 * converted; one that says nothing is taken as BT.601.
 */
export const JPEG_YCBCR = "out_range=full:out_color_matrix=bt601";

/** The stream's YUV is full range (JPEG's): said with -color_range, not the deprecated yuvj formats. */
export function rawVideoInput(format: RawFormat, width: number, height: number): string[] {
  return ["-f", "rawvideo", "-pix_fmt", PIX_FMT[format], "-color_range", "pc", "-s", `${width}x${height}`];
}
