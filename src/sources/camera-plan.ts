/**
 * What a camera is asked to give, chosen for the least work: a camera's own
 * JPEGs go to MJPEG viewers untouched and its own H.264 to WebRTC viewers
 * untouched; raw pictures are taken only when a picture must be changed
 * (turned, mirrored, steadied, made smaller) or the camera has nothing else.
 *
 * `auto` with WebRTC on prefers H.264 (the page's transport: no encoder at
 * all; MJPEG viewers then cost one decode while they watch), then MJPEG
 * (MJPEG viewers free; WebRTC costs one decode + encode), then raw.
 */
import { SourceError } from "./source.ts";

/** What --input-format may ask a camera for. */
export const INPUT_FORMATS = ["auto", "mjpeg", "yuyv", "yuv420", "h264"] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** What the capture hands on: raw pictures, or the camera's own JPEGs / H.264. */
export type CameraDelivery = "raw" | "jpeg" | "h264";

export interface CameraNeeds {
  /** Pictures must be decoded: a filter on the way (rotation, mirroring, deshake, a smaller size) or --no-passthrough. */
  readonly filtered: boolean;
  /** WebRTC viewers may come (the page prefers WebRTC). */
  readonly webrtc: boolean;
}

export interface V4l2Plan {
  /** ffmpeg's -input_format, or null to take the camera's default. */
  readonly inputFormat: string | null;
  readonly delivery: CameraDelivery;
}

/** ffmpeg's names for what --input-format asks of a V4L2 camera. */
export const V4L2_INPUT_FORMAT: Record<Exclude<InputFormat, "auto">, string> = {
  mjpeg: "mjpeg",
  yuyv: "yuyv422",
  yuv420: "yuv420p",
  h264: "h264",
};

const RAW_PREFERENCE = ["yuyv422", "yuv420p", "nv12", "uyvy422", "rgb24", "bgr24", "gray"];

/**
 * Picks a V4L2 camera's input format and what the capture delivers.
 * `offered` are ffmpeg's names of the camera's formats (null when unknown).
 */
export function planV4l2(asked: InputFormat, offered: readonly string[] | null, needs: CameraNeeds): V4l2Plan {
  if (asked !== "auto") {
    const format = V4L2_INPUT_FORMAT[asked];
    if (offered && !offered.includes(format)) {
      throw new SourceError(`the camera does not give ${asked} (--input-format); it gives ${offered.join(", ") || "no format ffmpeg knows"}`);
    }
    if (needs.filtered) return { inputFormat: format, delivery: "raw" };
    return { inputFormat: format, delivery: asked === "mjpeg" ? "jpeg" : asked === "h264" ? "h264" : "raw" };
  }
  if (!offered || offered.length === 0) return { inputFormat: null, delivery: "raw" };
  const has = (f: string) => offered.includes(f);
  const raw = RAW_PREFERENCE.find(has) ?? null;
  if (needs.filtered) {
    // Pictures are decoded anyway: MJPEG reaches the highest rates over USB.
    return { inputFormat: has("mjpeg") ? "mjpeg" : (raw ?? (has("h264") ? "h264" : null)), delivery: "raw" };
  }
  if (needs.webrtc && has("h264")) return { inputFormat: "h264", delivery: "h264" };
  if (has("mjpeg")) return { inputFormat: "mjpeg", delivery: "jpeg" };
  if (raw) return { inputFormat: raw, delivery: "raw" };
  if (has("h264")) return { inputFormat: "h264", delivery: "h264" };
  return { inputFormat: null, delivery: "raw" };
}

/** rpicam-vid's --codec values. */
export type RpicamCodec = "mjpeg" | "yuv420" | "h264";
/** Raspberry Pi 5 has no hardware video encoders; the earlier boards have MJPEG and H.264 ones. */
export type Board = "pi5" | "pi-with-encoders" | "other";

export interface LibcameraPlan {
  readonly codec: RpicamCodec;
  /** Mirrors asked of rpicam-vid (a 180° turn is both). */
  readonly hflip: boolean;
  readonly vflip: boolean;
  /** A quarter turn rpicam-vid cannot do: done once per frame on the raw pictures. */
  readonly rotate: 0 | 90 | 270;
}

export interface LibcameraNeeds {
  readonly rotate: number;
  readonly hflip: boolean;
  readonly vflip: boolean;
  readonly webrtc: boolean;
  /** False with --no-passthrough: raw pictures, encoded here. */
  readonly passthrough: boolean;
}

/** Thrown for a combination that can never work; the message names the options. */
export class CameraPlanError extends Error {}

export function planLibcamera(asked: InputFormat, board: Board, needs: LibcameraNeeds): LibcameraPlan {
  const half = needs.rotate === 180;
  const hflip = needs.hflip !== half;
  const vflip = needs.vflip !== half;
  const quarter = needs.rotate === 90 || needs.rotate === 270 ? needs.rotate : 0;
  if (asked === "yuyv") throw new CameraPlanError("--input-format: yuyv is a V4L2 format; a libcamera camera gives mjpeg, yuv420 or h264");
  if (quarter && asked !== "auto" && asked !== "yuv420") {
    throw new CameraPlanError(
      `--rotate: ${quarter} needs raw pictures from a libcamera camera (rpicam-vid turns only by 180); use --input-format yuv420 or auto, not ${asked}`,
    );
  }
  if (!needs.passthrough && asked !== "auto" && asked !== "yuv420") {
    throw new CameraPlanError(`--passthrough: --no-passthrough takes raw pictures from a libcamera camera; use --input-format yuv420 or auto, not ${asked}`);
  }
  let codec: RpicamCodec;
  if (asked !== "auto") codec = asked;
  else if (quarter || board === "pi5" || !needs.passthrough) codec = "yuv420";
  else codec = needs.webrtc ? "h264" : "mjpeg";
  return { codec, hflip, vflip, rotate: quarter };
}
