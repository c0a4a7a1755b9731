/**
 * A source captured by an ffmpeg child process: testsrc, a file, an image
 * sequence or a network stream. It writes YUV4MPEG2 (raw pictures that
 * libjpeg-turbo encodes) or, when libjpeg-turbo is missing, ffmpeg's own JPEGs.
 */
import { spawnOwned, type OwnedChild } from "../../process/child.ts";
import { Fifo } from "../../process/fifo.ts";
import type { Frame } from "../../stream/frame.ts";
import { JpegSplitter, jpegSize } from "../jpeg-splitter.ts";
import { describeSource, isFinite, type SourceSpec } from "../source-spec.ts";
import { SourceError, type Source } from "../source.ts";
import { Y4mReader } from "../y4m-reader.ts";
import { captureArgs, type CaptureOutput, type CaptureSettings } from "./args.ts";

const READ_BUFFER_BYTES = 1 << 20;

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
  readonly restartable = true;

  constructor(private readonly options: FfmpegCaptureOptions) {
    this.description = describeSource(options.spec);
    this.finite = isFinite(options.spec);
  }

  async *frames(signal: AbortSignal): AsyncGenerator<Frame> {
    const o = this.options;
    let lastError = "";
    // Raw video comes through a FIFO read into one reused buffer (no garbage per
    // chunk); ffmpeg's own JPEGs come through stdout, whose chunks the splitter keeps.
    const fifo = o.output === "y4m" ? new Fifo() : null;
    const child = spawnOwned(captureArgs(o.ffmpeg, o.spec, o.settings, o.output, fifo?.path), {
      label: o.label,
      stderrLevel: "warn",
      onStderrLine: (line) => { lastError = line; },
    });
    const stop = () => void child.stop();
    signal.addEventListener("abort", stop, { once: true });
    const parse = fifo ? y4mFrames() : jpegFrames();
    try {
      for await (const chunk of fifo ? readFifo(fifo, child) : child.stdout) {
        for (const frame of parse(chunk)) yield frame;
        if (signal.aborted) return;
      }
      const code = await child.exited;
      if (signal.aborted) return;
      if (code !== 0) throw new SourceError(`ffmpeg exited with ${code}${lastError ? `: ${lastError}` : ""}`);
    } finally {
      signal.removeEventListener("abort", stop);
      fifo?.remove();
      await child.stop();
    }
  }
}

/** Reads the FIFO into one reused buffer: each chunk is valid until the next one is read. */
async function* readFifo(fifo: Fifo, child: OwnedChild): AsyncGenerator<Uint8Array> {
  // ffmpeg may die before it opens its end (a bad input): that must end our wait too.
  void child.exited.then(() => fifo.release());
  const handle = await fifo.openForReading();
  const buffer = new Uint8Array(READ_BUFFER_BYTES);
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
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
