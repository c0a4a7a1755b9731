/**
 * Reads a FIFO off Bun's shared thread pool. `FileHandle.read()` (and the
 * blocking open of a FIFO) run on that pool, next to Bun.password.verify:
 * 100 wrong logins against an argon2 hash left a capture at 2 frames in
 * 12 s. Here a worker thread of the capture's own does the blocking calls
 * into two shared buffers taken in turn, so nothing is allocated per chunk
 * (what the FIFO is for) and nothing waits behind a password check.
 */
import { FIFO_READER_SOURCE, type FifoReaderMessage, type FifoReaderStart } from "./fifo-reader-worker.ts";

const BUFFER_BYTES = 1 << 20;
const STOP = 2;

let url: string | null = null;
function workerUrl(): string {
  url ??= URL.createObjectURL(new Blob([FIFO_READER_SOURCE], { type: "application/javascript" }));
  return url;
}

export interface FifoEnds {
  /** Settles when the writer (the child process) is gone: a reader still waiting for it must stop waiting. */
  readonly writerGone: Promise<unknown>;
  /** Opens and closes a writing end, which ends a reader's wait in open() (see Fifo.release). */
  release(): void;
  /** Removes the FIFO's name; called once the reader has it open, or is done (never while it waits in open()). */
  unlink(): void;
}

/** How often a reader still waiting for a writer that is gone is released again (it may not have been waiting yet). */
const RELEASE_RETRY_MS = 20;

/**
 * The bytes of the FIFO at `path` until its writer closes it; each chunk is
 * valid until the next one is asked for.
 */
export async function* readFifoOffPool(path: string, ends: FifoEnds): AsyncGenerator<Uint8Array> {
  const buffers: [SharedArrayBuffer, SharedArrayBuffer] = [new SharedArrayBuffer(BUFFER_BYTES), new SharedArrayBuffer(BUFFER_BYTES)];
  const control = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  const ctrl = new Int32Array(control);
  const views = [new Uint8Array(buffers[0]), new Uint8Array(buffers[1])] as const;
  const queue: FifoReaderMessage[] = [];
  let wake: (() => void) | null = null;
  const worker = new Worker(workerUrl());
  worker.unref();
  let state: "waiting" | "open" | "done" = "waiting";
  const deliver = (message: FifoReaderMessage) => {
    if (message.type === "open") {
      state = "open";
      ends.unlink();
    } else if (message.type === "end" || message.type === "error") {
      // A worker that ended (or failed) has closed its descriptor: its thread can go.
      state = "done";
      worker.terminate();
      ends.unlink();
    }
    queue.push(message);
    wake?.();
  };
  // The writer may die before it opens its end, and before the worker is even in open(): release it until it is out.
  void ends.writerGone.then(async () => {
    while (state === "waiting") {
      ends.release();
      await Bun.sleep(RELEASE_RETRY_MS);
    }
  });
  worker.onmessage = (event: MessageEvent<FifoReaderMessage>) => deliver(event.data);
  worker.onerror = (event) => deliver({ type: "error", message: event.message });
  worker.postMessage({ path, buffers, control } satisfies FifoReaderStart);

  let held: 0 | 1 | null = null;
  const release = (index: 0 | 1) => {
    Atomics.store(ctrl, index, 0);
    Atomics.notify(ctrl, index);
  };
  try {
    for (;;) {
      if (held !== null) release(held);
      held = null;
      while (queue.length === 0)
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      wake = null;
      const message = queue.shift()!;
      if (message.type === "open") continue;
      if (message.type === "data") {
        held = message.index;
        yield views[message.index].subarray(0, message.length);
      } else if (message.type === "end") return;
      else throw new Error(`reading the capture's FIFO failed: ${message.message}`);
    }
  } finally {
    // The worker stops at its next chunk; one blocked in read() ends when the writer (being stopped) closes.
    Atomics.store(ctrl, STOP, 1);
    release(0);
    release(1);
  }
}
