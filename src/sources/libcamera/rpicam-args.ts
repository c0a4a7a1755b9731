/**
 * The rpicam-vid command line for a libcamera camera: no preview, no time
 * limit, the camera's size and rate, the codec of the plan (camera-plan.ts),
 * mirrors done by the camera pipeline, output flushed to stdout frame by frame.
 */
import type { LibcameraPlan } from "../camera-plan.ts";

export interface RpicamSettings {
  readonly camera: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** JPEG quality for the mjpeg codec. */
  readonly quality: number;
  /** H.264: frames between keyframes and bit rate. */
  readonly keyint: number;
  readonly bitrateKbps: number;
}

export function rpicamArgs(rpicam: string, plan: LibcameraPlan, s: RpicamSettings): string[] {
  const codec: string[] = ["--codec", plan.codec];
  if (plan.codec === "mjpeg") codec.push("--quality", String(s.quality));
  if (plan.codec === "h264") {
    // Parameter sets with every keyframe (a viewer can start at any), browsers' profile.
    codec.push("--inline", "--intra", String(s.keyint), "--bitrate", String(s.bitrateKbps * 1000), "--profile", "baseline");
  }
  return [
    rpicam,
    "-t",
    "0",
    "-n",
    "--camera",
    String(s.camera),
    ...codec,
    "--width",
    String(s.width),
    "--height",
    String(s.height),
    "--framerate",
    String(s.fps),
    ...(plan.hflip ? ["--hflip"] : []),
    ...(plan.vflip ? ["--vflip"] : []),
    "--flush",
    "-o",
    "-",
  ];
}

/** A libcamera camera's picture size when none is asked. */
export const LIBCAMERA_DEFAULT = { width: 1280, height: 720, fps: 30 } as const;
/** rpicam-vid writes raw pictures with the ISP's row alignment: widths must be multiples of this to have no padding. */
export const RAW_WIDTH_ALIGN = 64;

/** The size asked of the camera: --width/--height (or the default), made smaller by --frame-size-reduction. */
export function libcameraSize(width: number | null, height: number | null, reductionPct: number): { width: number; height: number } {
  const f = (100 - reductionPct) / 100;
  const even = (n: number) => Math.max(2, Math.floor((n * f) / 2) * 2);
  let w = width ?? LIBCAMERA_DEFAULT.width;
  let h = height ?? LIBCAMERA_DEFAULT.height;
  // One side given: the other follows the sensor's usual 16:9.
  if (width !== null && height === null) h = Math.round((width * 9) / 16);
  if (height !== null && width === null) w = Math.round((height * 16) / 9);
  return { width: even(w), height: even(h) };
}
