/**
 * One H.264 encoder per stream, shared by every WebRTC viewer: an ffmpeg
 * child that takes the stream's pictures on stdin (raw frames, or JPEGs when
 * the stream only has JPEGs) and writes access units to stdout: libx264's in
 * FLV, where each picture's length comes first, so that it is handed on as
 * soon as its last byte is in (flv-avc.ts); other encoders' as Annex B, where
 * a picture is only known to be complete when the next one begins (one frame
 * interval later).
 * Constrained baseline, no B-frames, zero latency: one access unit out per
 * picture in, which every browser decodes. When the encoder is busy a picture
 * is skipped, never queued. The pictures keep JPEG's colour (full-range
 * BT.601) and the SPS says so (h264-colour.ts, docs/colour.md).
 */
import { log } from "../log.ts";
import { AnnexBParser, type AccessUnit } from "../media/h264/annexb.ts";
import { FlvAvcReader } from "../media/flv/flv-avc.ts";
import { spawnOwned, type OwnedChild } from "../process/child.ts";
import { PipeWriter } from "../process/pipe-writer.ts";
import { JPEG_YCBCR, rawVideoInput } from "./ffmpeg-raw-input.ts";
import { colourMetadataBsf, colourOutputArgs } from "./h264-colour.ts";
import type { Frame, RawFormat } from "../media/frame.ts";

export const H264_ENCODERS = ["libx264", "h264_v4l2m2m"] as const;
export type H264EncoderName = (typeof H264_ENCODERS)[number];

export interface H264Settings {
  readonly encoder: H264EncoderName;
  readonly bitrateKbps: number;
  /** Frames between keyframes. */
  readonly keyint: number;
}

/** What the encoder reads: raw pictures of one size and layout, or JPEGs. */
export type H264Input = { readonly kind: "raw"; readonly format: RawFormat; readonly width: number; readonly height: number } | { readonly kind: "jpeg" };

export interface TimedAccessUnit extends AccessUnit {
  /**
   * 90 kHz RTP clock (performance.now() × 90): when its picture went into
   * the encoder, so that the encoder's own delay does not shift the picture
   * against the sound, which is stamped on the same clock (stream/audio-feed.ts).
   */
  readonly timestamp: number;
}

/** The input a frame needs, or null when the encoder cannot take it. */
export function inputOf(frame: Frame): H264Input | null {
  if (frame.kind === "raw") return { kind: "raw", format: frame.format, width: frame.width, height: frame.height };
  if (frame.kind === "jpeg") return { kind: "jpeg" };
  return null;
}

export function sameInput(a: H264Input, b: H264Input): boolean {
  return a.kind === b.kind && (a.kind === "jpeg" || (b.kind === "raw" && a.format === b.format && a.width === b.width && a.height === b.height));
}

/**
 * The filter that makes the encoder's input 4:2:0 full-range BT.601, or none
 * when it already is (I420, the stream's usual pictures: they go to the
 * encoder untouched). JPEGs are decoded as "yuvj" (full range) and raw 4:2:2,
 * 4:4:4 and gray pictures are said to be full range (rawVideoInput), so only
 * the chroma is resampled; RGB is converted with JPEG's matrix.
 */
export function h264Filter(input: H264Input): string | null {
  if (input.kind === "raw" && input.format === "i420") return null;
  return `scale=${JPEG_YCBCR}:flags=fast_bilinear,format=yuv420p`;
}

/** How the encoder's access units come out: FLV (libx264) or Annex B. */
export type H264Output = "flv" | "annexb";

/** FLV for libx264 (each picture handed on at once); Annex B for encoders whose FLV output is untested here. */
export function outputOf(s: H264Settings): H264Output {
  return s.encoder === "libx264" ? "flv" : "annexb";
}

/** The encoder's command line; `output` "annexb" writes a raw H.264 stream (what outputOf gives other encoders). */
export function h264Args(ffmpeg: string, input: H264Input, s: H264Settings, fps: number, output: H264Output = "annexb"): string[] {
  const inputArgs = input.kind === "raw" ? rawVideoInput(input.format, input.width, input.height) : ["-f", "mjpeg"];
  const rate = String(Math.max(1, Math.round(fps)));
  const kbps = s.bitrateKbps;
  const filter = h264Filter(input);
  // The pictures keep JPEG's full range and matrix, and the SPS says so (h264-colour.ts):
  // libx264 writes ffmpeg's colour options into its VUI; other encoders' SPS get it from a bitstream filter.
  const codec =
    s.encoder === "libx264"
      ? ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-profile:v", "baseline", "-x264-params", "repeat-headers=1:aud=1"]
      : ["-c:v", s.encoder, "-bsf:v", `${colourMetadataBsf()},dump_extra=freq=keyframe`];
  return [
    ffmpeg,
    "-hide_banner",
    "-nostats",
    "-loglevel",
    "warning",
    "-probesize",
    "32",
    "-analyzeduration",
    "0",
    "-fflags",
    "nobuffer",
    ...inputArgs,
    "-framerate",
    rate,
    "-i",
    "pipe:0",
    ...(filter ? ["-vf", filter] : []),
    "-pix_fmt",
    "yuv420p",
    ...colourOutputArgs(),
    ...codec,
    "-bf",
    "0",
    "-g",
    String(s.keyint),
    "-keyint_min",
    String(s.keyint),
    "-sc_threshold",
    "0",
    "-b:v",
    `${kbps}k`,
    "-maxrate",
    `${kbps}k`,
    "-bufsize",
    `${Math.max(1, Math.round(kbps / 2))}k`,
    "-an",
    ...(output === "flv" ? ["-f", "flv", "-flvflags", "no_duration_filesize", "-flush_packets", "1"] : ["-f", "h264"]),
    "pipe:1",
  ];
}

/** Pictures the encoder may hold at once (x264 zerolatency holds none; a hardware encoder a few); past it, stamps fall back to "now". */
const MAX_IN_FLIGHT = 30;
/** An input time this old belongs to no access unit still to come (the encoder dropped its picture). */
const STALE_INPUT_MS = 500;
/** Input times kept by picture number (a few seconds of pictures). */
const INPUT_RING = 256;

export class H264Encoder {
  readonly input: H264Input;
  readonly output: H264Output;
  readonly #child: OwnedChild;
  /** Pictures in; one that arrives while the previous is still being written is skipped. */
  readonly #stdin: PipeWriter;
  #stopped = false;
  #skipped = 0;
  /** When each picture still inside the encoder went in (one access unit comes out per picture, in order). */
  readonly #inputTimes: number[] = [];
  /** When picture n went in, at n % INPUT_RING (with n, to tell a stale slot): libx264's FLV tag time names n. */
  readonly #byIndex: { n: number; at: number }[] = [];
  #written = 0;
  /** The rate the encoder is told (-framerate): picture n has the time n / rate. */
  readonly #rate: number;

  constructor(
    ffmpeg: string,
    input: H264Input,
    settings: H264Settings,
    fps: number,
    onAccessUnit: (au: TimedAccessUnit) => void,
    label: string,
    output = outputOf(settings),
  ) {
    this.input = input;
    this.output = output;
    this.#rate = Math.max(1, Math.round(fps));
    this.#child = spawnOwned(h264Args(ffmpeg, input, settings, fps, this.output), {
      label,
      stderrLevel: "warn",
      stdin: "pipe",
      // swscale's note about JPEG's full-range ("yuvj") input, at every start: the range is set in the filter.
      noise: /deprecated pixel format used/,
    });
    this.#stdin = new PipeWriter(this.#child.stdin!);
    void this.#read(onAccessUnit);
  }

  get pid(): number {
    return this.#child.pid;
  }
  /** Pictures skipped because the encoder was still busy with the previous one. */
  get skipped(): number {
    return this.#skipped;
  }
  get exited(): Promise<number> {
    return this.#child.exited;
  }

  /** Hands over a picture; skipped if the previous one is not yet written. */
  write(frame: Frame): void {
    if (this.#stopped) return;
    const bytes =
      this.input.kind === "raw"
        ? frame.kind === "raw"
          ? frame.data
          : null
        : frame.kind === "jpeg"
          ? frame.data
          : frame.kind === "raw"
            ? (frame.jpeg ?? null)
            : null;
    if (!bytes) return;
    try {
      if (!this.#stdin.write(bytes)) this.#skipped++;
      else {
        const at = performance.now();
        if (this.#inputTimes.push(at) > MAX_IN_FLIGHT) this.#inputTimes.shift();
        this.#byIndex[this.#written % INPUT_RING] = { n: this.#written, at };
        this.#written++;
      }
    } catch (err) {
      log.debug(`h264 encoder: write failed: ${(err as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stdin.end();
    await this.#child.stop(1000);
  }

  async #read(onAccessUnit: (au: TimedAccessUnit) => void): Promise<void> {
    const parser = this.output === "flv" ? new FlvAvcReader() : new AnnexBParser();
    const emit = (aus: (AccessUnit & { ms?: number })[]) => {
      for (const au of aus) {
        const now = performance.now();
        // A picture the encoder dropped leaves its time behind: no access unit is that late.
        while (this.#inputTimes.length > 1 && now - this.#inputTimes[0]! > STALE_INPUT_MS) this.#inputTimes.shift();
        const queued = this.#inputTimes.shift();
        // FLV (libx264) names the picture (its tag time is n / rate): exact even when the encoder dropped one
        // while probing; otherwise the pictures in the order they went in.
        const n = au.ms === undefined ? -1 : Math.round((au.ms * this.#rate) / 1000);
        const named = n >= 0 && this.#byIndex[n % INPUT_RING]?.n === n ? this.#byIndex[n % INPUT_RING]!.at : undefined;
        const timestamp = Math.round((named ?? queued ?? now) * 90) >>> 0;
        onAccessUnit({ ...au, timestamp });
      }
    };
    try {
      for await (const chunk of this.#child.stdout) emit(parser.push(chunk));
      if (parser instanceof AnnexBParser) emit(parser.flush());
    } catch (err) {
      if (!this.#stopped) log.warn(`h264 encoder: ${(err as Error).message}`);
    }
  }
}
