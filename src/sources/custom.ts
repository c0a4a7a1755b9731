/**
 * Sources fed by a program that embeds glasscast: an async iterable of
 * frames, or a push function. Frames are raw pictures (I420, I422, I444,
 * GRAY, RGB, BGR, RGBA, BGRA with their size) or ready JPEGs, paced by the
 * producer. Each is checked before it reaches viewers; a bad frame, a throw
 * or the end of the iterable stops the stream like a camera that stops:
 * viewers see NO SIGNAL or END OF STREAM and the server stays up.
 */
import { rawFrameSize, type Frame, type RawFormat } from "../media/frame.ts";
import { jpegSize } from "../media/jpeg-splitter.ts";
import type { Source } from "./source.ts";

export type UserFrame =
  | { readonly format: RawFormat; readonly width: number; readonly height: number; readonly data: Uint8Array }
  | { readonly format: "jpeg"; readonly data: Uint8Array };

const RAW_FORMATS: readonly RawFormat[] = ["i420", "i422", "i444", "gray", "rgb", "bgr", "rgba", "bgra"];

export class FrameError extends Error {}

/** Checks a program's frame and turns it into a stream frame. */
export function toFrame(frame: UserFrame): Frame {
  if (!(frame?.data instanceof Uint8Array)) throw new FrameError("a frame needs its bytes in `data` (a Uint8Array or Buffer)");
  if (frame.format === "jpeg") {
    const { width, height } = jpegSize(frame.data);
    if (frame.data[0] !== 0xff || frame.data[1] !== 0xd8 || width === 0) throw new FrameError("a jpeg frame's data is not a JPEG picture");
    return { kind: "jpeg", width, height, data: frame.data };
  }
  const { format, width, height, data } = frame;
  if (!RAW_FORMATS.includes(format))
    throw new FrameError(`unknown frame format ${JSON.stringify(format)}; expected one of ${[...RAW_FORMATS, "jpeg"].join(", ")}`);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 && width <= 16384 && height <= 16384)) {
    throw new FrameError(`a ${format} frame needs a width and height from 1 to 16384 (given ${width}x${height})`);
  }
  const expected = rawFrameSize(format, width, height);
  if (data.length !== expected) throw new FrameError(`a ${width}x${height} ${format} frame has ${expected} bytes, not ${data.length}`);
  return { kind: "raw", format, width, height, data };
}

/** A stream fed by an async iterable (an async generator, say), ending when it ends. */
export function framesFrom(iterable: AsyncIterable<UserFrame>, description = "program frames"): Source {
  let used = false;
  return {
    description,
    finite: true,
    restartable: false,
    async *frames(signal: AbortSignal) {
      if (used) throw new Error(`${description} were already consumed: an iterable is read once`);
      used = true;
      for await (const frame of iterable) {
        if (signal.aborted) return;
        yield toFrame(frame);
      }
    },
  };
}

export interface PushSource {
  readonly source: Source;
  /** Hands over the newest frame (checked at once: a bad one throws here). Older unread ones are dropped. */
  push(frame: UserFrame): void;
  /** Ends the stream: viewers see END OF STREAM. */
  end(): void;
}

/** A stream the program pushes frames into, at its own pace. */
export function createPushSource(description = "pushed frames"): PushSource {
  let pending: Frame | null = null;
  let ended = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  return {
    source: {
      description,
      finite: true,
      restartable: false,
      async *frames(signal: AbortSignal) {
        signal.addEventListener("abort", notify, { once: true });
        while (!signal.aborted) {
          if (pending) {
            const frame = pending;
            pending = null;
            yield frame;
          } else if (ended) return;
          else
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
        }
      },
    },
    push(frame) {
      if (ended) throw new FrameError("push after end()");
      pending = toFrame(frame);
      notify();
    },
    end() {
      ended = true;
      notify();
    },
  };
}
