/**
 * MJPEG fan-out for one Stream. Each viewer is a pull-based byte stream: the
 * HTTP server pulls the next part only when the viewer's socket has drained,
 * and the viewer then gets the newest part. A slow viewer therefore skips
 * frames instead of queueing them, holds at most the part being written, and
 * never slows the others. The part is built once per frame for all viewers,
 * and nothing is encoded while no viewer is waiting.
 */
import type { Audience, Viewer as AudienceMember } from "../../stream/audience.ts";
import type { EncodedFrame, Stream } from "../../stream/stream.ts";
import { mjpegPart } from "./part.ts";

interface Viewer {
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  /** Sequence number of the last frame sent to this viewer. */
  lastSeq: number;
  /** Resolves the pending pull while the viewer waits for a newer frame. */
  resolve: (() => void) | null;
  /** Its place in the stream's audience (address, frames, skipped). */
  member: AudienceMember | null;
}

export class MjpegBroadcaster {
  readonly #viewers = new Set<Viewer>();
  readonly #waiting = new Set<Viewer>();
  #unsubscribe: (() => void) | null = null;
  /** The part of the newest encoded frame, shared by every viewer. */
  #part: { jpeg: EncodedFrame; bytes: Uint8Array } | null = null;

  constructor(
    readonly stream: Stream,
    readonly audience: Audience,
  ) {}

  get viewers(): number {
    return this.#viewers.size;
  }

  /** A new viewer's body stream; it ends when the client goes away or `close()` runs. */
  open(address = "unknown"): ReadableStream<Uint8Array> {
    const viewer: Viewer = { controller: null, lastSeq: -1, resolve: null, member: null };
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          viewer.controller = controller;
          this.#add(viewer, address);
        },
        pull: () => this.#pull(viewer),
        cancel: () => this.#remove(viewer),
      },
      { highWaterMark: 0 },
    );
  }

  /** Ends every viewer's stream cleanly (shutdown): each response finishes normally. */
  close(): void {
    for (const viewer of [...this.#viewers]) {
      const { controller, resolve } = viewer;
      this.#remove(viewer);
      try {
        controller?.close();
      } catch {
        /* already closed by the client */
      }
      resolve?.();
    }
  }

  #add(viewer: Viewer, address: string): void {
    viewer.member = this.audience.join("mjpeg", address);
    this.#viewers.add(viewer);
    this.#unsubscribe ??= this.stream.onFrame(() => this.#onFrame());
  }

  #remove(viewer: Viewer): void {
    viewer.member?.leave();
    this.#viewers.delete(viewer);
    this.#waiting.delete(viewer);
    viewer.resolve = null;
    if (this.#viewers.size === 0) {
      this.#unsubscribe?.();
      this.#unsubscribe = null;
    }
  }

  #pull(viewer: Viewer): Promise<void> | void {
    if (this.stream.seq > viewer.lastSeq && this.#send(viewer)) return;
    return new Promise<void>((resolve) => {
      viewer.resolve = resolve;
      this.#waiting.add(viewer);
    });
  }

  #onFrame(): void {
    if (this.#waiting.size === 0) return;
    for (const viewer of this.#waiting) {
      if (!this.#send(viewer)) return; // nothing to show yet: keep waiting
      const resolve = viewer.resolve!;
      this.#waiting.delete(viewer);
      viewer.resolve = null;
      resolve();
    }
  }

  /** Enqueues the newest part for this viewer; false when there is no picture yet. */
  #send(viewer: Viewer): boolean {
    const part = this.#currentPart();
    if (!part) return false;
    const seq = this.stream.seq;
    if (viewer.lastSeq >= 0) viewer.member?.skip(seq - viewer.lastSeq - 1);
    viewer.lastSeq = seq;
    viewer.controller!.enqueue(part);
    viewer.member?.sent();
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
