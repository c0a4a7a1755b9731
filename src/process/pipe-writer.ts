/**
 * Writes to a child's stdin without ever queueing without bound: bytes wait
 * in the pipe only up to `maxPendingBytes` (0: nothing may wait); past that a
 * write is refused and the caller skips that frame. Used by the H.264
 * encoder (pictures in) and decoder (access units in).
 */
import type { FileSink } from "bun";

export class PipeWriter {
  /** Bytes handed to the pipe since the last completed flush. */
  #pending = 0;
  #flushes = 0;

  constructor(
    private readonly sink: FileSink,
    private readonly maxPendingBytes = 0,
  ) {}

  /** True while something is still waiting to be written. */
  get busy(): boolean {
    return this.#pending > 0;
  }

  /** Writes the chunks and returns true, or returns false (nothing written) when too much is waiting. Throws if the pipe is closed. */
  write(...chunks: Uint8Array[]): boolean {
    if (this.#pending > this.maxPendingBytes) return false;
    for (const chunk of chunks) {
      this.sink.write(chunk);
      this.#pending += chunk.length;
    }
    const flushed = this.sink.flush();
    if (flushed instanceof Promise) {
      const n = ++this.#flushes;
      const done = () => {
        if (n === this.#flushes) this.#pending = 0;
      };
      flushed.then(done, done);
    } else {
      this.#pending = 0;
    }
    return true;
  }

  end(): void {
    try {
      void this.sink.end();
    } catch {
      /* already closed */
    }
  }
}
