/**
 * One run of a capture process: start it, read what it writes (through a FIFO
 * into one reused buffer, or its stdout), parse the bytes into frames, and
 * stop it when the run is aborted. A process that exits with an error ends
 * the run with a SourceError carrying its last stderr line.
 */
import { spawnOwned, type OwnedChild } from "../process/child.ts";
import { Fifo } from "../process/fifo.ts";
import { readFifoOffPool } from "../process/fifo-reader.ts";
import type { Frame } from "../media/frame.ts";
import type { FrameParser } from "./frame-parsers.ts";
import type { AudioTap } from "./audio/audio-tap.ts";
import { SourceError } from "./source.ts";

export interface CaptureRun {
  /** The command line; `fifo` is the FIFO's path when one is used (the command names it). */
  readonly argv: (fifo: string | null) => readonly string[];
  /** Read through a FIFO (true) or the child's stdout. */
  readonly fifo: boolean;
  readonly parse: FrameParser;
  /** Names the process in log lines, e.g. capture[main]. */
  readonly label: string;
  /** Names the program in error messages, e.g. ffmpeg. */
  readonly tool: string;
  /** stderr lines known to be harmless: logged at debug level, not as warnings. */
  readonly noise?: RegExp;
  /** What its stderr and command line must not show (see redact.ts). */
  readonly secrets?: readonly string[];
  /** The process also writes the source's audio, Ogg Opus on its stdout (the pictures go to the FIFO): handed here. */
  readonly audio?: AudioTap;
}

export async function* runCapture(run: CaptureRun, signal: AbortSignal): AsyncGenerator<Frame> {
  let lastError = "";
  const fifo = run.fifo ? new Fifo() : null;
  const child = spawnOwned(run.argv(fifo?.path ?? null), {
    label: run.label,
    stderrLevel: "warn",
    noise: run.noise,
    secrets: run.secrets,
    onStderrLine: (line) => {
      if (!run.audio?.line(line)) lastError = line;
    },
  });
  const audio = run.audio && fifo ? pumpAudio(child, run.audio) : null;
  const stop = () => void child.stop();
  let reading = false;
  signal.addEventListener("abort", stop, { once: true });
  try {
    reading = true;
    for await (const chunk of fifo ? readFifo(fifo, child) : child.stdout) {
      for (const frame of run.parse(chunk)) yield frame;
      if (signal.aborted) return;
    }
    const code = await child.exited;
    if (signal.aborted) return;
    if (code !== 0) throw new SourceError(`${run.tool} exited with ${code}${lastError ? `: ${lastError}` : ""}`);
  } finally {
    signal.removeEventListener("abort", stop);
    // Once read, the FIFO is the reader's to remove (not while it still waits in open(): nothing could release it then).
    if (!reading) fifo?.remove();
    await child.stop();
    await audio;
  }
}

/** The audio output on the child's stdout, read as it comes (never left to block the process). */
async function pumpAudio(child: OwnedChild, tap: AudioTap): Promise<void> {
  tap.begin(child.pid);
  try {
    for await (const chunk of child.stdout) tap.write(chunk);
  } catch {
    // The pipe closes with the process.
  } finally {
    tap.end();
  }
}

/** Reads the FIFO off Bun's thread pool, into reused buffers: each chunk is valid until the next one is read. */
async function* readFifo(fifo: Fifo, child: OwnedChild): AsyncGenerator<Uint8Array> {
  // The process may die before it opens its end (a bad input): that must end the reader's wait too.
  const chunks = readFifoOffPool(fifo.path, { writerGone: child.exited, release: () => fifo.release(), unlink: () => fifo.remove() });
  let ended = false;
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // Reading stops before the process ended: stop it before its FIFO loses
    // its reader, so that its "Broken pipe" is known as the noise of our stop.
    if (!ended) void child.stop();
    await chunks.return(undefined);
  }
}
