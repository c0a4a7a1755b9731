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
import type { AudioTap } from "../audio/audio-tap.ts";
import { LEVEL_NOISE } from "../audio/opus-args.ts";
import { SourceError } from "../source.ts";
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
  /** --audio source: the input's audio track is encoded by this process too and handed here. */
  readonly audio?: AudioTap;
}

/** ffmpeg's words for an input without the audio track asked for (`[0:a:0]` in the filter graph). */
const NO_AUDIO_TRACK = /Stream specifier ':a:0' .* matches no streams/;
/** NO_AUDIO_TRACK too: the capture is run again without sound, with a warning of its own (ffmpeg's line stays the error's reason). */
const AUDIO_NOISE = new RegExp(`${FFMPEG_NOISE.source}|${LEVEL_NOISE.source}|${NO_AUDIO_TRACK.source}`);

export class FfmpegCapture implements Source {
  readonly description: string;
  readonly finite: boolean;
  readonly restartable = true;
  #lastPlan = "";
  /** The source turned out to have no audio track: captured without (said once). */
  #noAudio = false;

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
    const parse = (): FrameParser => (output === "y4m" ? y4mFrames() : output === "copy-h264" ? h264Frames() : jpegFrames());
    const run = (audio: AudioTap | undefined) =>
      runCapture(
        {
          argv: (fifo) => captureArgs(o.ffmpeg, spec, o.settings, output, fifo ?? "pipe:1", inputFormat, audio !== undefined),
          fifo: true,
          parse: parse(),
          label: o.label,
          tool: "ffmpeg",
          noise: audio ? AUDIO_NOISE : FFMPEG_NOISE,
          secrets: [...new Set([...sourceSecrets(o.spec), ...sourceSecrets(spec)])],
          audio,
        },
        signal,
      );
    const audio = this.#noAudio ? undefined : o.audio;
    if (!audio) return yield* run(undefined);
    let delivered = false;
    try {
      for await (const frame of run(audio)) {
        delivered = true;
        yield frame;
      }
    } catch (err) {
      // A source without sound is still a source: captured without it from now on, at once.
      if (delivered || !(err instanceof SourceError) || !NO_AUDIO_TRACK.test(err.message)) throw err;
      this.#noAudio = true;
      log.warn(`${o.label}: ${this.description} has no audio track; --audio source gives silence`, { event: "audio.none" });
      yield* run(undefined);
    }
  }

  async #planCamera(device: string): Promise<V4l2Plan> {
    const camera = this.options.camera ?? { inputFormat: "auto", webrtc: false, passthrough: true };
    const needs = { filtered: needsFilter(this.options.settings) || !camera.passthrough, webrtc: camera.webrtc };
    // Asked only for auto: an explicit format is ffmpeg's to refuse.
    const offered =
      camera.inputFormat === "auto" ? (await probeV4l2Formats(this.options.ffmpeg, device)).flatMap((f) => (f.ffmpegName ? [f.ffmpegName] : [])) : null;
    const plan = planV4l2(camera.inputFormat, offered, needs);
    const said = `${device} gives ${offered ? offered.join(", ") : "?"}; capturing ${plan.inputFormat ?? "its default format"}, ${
      plan.delivery === "jpeg"
        ? "its JPEGs passed to MJPEG viewers untouched"
        : plan.delivery === "h264"
          ? "its H.264 passed to WebRTC viewers untouched"
          : "decoded to raw pictures"
    }`;
    if (said !== this.#lastPlan) log.info(`${this.options.label}: ${said}`);
    this.#lastPlan = said;
    return plan;
  }
}
