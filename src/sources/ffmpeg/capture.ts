/**
 * A source captured by an ffmpeg child process: testsrc, a file, an image
 * sequence, a network stream or a V4L2 camera. It writes YUV4MPEG2 (raw
 * pictures that libjpeg-turbo encodes), ffmpeg's own JPEGs when libjpeg-turbo
 * is missing, or a camera's own JPEGs / H.264 copied untouched. A camera's
 * formats are asked at each start (it may have been swapped meanwhile).
 */
import { probeV4l2Formats } from "../../devices/ffmpeg-list-formats.ts";
import { log } from "../../log.ts";
import type { Frame } from "../../media/frame.ts";
import { planV4l2, type InputFormat, type V4l2Plan } from "../camera-plan.ts";
import { runCapture } from "../capture-run.ts";
import { h264Frames, jpegFrames, y4mFrames, type FrameParser } from "../frame-parsers.ts";
import { describeSource, isFinite, sourceSecrets, type SourceSpec } from "../source-spec.ts";
import type { Source } from "../source.ts";
import { resolveStreamUrl } from "../stream-mode.ts";
import { captureArgs, FFMPEG_NOISE, needsFilter, type CaptureOutput, type CaptureSettings } from "./args.ts";

export interface FfmpegCaptureOptions {
  readonly ffmpeg: string;
  readonly spec: SourceSpec;
  readonly settings: CaptureSettings;
  /** How raw pictures leave ffmpeg: y4m for libjpeg-turbo, or mjpeg (ffmpeg's encoder). */
  readonly output: "y4m" | "mjpeg";
  /** Names this capture in log lines. */
  readonly label: string;
  /** Shown in logs and pages instead of the source's own (e.g. why it was chosen). */
  readonly description?: string;
  /** For a V4L2 camera: the format asked (auto: planned from what it offers) and whether WebRTC is served. */
  readonly camera?: { readonly inputFormat: InputFormat; readonly webrtc: boolean; readonly passthrough: boolean };
  /** yt-dlp's path when the source is a streaming site's page (--stream-mode). */
  readonly ytDlp?: string | null;
}

export class FfmpegCapture implements Source {
  readonly description: string;
  readonly finite: boolean;
  readonly restartable = true;
  #lastPlan = "";

  constructor(private readonly options: FfmpegCaptureOptions) {
    this.description = options.description ?? describeSource(options.spec);
    this.finite = isFinite(options.spec);
  }

  async *frames(signal: AbortSignal): AsyncGenerator<Frame> {
    const o = this.options;
    let spec = o.spec;
    if (o.ytDlp && spec.kind === "url") spec = await resolveStreamUrl(o.ytDlp, spec.url, o.settings.height, o.label);
    let output: CaptureOutput = o.output;
    let inputFormat: string | null = null;
    if (spec.kind === "v4l2") {
      const plan = await this.#planCamera(spec.device);
      inputFormat = plan.inputFormat;
      if (plan.delivery === "jpeg") output = "copy-jpeg";
      else if (plan.delivery === "h264") output = "copy-h264";
    }
    const parse: FrameParser = output === "y4m" ? y4mFrames() : output === "copy-h264" ? h264Frames() : jpegFrames();
    yield* runCapture({
      argv: (fifo) => captureArgs(o.ffmpeg, spec, o.settings, output, fifo ?? "pipe:1", inputFormat),
      fifo: true, parse, label: o.label, tool: "ffmpeg", noise: FFMPEG_NOISE,
      secrets: [...new Set([...sourceSecrets(o.spec), ...sourceSecrets(spec)])],
    }, signal);
  }

  async #planCamera(device: string): Promise<V4l2Plan> {
    const camera = this.options.camera ?? { inputFormat: "auto", webrtc: false, passthrough: true };
    const needs = { filtered: needsFilter(this.options.settings) || !camera.passthrough, webrtc: camera.webrtc };
    // Asked only for auto: an explicit format is ffmpeg's to refuse.
    const offered = camera.inputFormat === "auto"
      ? (await probeV4l2Formats(this.options.ffmpeg, device)).flatMap((f) => f.ffmpegName ? [f.ffmpegName] : [])
      : null;
    const plan = planV4l2(camera.inputFormat, offered, needs);
    const said = `${device} gives ${offered ? offered.join(", ") : "?"}; capturing ${plan.inputFormat ?? "its default format"}, ${
      plan.delivery === "jpeg" ? "its JPEGs passed to MJPEG viewers untouched"
        : plan.delivery === "h264" ? "its H.264 passed to WebRTC viewers untouched" : "decoded to raw pictures"}`;
    if (said !== this.#lastPlan) log.info(`${this.options.label}: ${said}`);
    this.#lastPlan = said;
    return plan;
  }
}
