/**
 * MJPEG fan-out for one Stream. Each viewer is a pull-based byte stream: the
 * HTTP server pulls the next part only when the viewer's socket has drained,
 * and the viewer then gets the newest part. A slow viewer therefore skips
 * frames instead of queueing them, holds at most the part being written, and
 * never slows the others. The part is built once per frame for all viewers,
 * and nothing is encoded while no viewer is waiting.
 */
import type { EncodedFrame, Stream } from "../../stream/stream.ts";
import { mjpegPart } from "./part.ts";

interface Waiting {
  controller: ReadableStreamDefaultController<Uint8Array>;
  resolve: () => void;
}

interface Viewer {
  /** Sequence number of the last frame sent to this viewer. */
  lastSeq: number;
  waiting: Waiting | null;
}

export class MjpegBroadcaster {
  readonly #viewers = new Set<Viewer>();
  readonly #waiting = new Set<Viewer>();
  #unsubscribe: (() => void) | null = null;
  /** The part of the newest encoded frame, shared by every viewer. */
  #part: { jpeg: EncodedFrame; bytes: Uint8Array } | null = null;
  #framesSent = 0;

  constructor(readonly stream: Stream) {}

  get viewers(): number { return this.#viewers.size; }
  get framesSent(): number { return this.#framesSent; }

  /** A new viewer's body stream; it ends when the client goes away or `close()` runs. */
  open(): ReadableStream<Uint8Array> {
    const viewer: Viewer = { lastSeq: -1, waiting: null };
    return new ReadableStream<Uint8Array>({
      start: () => this.#add(viewer),
      pull: (controller) => this.#pull(viewer, controller),
      cancel: () => this.#remove(viewer),
    }, { highWaterMark: 0 });
  }

  /** Ends every viewer's stream (shutdown). */
  close(): void {
    for (const viewer of this.#viewers) {
      const waiting = viewer.waiting;
      this.#remove(viewer);
      if (waiting) { waiting.controller.close(); waiting.resolve(); }
    }
  }

  #add(viewer: Viewer): void {
    this.#viewers.add(viewer);
    this.#unsubscribe ??= this.stream.onFrame(() => this.#onFrame());
  }

  #remove(viewer: Viewer): void {
    this.#viewers.delete(viewer);
    this.#waiting.delete(viewer);
    viewer.waiting = null;
    if (this.#viewers.size === 0) {
      this.#unsubscribe?.();
      this.#unsubscribe = null;
    }
  }

  #pull(viewer: Viewer, controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> | void {
    if (this.stream.seq > viewer.lastSeq && this.#send(viewer, controller)) return;
    return new Promise<void>((resolve) => {
      viewer.waiting = { controller, resolve };
      this.#waiting.add(viewer);
    });
  }

  #onFrame(): void {
    if (this.#waiting.size === 0) return;
    for (const viewer of this.#waiting) {
      const waiting = viewer.waiting!;
      if (!this.#send(viewer, waiting.controller)) return; // nothing to show yet: keep waiting
      this.#waiting.delete(viewer);
      viewer.waiting = null;
      waiting.resolve();
    }
  }

  /** Enqueues the newest part for this viewer; false when there is no picture yet. */
  #send(viewer: Viewer, controller: ReadableStreamDefaultController<Uint8Array>): boolean {
    const part = this.#currentPart();
    if (!part) return false;
    viewer.lastSeq = this.stream.seq;
    controller.enqueue(part);
    this.#framesSent++;
    return true;
  }

  #currentPart(): Uint8Array | null {
    const jpeg = this.stream.latestJpeg();
    if (!jpeg) return null;
    // A repeated picture (placeholder) is the same JPEG: reuse its part.
    if (this.#part?.jpeg.data !== jpeg.data) this.#part = { jpeg, bytes: mjpegPart(jpeg.data) };
    return this.#part.bytes;
  }
}
