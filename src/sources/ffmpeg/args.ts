/**
 * The ffmpeg command line for a capture: input options per source kind, one
 * filter chain (deshake, mirror and turn, rate, size, JPEG's colour, pixel
 * layout), and the output: YUV4MPEG2 raw pictures for libjpeg-turbo, ffmpeg's
 * own JPEGs when libjpeg-turbo is not available, or a camera's own JPEGs or
 * H.264 copied through untouched (no decode, no filter).
 */
import { JPEG_YCBCR } from "../../encoders/ffmpeg-raw-input.ts";
import { mjpegQscale, type JpegSettings, type JpegSubsampling } from "../../encoders/jpeg-settings.ts";
import type { SourceSpec } from "../source-spec.ts";
import { opusOutputArgs } from "../audio/opus-args.ts";

/** Where the quality mapping lives now (encoders/jpeg-settings.ts); re-exported for existing callers. */
export { mjpegQscale };

export interface CaptureSettings {
  readonly width: number | null;
  readonly height: number | null;
  readonly fps: number | null;
  readonly loop: boolean;
  /** Percent (0–90) by which the picture is made smaller. */
  readonly frameSizeReduction: number;
  /** Clockwise turn (0, 90, 180, 270) and mirrors. */
  readonly rotate: number;
  readonly hflip: boolean;
  readonly vflip: boolean;
  /** ffmpeg's deshake filter. */
  readonly stabilize: boolean;
  readonly jpeg: JpegSettings;
}

/**
 * What the capture process writes: raw pictures (y4m), JPEGs of ffmpeg's
 * encoder (mjpeg), or a camera's own JPEGs / H.264 copied (copy-jpeg, copy-h264).
 */
export type CaptureOutput = "y4m" | "mjpeg" | "copy-jpeg" | "copy-h264";

/** True when a filter must see the pictures, so a camera's own JPEG or H.264 cannot be passed on. */
export function needsFilter(s: CaptureSettings): boolean {
  return s.rotate !== 0 || s.hflip || s.vflip || s.stabilize || s.frameSizeReduction > 0;
}

/**
 * ffmpeg's stderr lines that are no problem. swscale calls JPEG's full-range
 * layouts (yuvj420p…, what ffmpeg's JPEG decoder gives for an image sequence
 * or a camera's MJPEG) "deprecated" at every scaler it sets up (a dozen lines
 * per start with slice threads), asking that the range be set: the filter
 * chain sets it (out_range=full), and the input's is known from its layout.
 */
export const FFMPEG_NOISE = /deprecated pixel format used, make sure you did set range correctly/;

export const TESTSRC_DEFAULT = { width: 1280, height: 720, fps: 30 } as const;
/** Image sequences play at this rate unless --fps says otherwise. */
export const GLOB_DEFAULT_FPS = 30;

const PIX_FMT: Record<JpegSubsampling, string> = { "420": "yuv420p", "422": "yuv422p", "444": "yuv444p", gray: "gray" };
/** ffmpeg's mjpeg encoder takes full-range ("J") layouts; it has no gray JPEG. */
const MJPEG_PIX_FMT: Record<JpegSubsampling, string> = { "420": "yuvj420p", "422": "yuvj422p", "444": "yuvj444p", gray: "yuvj420p" };

/**
 * `target` is where ffmpeg writes: stdout ("pipe:1") or a FIFO's path;
 * `inputFormat` is a V4L2 camera's (see camera-plan.ts).
 */
export function captureArgs(
  ffmpeg: string,
  spec: SourceSpec,
  s: CaptureSettings,
  output: CaptureOutput,
  target = "pipe:1",
  inputFormat: string | null = null,
  audio = false,
): string[] {
  const copy = output === "copy-jpeg" || output === "copy-h264";
  return [
    ffmpeg,
    "-hide_banner",
    "-nostdin",
    "-nostats",
    "-loglevel",
    "warning",
    ...inputArgs(spec, s, inputFormat),
    "-an",
    "-sn",
    "-dn",
    ...(copy ? [] : ["-vf", filterChain(spec, s, output)]),
    ...outputArgs(s.jpeg, output),
    // A FIFO exists already: -y lets ffmpeg open it instead of refusing to overwrite.
    ...(target === "pipe:1" ? [] : ["-y"]),
    target,
    // --audio source: the input's first audio track, Opus once, a second output on stdout (the pictures go to the FIFO).
    ...(audio && target !== "pipe:1" ? opusOutputArgs("0:a:0", "pipe:1") : []),
  ];
}

function inputArgs(spec: SourceSpec, s: CaptureSettings, inputFormat: string | null): string[] {
  switch (spec.kind) {
    case "v4l2":
      // The size and rate are asked of the camera itself: no scaling, no dropping.
      return [
        "-f",
        "v4l2",
        ...(inputFormat ? ["-input_format", inputFormat] : []),
        ...(s.width !== null && s.height !== null ? ["-video_size", `${s.width}x${s.height}`] : []),
        ...(s.fps !== null ? ["-framerate", String(s.fps)] : []),
        "-i",
        spec.device,
      ];
    case "libcamera":
      throw new Error("libcamera cameras are captured by rpicam-vid, not ffmpeg");
    case "whip":
      throw new Error("a WHIP ingest is fed by its publisher, not by ffmpeg");
    case "rtsp-push":
      throw new Error("an RTSP push ingest is fed by its publisher through the RTSP server, not by ffmpeg");
    case "testsrc": {
      const size = `${s.width ?? TESTSRC_DEFAULT.width}x${s.height ?? TESTSRC_DEFAULT.height}`;
      return ["-re", "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=${s.fps ?? TESTSRC_DEFAULT.fps}`];
    }
    case "file":
      // -re paces a file like a camera instead of decoding it as fast as possible.
      return ["-re", ...(s.loop ? ["-stream_loop", "-1"] : []), "-i", spec.path];
    case "glob":
      return [
        "-re",
        "-framerate",
        String(s.fps ?? GLOB_DEFAULT_FPS),
        ...(s.loop ? ["-loop", "1"] : []),
        "-f",
        "image2",
        "-pattern_type",
        "glob",
        "-i",
        spec.pattern,
      ];
    case "url":
      return [...networkInputArgs(spec.scheme, s.loop), "-i", spec.url];
  }
}

function networkInputArgs(scheme: string, loop: boolean): string[] {
  const lowDelay = ["-fflags", "nobuffer", "-flags", "low_delay"];
  switch (scheme) {
    case "rtsp":
    case "rtsps":
      return [...lowDelay, "-rtsp_transport", "tcp", "-timeout", "10000000"];
    case "http":
    case "https":
      // Pace http(s) files (HLS, mp4) in real time; a live MJPEG/HLS camera is paced by nature.
      return ["-re", ...(loop ? ["-stream_loop", "-1"] : []), "-rw_timeout", "10000000"];
    case "rtmp":
    case "rtmps":
      return [...lowDelay, "-rw_timeout", "10000000"];
    default:
      return lowDelay;
  }
}

/** The picture size expression for ffmpeg's scale filter, or null to keep the source's. */
export function scaleSize(s: CaptureSettings, sizedAtSource: boolean): { w: string; h: string } | null {
  const f = (100 - s.frameSizeReduction) / 100;
  // The test pattern is generated, and a camera captures, at the asked size: only the reduction is left to scale.
  const w = sizedAtSource ? null : s.width;
  const h = sizedAtSource ? null : s.height;
  if (w === null && h === null && f === 1) return null;
  const even = (expr: string) => `max(2\\,trunc(${expr}/2)*2)`;
  if (w !== null && h !== null) return { w: even(`${w}*${f}`), h: even(`${h}*${f}`) };
  if (w !== null) return { w: even(`${w}*${f}`), h: "-2" };
  if (h !== null) return { w: "-2", h: even(`${h}*${f}`) };
  return { w: even(`iw*${f}`), h: even(`ih*${f}`) };
}

export function filterChain(spec: SourceSpec, s: CaptureSettings, output: CaptureOutput): string {
  const filters: string[] = [];
  if (s.stabilize) filters.push("deshake");
  if (s.hflip) filters.push("hflip");
  if (s.vflip) filters.push("vflip");
  if (s.rotate === 90) filters.push("transpose=clock");
  else if (s.rotate === 270) filters.push("transpose=cclock");
  else if (s.rotate === 180) filters.push("hflip", "vflip");
  if (s.fps !== null && (spec.kind === "file" || spec.kind === "url")) filters.push(`fps=${s.fps}`);
  const size = scaleSize(s, spec.kind === "testsrc" || spec.kind === "v4l2");
  // One swscale pass does the resize, the conversion to JPEG's YCbCr (full
  // range, BT.601 matrix: a source that says it is BT.709, e.g. an HD file,
  // is converted; an unsaid one is taken as BT.601) and the chroma
  // resampling to the asked subsampling.
  const scaleFlags = s.jpeg.fastUpsample ? "fast_bilinear" : "bicubic";
  filters.push(`scale=${size ? `w=${size.w}:h=${size.h}:` : ""}${JPEG_YCBCR}:flags=${scaleFlags}`);
  const sub = s.jpeg.subsampling;
  filters.push(`format=${output === "y4m" ? PIX_FMT[sub] : MJPEG_PIX_FMT[sub]}`);
  if (output === "mjpeg" && sub === "gray") filters.splice(filters.length - 1, 0, "hue=s=0");
  return filters.join(",");
}

function outputArgs(jpeg: JpegSettings, output: CaptureOutput): string[] {
  if (output === "y4m") return ["-f", "yuv4mpegpipe", "-strict", "-1"];
  if (output === "copy-jpeg") return ["-c:v", "copy", "-f", "mjpeg"];
  // Parameter sets are put before keyframes that lack them by the reader (frame-parsers.ts).
  if (output === "copy-h264") return ["-c:v", "copy", "-f", "h264"];
  // An RTSP publisher may send SPS/PPS only in its SDP (x264 through ffmpeg's RTSP muxer does): put them before every keyframe.
  return ["-c:v", "mjpeg", "-q:v", String(mjpegQscale(jpeg.quality)), ...(jpeg.fastDct ? ["-dct", "fastint"] : []), "-f", "mjpeg"];
}
