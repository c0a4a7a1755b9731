/**
 * The ffmpeg command line for a capture: input options per source kind, one
 * filter chain (rate, size, full-range colour, pixel layout), and the output:
 * YUV4MPEG2 raw pictures for libjpeg-turbo, or ffmpeg's own JPEGs when
 * libjpeg-turbo is not available.
 */
import type { JpegSettings, JpegSubsampling } from "../../encoders/jpeg-settings.ts";
import type { SourceSpec } from "../source-spec.ts";

export interface CaptureSettings {
  readonly width: number | null;
  readonly height: number | null;
  readonly fps: number | null;
  readonly loop: boolean;
  /** Percent (0–90) by which the picture is made smaller. */
  readonly frameSizeReduction: number;
  readonly jpeg: JpegSettings;
}

/** What the capture process writes to stdout. */
export type CaptureOutput = "y4m" | "mjpeg";

export const TESTSRC_DEFAULT = { width: 1280, height: 720, fps: 30 } as const;
/** Image sequences play at this rate unless --fps says otherwise. */
export const GLOB_DEFAULT_FPS = 30;

const PIX_FMT: Record<JpegSubsampling, string> = { "420": "yuv420p", "422": "yuv422p", "444": "yuv444p", gray: "gray" };
/** ffmpeg's mjpeg encoder takes full-range ("J") layouts; it has no gray JPEG. */
const MJPEG_PIX_FMT: Record<JpegSubsampling, string> = { "420": "yuvj420p", "422": "yuvj422p", "444": "yuvj444p", gray: "yuvj420p" };

/** `target` is where ffmpeg writes: stdout ("pipe:1") or a FIFO's path. */
export function captureArgs(ffmpeg: string, spec: SourceSpec, s: CaptureSettings, output: CaptureOutput,
  target = "pipe:1"): string[] {
  return [
    ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning",
    ...inputArgs(spec, s),
    "-an", "-sn", "-dn",
    "-vf", filterChain(spec, s, output),
    ...outputArgs(s.jpeg, output),
    // A FIFO exists already: -y lets ffmpeg open it instead of refusing to overwrite.
    ...(target === "pipe:1" ? [] : ["-y"]),
    target,
  ];
}

function inputArgs(spec: SourceSpec, s: CaptureSettings): string[] {
  switch (spec.kind) {
    case "testsrc": {
      const size = `${s.width ?? TESTSRC_DEFAULT.width}x${s.height ?? TESTSRC_DEFAULT.height}`;
      return ["-re", "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=${s.fps ?? TESTSRC_DEFAULT.fps}`];
    }
    case "file":
      // -re paces a file like a camera instead of decoding it as fast as possible.
      return ["-re", ...(s.loop ? ["-stream_loop", "-1"] : []), "-i", spec.path];
    case "glob":
      return ["-re", "-framerate", String(s.fps ?? GLOB_DEFAULT_FPS), ...(s.loop ? ["-loop", "1"] : []),
        "-f", "image2", "-pattern_type", "glob", "-i", spec.pattern];
    case "url":
      return [...networkInputArgs(spec.scheme, s.loop), "-i", spec.url];
  }
}

function networkInputArgs(scheme: string, loop: boolean): string[] {
  const lowDelay = ["-fflags", "nobuffer", "-flags", "low_delay"];
  switch (scheme) {
    case "rtsp": case "rtsps":
      return [...lowDelay, "-rtsp_transport", "tcp", "-timeout", "10000000"];
    case "http": case "https":
      // Pace http(s) files (HLS, mp4) in real time; a live MJPEG/HLS camera is paced by nature.
      return ["-re", ...(loop ? ["-stream_loop", "-1"] : []), "-rw_timeout", "10000000"];
    case "rtmp": case "rtmps":
      return [...lowDelay, "-rw_timeout", "10000000"];
    default:
      return lowDelay;
  }
}

/** The picture size expression for ffmpeg's scale filter, or null to keep the source's. */
export function scaleSize(s: CaptureSettings, isTestsrc: boolean): { w: string; h: string } | null {
  const f = (100 - s.frameSizeReduction) / 100;
  // The test pattern is generated at the asked size: only the reduction is left to scale.
  const w = isTestsrc ? null : s.width;
  const h = isTestsrc ? null : s.height;
  if (w === null && h === null && f === 1) return null;
  const even = (expr: string) => `max(2\\,trunc(${expr}/2)*2)`;
  if (w !== null && h !== null) return { w: even(`${w}*${f}`), h: even(`${h}*${f}`) };
  if (w !== null) return { w: even(`${w}*${f}`), h: "-2" };
  if (h !== null) return { w: "-2", h: even(`${h}*${f}`) };
  return { w: even(`iw*${f}`), h: even(`ih*${f}`) };
}

export function filterChain(spec: SourceSpec, s: CaptureSettings, output: CaptureOutput): string {
  const filters: string[] = [];
  if (s.fps !== null && (spec.kind === "file" || spec.kind === "url")) filters.push(`fps=${s.fps}`);
  const size = scaleSize(s, spec.kind === "testsrc");
  // One swscale pass does the resize, the conversion to full range (JPEG's
  // YCbCr) and the chroma resampling to the asked subsampling.
  const scaleFlags = s.jpeg.fastUpsample ? "fast_bilinear" : "bicubic";
  filters.push(`scale=${size ? `w=${size.w}:h=${size.h}:` : ""}out_range=full:flags=${scaleFlags}`);
  const sub = s.jpeg.subsampling;
  filters.push(`format=${output === "y4m" ? PIX_FMT[sub] : MJPEG_PIX_FMT[sub]}`);
  if (output === "mjpeg" && sub === "gray") filters.splice(filters.length - 1, 0, "hue=s=0");
  return filters.join(",");
}

function outputArgs(jpeg: JpegSettings, output: CaptureOutput): string[] {
  if (output === "y4m") return ["-f", "yuv4mpegpipe", "-strict", "-1"];
  return ["-c:v", "mjpeg", "-q:v", String(mjpegQscale(jpeg.quality)),
    ...(jpeg.fastDct ? ["-dct", "fastint"] : []), "-f", "mjpeg"];
}

/**
 * ffmpeg's mjpeg encoder takes a quantiser scale (2 best … 31 worst) rather
 * than libjpeg's 1–100 quality. This maps libjpeg's quality scaling curve onto
 * it so that --jpeg-quality keeps its meaning with the fallback encoder.
 */
export function mjpegQscale(quality: number): number {
  const scale = quality < 50 ? 5000 / quality : 200 - 2 * quality; // libjpeg's percent scaling
  return Math.min(31, Math.max(2, Math.round((scale / 100) * 8)));
}
