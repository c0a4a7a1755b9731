/**
 * A Stream owns one capture and keeps only its newest frame (the slot) with
 * the listeners told of each new one. Outputs never talk to the source: they
 * listen for "a newer frame exists" and take the newest one in the form they
 * need. The work around the slot is done by small parts, each in its file:
 *
 * - supervisor.ts: runs the source; restarts, back-off, the watchdog
 *   (watchdog.ts) and the state;
 * - placeholder-loop.ts: NO SIGNAL / END OF STREAM, repeated each second;
 * - picture-feed.ts: decode -> transform -> JPEG, once per frame (and
 *   h264-feed.ts, its mirror for H.264, made by the server);
 * - frame-rate.ts: the fps meter; lease.ts: on-demand capture (run while
 *   held); clock.ts: the time they all run on.
 */
import { realClock, type Clock } from "./clock.ts";
import { FrameRate } from "./frame-rate.ts";
import { Lease } from "./lease.ts";
import { PictureFeed, type DecodeJpeg, type EncodedFrame, type FrameTransform, type StartPictureDecoder } from "./picture-feed.ts";
import { PlaceholderLoop } from "./placeholder-loop.ts";
import { CaptureSupervisor, type StreamState } from "./supervisor.ts";
import type { JpegEncoder } from "../encoders/jpeg-encoder.ts";
import { log } from "../log.ts";
import type { Source } from "../sources/source.ts";
import type { Frame, RawFrame } from "../media/frame.ts";

export type { StreamState } from "./supervisor.ts";
export { formatAgo } from "./supervisor.ts";

export type { DecodeJpeg, EncodedFrame, FrameTransform, PictureDecoder, StartPictureDecoder } from "./picture-feed.ts";

export interface StreamOptions {
  readonly name: string;
  readonly source: Source;
  /** Encodes raw frames on the hot path; null when the source only gives JPEGs. */
  readonly encoder: JpegEncoder | null;
  /** Encodes the occasional still (placeholders); may be slow. */
  readonly encodeStill: (frame: RawFrame) => Promise<Uint8Array>;
  /** Picture size of the placeholder before the first frame tells the real one. */
  readonly defaultSize: { readonly width: number; readonly height: number };
  /** Restart back-off: first and longest wait, in ms. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly transform?: FrameTransform;
  /**
   * A live source that delivers no frame for this long (and at least three
   * frame intervals) is restarted. None by default.
   */
  readonly sourceTimeoutMs?: number;
  /** Starts an H.264 decoder when pictures of an H.264-only source are asked for. */
  readonly startPictureDecoder?: StartPictureDecoder;
  /** Decodes a source's JPEGs when a transform must see the picture. */
  readonly decodeJpeg?: DecodeJpeg;
  /** Capture only while held (see hold()), stopping this long after the last release (--on-demand-linger). */
  readonly onDemand?: { readonly lingerMs: number };
  /** Time and timers (the fps meter, watchdog, back-off and lingers); tests give a fake one. */
  readonly clock?: Clock;
}

export interface StreamStats {
  readonly name: string;
  readonly state: StreamState;
  readonly source: string;
  readonly width: number;
  readonly height: number;
  /** Frames per second the source delivers (smoothed), 0 while it delivers none. */
  readonly fps: number;
  readonly framesCaptured: number;
  /** Times the source was restarted (it failed, stopped or went silent). */
  readonly restarts: number;
  /** Pictures JPEG-encoded here (not counting passed-through JPEGs), and the time that took. */
  readonly jpegEncoded: number;
  readonly jpegEncodeMsTotal: number;
  /** ms since the source's last frame, null before the first. */
  readonly lastFrameAgeMs: number | null;
  /** A capture runs (false for an idle on-demand stream). */
  readonly capturing: boolean;
}

export class Stream {
  readonly name: string;
  readonly source: Source;
  #seq = 0;
  #latest: Frame | null = null;
  #size: { width: number; height: number };
  readonly #listeners = new Set<() => void>();
  /** The capture loop while it runs: it stops when `abort` is aborted. */
  #capture: { abort: AbortController; running: Promise<void> } | null = null;
  #stopped = false;
  /** Capture while held (on-demand streams only). */
  readonly #onDemand: Lease | null;
  /** NO SIGNAL / END OF STREAM while the source gives no picture. */
  readonly #placeholder: PlaceholderLoop;
  /** The capture's frame rate, counted over the last seconds of the current run. */
  readonly #rate: FrameRate;
  readonly #clock: Clock;
  /** Runs the source: restarts, back-off, watchdog, state. */
  readonly #supervisor: CaptureSupervisor;
  /** Decode → transform → JPEG, once per frame. */
  readonly #pictures: PictureFeed;

  constructor(private readonly options: StreamOptions) {
    this.name = options.name;
    this.source = options.source;
    this.#size = { ...options.defaultSize };
    this.#clock = options.clock ?? realClock;
    this.#rate = new FrameRate(() => this.#clock.now());
    this.#placeholder = new PlaceholderLoop({
      label: `stream ${this.name}`,
      size: () => this.#size,
      encodeStill: options.encodeStill,
      publish: (frame) => this.#publish(frame),
      clock: this.#clock,
    });
    this.#onDemand = options.onDemand
      ? new Lease({ start: () => this.#startCapture(), stop: () => this.#stopCapture(), lingerMs: options.onDemand.lingerMs, clock: this.#clock })
      : null;
    this.#supervisor = new CaptureSupervisor({
      name: this.name,
      source: this.source,
      backoff: options.backoff,
      sourceTimeoutMs: options.sourceTimeoutMs,
      placeholder: this.#placeholder,
      rate: this.#rate,
      clock: this.#clock,
      deliver: (frame) => {
        if (frame.width > 0) this.#size = { width: frame.width, height: frame.height };
        this.#publish(frame);
      },
    });
    this.#pictures = new PictureFeed(this, {
      label: `stream ${this.name}`,
      encoder: options.encoder,
      transform: options.transform,
      startPictureDecoder: options.startPictureDecoder,
      decodeJpeg: options.decodeJpeg,
      requestKeyframe: () => this.source.requestKeyframe?.(),
      clock: this.#clock,
    });
  }

  get state(): StreamState {
    return this.#supervisor.state;
  }
  /** Increases with every published frame (placeholders included). */
  get seq(): number {
    return this.#seq;
  }
  get latest(): Frame | null {
    return this.#latest;
  }
  get framesCaptured(): number {
    return this.#supervisor.framesCaptured;
  }

  stats(): StreamStats {
    return {
      name: this.name,
      state: this.#supervisor.state,
      source: this.source.description,
      width: this.#size.width,
      height: this.#size.height,
      fps: Math.round(this.#rate.rate() * 10) / 10,
      framesCaptured: this.#supervisor.framesCaptured,
      restarts: this.#supervisor.restarts,
      jpegEncoded: this.#pictures.jpegEncoded,
      jpegEncodeMsTotal: Math.round(this.#pictures.jpegEncodeMs * 1000) / 1000,
      lastFrameAgeMs: this.#supervisor.lastFrameAgeMs,
      capturing: this.#capture !== null,
    };
  }

  /** Calls `listener` after each new frame; returns the unsubscribe function. */
  onFrame(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The newest picture with the transform applied, once per frame whatever
   * asks for it. For an H.264 source, the newest decoded picture (the decoder
   * starts on the first ask and stops when pictures are no longer asked for).
   */
  latestPicture(): Frame | null {
    return this.#pictures.latestPicture();
  }

  /** The newest picture as a JPEG, encoded at most once per picture. */
  latestJpeg(): EncodedFrame | null {
    return this.#pictures.latestJpeg();
  }

  /** The newest JPEG once there is one (an H.264 source's first picture takes a decode), or null after `timeoutMs`. */
  async waitForJpeg(timeoutMs: number): Promise<EncodedFrame | null> {
    const now = this.latestJpeg();
    if (now) return now;
    return new Promise((resolve) => {
      const done = (jpeg: EncodedFrame | null) => {
        clearTimeout(timer);
        off();
        resolve(jpeg);
      };
      const off = this.onFrame(() => {
        const jpeg = this.latestJpeg();
        if (jpeg) done(jpeg);
      });
      const timer = setTimeout(() => done(this.latestJpeg()), timeoutMs);
    });
  }

  /** Resolves true once a frame exists, false after `timeoutMs`. */
  async waitForFrame(timeoutMs: number): Promise<boolean> {
    if (this.#latest) return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        off();
        resolve(ok);
      };
      const off = this.onFrame(() => done(true));
      const timer = setTimeout(() => done(false), timeoutMs);
    });
  }

  /** Starts capturing; with on-demand capture, only the first hold() does. */
  start(): void {
    if (this.options.onDemand) {
      if (this.#supervisor.state === "starting") this.#supervisor.setState("idle");
      return;
    }
    this.#startCapture();
  }

  /** Keeps the capture going (on-demand streams) until the returned function is called. */
  hold(): () => void {
    return this.#onDemand?.hold() ?? (() => {});
  }

  /** True while a capture process (or a program's source) runs. */
  get capturing(): boolean {
    return this.#capture !== null;
  }

  async stop(): Promise<void> {
    this.#supervisor.setState("stopped");
    this.#stopped = true;
    await this.#onDemand?.close();
    await this.#stopCapture();
    this.options.encoder?.close();
  }

  #startCapture(): void {
    if (this.#capture || this.#stopped) return;
    const abort = new AbortController();
    if (this.options.onDemand) log.info(`stream ${this.name}: capture started for its first viewer`, { event: "capture.start", stream: this.name });
    this.#capture = { abort, running: this.#supervisor.run(abort.signal) };
  }

  async #stopCapture(): Promise<void> {
    const capture = this.#capture;
    if (!capture) return;
    this.#capture = null;
    capture.abort.abort();
    this.#placeholder.stop();
    await capture.running;
    await this.#pictures.stopDecoder();
    if (this.#stopped) return;
    // An idle stream has no picture: the next viewer waits for a fresh one, never a stale one.
    this.#latest = null;
    this.#pictures.clear();
    this.#rate.reset();
    this.#supervisor.setState("idle");
    log.info(`stream ${this.name}: capture stopped, no viewer for ${this.options.onDemand!.lingerMs / 1000} s`, { event: "capture.stop", stream: this.name });
  }

  #publish(frame: Frame): void {
    this.#seq++;
    this.#latest = frame;
    this.#pictures.frameArrived(frame);
    for (const listener of this.#listeners) listener();
  }
}
