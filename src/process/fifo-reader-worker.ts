/**
 * The thread that reads a capture's FIFO (see fifo-reader.ts): blocking
 * open() and read() calls on a thread of its own, into two shared buffers
 * taken in turn. Never Bun's shared thread pool, where Bun.password.verify
 * and file I/O run: a burst of logins there froze every viewer's video.
 *
 * control[0], control[1]: 1 while buffer 0 / 1 holds bytes the reader has
 * not released; control[2]: 1 when the reader wants no more.
 *
 * The worker's code is a string run from a Blob URL: it then needs no file
 * of its own, in `bun run` as in the one-file program.
 */

export interface FifoReaderStart {
  readonly path: string;
  readonly buffers: readonly [SharedArrayBuffer, SharedArrayBuffer];
  readonly control: SharedArrayBuffer;
}

export type FifoReaderMessage =
  | { readonly type: "open" }
  | { readonly type: "data"; readonly index: 0 | 1; readonly length: number }
  | { readonly type: "end" }
  | { readonly type: "error"; readonly message: string };

export const FIFO_READER_SOURCE = `
const { closeSync, openSync, readSync } = require("node:fs");
const STOP = 2;
self.onmessage = (event) => {
  const { path, buffers, control } = event.data;
  const ctrl = new Int32Array(control);
  const views = [new Uint8Array(buffers[0]), new Uint8Array(buffers[1])];
  let fd;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    self.postMessage({ type: "error", message: String(err && err.message) });
    return;
  }
  self.postMessage({ type: "open" });
  let index = 0;
  try {
    for (;;) {
      while (Atomics.load(ctrl, index) !== 0 && Atomics.load(ctrl, STOP) === 0) Atomics.wait(ctrl, index, 1, 1000);
      if (Atomics.load(ctrl, STOP) !== 0) break;
      const view = views[index];
      const length = readSync(fd, view, 0, view.length, null);
      if (length === 0) break;
      Atomics.store(ctrl, index, 1);
      self.postMessage({ type: "data", index, length });
      index = index === 0 ? 1 : 0;
    }
    self.postMessage({ type: "end" });
  } catch (err) {
    self.postMessage({ type: "error", message: String(err && err.message) });
  } finally {
    closeSync(fd);
  }
};
`;
