/**
 * A source captured by an ffmpeg child process: testsrc, a file, an image
 * sequence or a network stream. It writes YUV4MPEG2 (raw pictures that
 * libjpeg-turbo encodes) or, when libjpeg-turbo is missing, ffmpeg's own JPEGs.
 */
import { spawnOwned } from "../../process/child.ts";
import type { Frame } from "../../stream/frame.ts";
import { JpegSplitter } from "../jpeg-splitter.ts";
import { describeSource, isFinite, type SourceSpec } from "../source-spec.ts";
import { SourceError, type Source } from "../source.ts";
import { Y4mReader } from "../y4m-reader.ts";
import { captureArgs, type CaptureOutput, type CaptureSettings } from "./args.ts";

export interface FfmpegCaptureOptions {
  readonly ffmpeg: string;
  readonly spec: SourceSpec;
  readonly settings: CaptureSettings;
  readonly output: CaptureOutput;
  /** Names this capture in log lines. */
  readonly label: string;
}

export class FfmpegCapture implements Source {
  readonly description: string;
  readonly finite: boolean;

  constructor(private readonly options: FfmpegCaptureOptions) {
    this.description = describeSource(options.spec);
    this.finite = isFinite(options.spec);
  }

  get argv(): string[] {
    const o = this.options;
    return captureArgs(o.ffmpeg, o.spec, o.settings, o.output);
  }

  async *frames(signal: AbortSignal): AsyncGenerator<Frame> {
    let lastError = "";
    const child = spawnOwned(this.argv, {
      label: this.options.label,
      stderrLevel: "warn",
      onStderrLine: (line) => { lastError = line; },
    });
    const stop = () => void child.stop();
    signal.addEventListener("abort", stop, { once: true });
    const parse = this.options.output === "y4m" ? y4mFrames() : jpegFrames();
    try {
      for await (const chunk of child.stdout) {
        for (const frame of parse(chunk)) yield frame;
        if (signal.aborted) return;
      }
      const code = await child.exited;
      if (signal.aborted) return;
      if (code !== 0) throw new SourceError(`ffmpeg exited with ${code}${lastError ? `: ${lastError}` : ""}`);
    } finally {
      signal.removeEventListener("abort", stop);
      await child.stop();
    }
  }
}

function y4mFrames(): (chunk: Uint8Array) => Frame[] {
  const reader = new Y4mReader();
  return (chunk) => reader.push(chunk);
}

function jpegFrames(): (chunk: Uint8Array) => Frame[] {
  const splitter = new JpegSplitter();
  return (chunk) => splitter.push(chunk).map((data) => {
    const { width, height } = jpegSize(data);
    return { kind: "jpeg", width, height, data };
  });
}

/** Reads the picture size from a JPEG's SOF segment (0, 0 if there is none). */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } {
  let i = 2;
  while (i + 9 < jpeg.length) {
    if (jpeg[i] !== 0xff) { i++; continue; }
    const marker = jpeg[i + 1]!;
    if (marker === 0xff) { i++; continue; }
    const len = (jpeg[i + 2]! << 8) | jpeg[i + 3]!;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { height: (jpeg[i + 5]! << 8) | jpeg[i + 6]!, width: (jpeg[i + 7]! << 8) | jpeg[i + 8]! };
    if (marker === 0xda) break;
    i += 2 + len;
  }
  return { width: 0, height: 0 };
}
