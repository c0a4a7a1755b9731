/**
 * A Stream owns one capture and keeps only its newest frame. Outputs never
 * talk to the source: they listen for "a newer frame exists" and take the
 * newest one in the form they need. A raw picture is JPEG-encoded at most
 * once, on first demand, whatever the number of viewers; a ready JPEG is
 * handed out untouched.
 *
 * A source that gives H.264 only (a camera) is decoded to pictures only while
 * someone asks for pictures (MJPEG viewers, snapshots); a transform on a
 * source that gives JPEGs decodes them first.
 *
 * When a live source fails, or delivers nothing for the source timeout, it is
 * restarted with back-off while viewers keep their connections and see a
 * "no signal" picture that says how long ago the last frame came; when a
 * finite source ends they see "end of stream". Those pictures are repeated
 * once a second so that every client (and every proxy in between) keeps a
 * fresh picture.
 */
import { realClock, sleep, type Clock, type TimerHandle } from "./clock.ts";
import { FrameRate } from "./frame-rate.ts";
import { Lease } from "./lease.ts";
import { PictureFeed, type DecodeJpeg, type EncodedFrame, type FrameTransform, type StartPictureDecoder } from "./picture-feed.ts";
import { PlaceholderLoop } from "./placeholder-loop.ts";
import type { JpegEncoder } from "../encoders/jpeg-encoder.ts";
import { log } from "../log.ts";
import type { Source } from "../sources/source.ts";
import type { Frame, RawFrame } from "../media/frame.ts";

export type StreamState = "idle" | "starting" | "running" | "restarting" | "ended" | "failed" | "stopped";

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

/** A pushed source whose run fails without a frame (its listener cannot start) is started again within this. */
const PUSHED_MAX_WAIT_MS = 4000;

export class Stream {
  readonly name: string;
  readonly source: Source;
  #state: StreamState = "starting";
  #seq = 0;
  #latest: Frame | null = null;
  #size: { width: number; height: number };
  readonly #listeners = new Set<() => void>();
  /** The capture loop while it runs: it stops when `abort` is aborted. */
  #capture: { abort: AbortController; running: Promise<void> } | null = null;
  #stopped = false;
  /** Capture while held (on-demand streams only). */
  readonly #onDemand: Lease | null;
  #restarts = 0;
  /** NO SIGNAL / END OF STREAM while the source gives no picture. */
  readonly #placeholder: PlaceholderLoop;
  #framesCaptured = 0;
  /** The capture's frame rate, counted over the last seconds of the current run. */
  readonly #rate: FrameRate;
  readonly #clock: Clock;
  /** Wall-clock time of the last frame from the source (not a placeholder), for "last frame … ago". */
  #lastFrameAt: number | null = null;
  /** Decode → transform → JPEG, once per frame. */
  readonly #pictures: PictureFeed;

  constructor(private readonly options: StreamOptions) {
    this.name = options.name;
    this.source = options.source;
    this.#size = { ...options.defaultSize };
    this.#clock = options.clock ?? realClock;
    this.#rate = new FrameRate(() => this.#clock.now());
    this.#placeholder = new PlaceholderLoop({
      label: `stream ${this.name}`, size: () => this.#size, encodeStill: options.encodeStill,
      publish: (frame) => this.#publish(frame), clock: this.#clock,
    });
    this.#onDemand = options.onDemand
      ? new Lease({ start: () => this.#startCapture(), stop: () => this.#stopCapture(), lingerMs: options.onDemand.lingerMs, clock: this.#clock })
      : null;
    this.#pictures = new PictureFeed(this, {
      label: `stream ${this.name}`, encoder: options.encoder, transform: options.transform,
      startPictureDecoder: options.startPictureDecoder, decodeJpeg: options.decodeJpeg,
      requestKeyframe: () => this.source.requestKeyframe?.(), clock: this.#clock,
    });
  }

  get state(): StreamState { return this.#state; }
  /** Increases with every published frame (placeholders included). */
  get seq(): number { return this.#seq; }
  get latest(): Frame | null { return this.#latest; }
  get framesCaptured(): number { return this.#framesCaptured; }

  stats(): StreamStats {
    return {
      name: this.name, state: this.#state, source: this.source.description,
      width: this.#size.width, height: this.#size.height,
      fps: Math.round(this.#rate.rate() * 10) / 10,
      framesCaptured: this.#framesCaptured,
      restarts: this.#restarts,
      jpegEncoded: this.#pictures.jpegEncoded,
      jpegEncodeMsTotal: Math.round(this.#pictures.jpegEncodeMs * 1000) / 1000,
      lastFrameAgeMs: this.#lastFrameAt === null ? null : this.#clock.now() - this.#lastFrameAt,
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
      const done = (jpeg: EncodedFrame | null) => { clearTimeout(timer); off(); resolve(jpeg); };
      const off = this.onFrame(() => { const jpeg = this.latestJpeg(); if (jpeg) done(jpeg); });
      const timer = setTimeout(() => done(this.latestJpeg()), timeoutMs);
    });
  }

  /** Resolves true once a frame exists, false after `timeoutMs`. */
  async waitForFrame(timeoutMs: number): Promise<boolean> {
    if (this.#latest) return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => { clearTimeout(timer); off(); resolve(ok); };
      const off = this.onFrame(() => done(true));
      const timer = setTimeout(() => done(false), timeoutMs);
    });
  }

  /** Starts capturing; with on-demand capture, only the first hold() does. */
  start(): void {
    if (this.options.onDemand) {
      if (this.#state === "starting") this.#state = "idle";
      return;
    }
    this.#startCapture();
  }

  /** Keeps the capture going (on-demand streams) until the returned function is called. */
  hold(): () => void {
    return this.#onDemand?.hold() ?? (() => {});
  }

  /** True while a capture process (or a program's source) runs. */
  get capturing(): boolean { return this.#capture !== null; }

  async stop(): Promise<void> {
    this.#setState("stopped");
    this.#stopped = true;
    await this.#onDemand?.close();
    await this.#stopCapture();
    this.options.encoder?.close();
  }

  #startCapture(): void {
    if (this.#capture || this.#stopped) return;
    const abort = new AbortController();
    if (this.options.onDemand) log.info(`stream ${this.name}: capture started for its first viewer`, { event: "capture.start", stream: this.name });
    this.#capture = { abort, running: this.#run(abort.signal) };
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
    this.#setState("idle");
    log.info(`stream ${this.name}: capture stopped, no viewer for ${this.options.onDemand!.lingerMs / 1000} s`, { event: "capture.stop", stream: this.name });
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 1000, maxMs: 30_000 };
    let wait = initialMs;
    this.#setState("starting");
    const pushed = this.source.pushed === true;
    while (!signal.aborted) {
      let delivered = false;
      // A pushed source waits for its publisher inside frames(): NO SIGNAL until its first frame.
      if (pushed) void this.#placeholder.show(() => ["NO SIGNAL", "WAITING FOR PUBLISHER", this.#lastFrameLine()], signal);
      const run = this.#watchdog(signal);
      try {
        for await (const frame of this.source.frames(run.signal)) {
          run.fed();
          if (!delivered) {
            delivered = true;
            wait = initialMs;
            this.#rate.reset(); // the gap before a restart is no part of the rate
            this.#placeholder.stop();
            this.#setState("running");
          }
          this.#countFrame();
          this.#lastFrameAt = this.#clock.now();
          if (frame.width > 0) this.#size = { width: frame.width, height: frame.height };
          this.#publish(frame);
        }
        if (signal.aborted) break;
        if (pushed) {
          this.#publisherGone(run.stalled ? `no frame for ${run.limitS} s` : `${this.source.description} ended`);
        } else if (run.stalled) {
          this.#restarting(`${this.source.description} delivered no frame for ${run.limitS} s`, wait);
        } else if (this.source.finite) {
          this.#setState("ended");
          log.info(`stream ${this.name}: ${this.source.description} ended`, { event: "source.end", stream: this.name });
          await this.#placeholder.show(() => ["END OF STREAM"], signal);
          return;
        } else {
          this.#restarting(`${this.source.description} stopped`, wait);
        }
      } catch (err) {
        if (signal.aborted) break;
        if (pushed) {
          this.#publisherGone(run.stalled ? `no frame for ${run.limitS} s` : (err as Error).message);
        } else if (!this.source.restartable) {
          this.#setState("failed");
          log.error(`stream ${this.name}: ${this.source.description} failed: ${(err as Error).message}`, { event: "source.fail", stream: this.name });
          await this.#placeholder.show(() => ["NO SIGNAL"], signal);
          return;
        } else {
          this.#restarting(run.stalled ? `no frame for ${run.limitS} s` : (err as Error).message, wait);
        }
      } finally {
        run.done();
      }
      if (pushed) {
        // Waiting again at once after a publisher; a run that failed without any frame (a listener that
        // cannot start) waits a little, never long: a publisher must find the port open soon.
        if (!delivered) {
          await sleep(wait, signal, this.#clock);
          wait = Math.min(wait * 2, PUSHED_MAX_WAIT_MS);
        }
        continue;
      }
      this.#setState("restarting");
      await this.#placeholder.show(() => ["NO SIGNAL", "RECONNECTING", this.#lastFrameLine()], signal);
      await sleep(wait, signal, this.#clock);
      wait = Math.min(wait * 2, maxMs);
    }
  }

  /**
   * One capture run's signal, aborted with the stream, or by the watchdog when
   * the source delivers nothing for the source timeout (at least three frame
   * intervals, so a slow image sequence is not taken for a dead camera).
   */
  #watchdog(stream: AbortSignal) {
    const controller = new AbortController();
    const abort = () => controller.abort();
    stream.addEventListener("abort", abort, { once: true });
    const timeoutMs = this.source.restartable ? this.options.sourceTimeoutMs : undefined;
    // A pushed source may wait for its publisher as long as it takes: watched from its first frame on.
    let armed = this.source.pushed !== true;
    const clock = this.#clock;
    let fedAt = clock.now();
    const state = { stalled: false, limitS: 0 };
    let timer: TimerHandle | null = null;
    const check = (everyMs: number, limitMs: number) => {
      timer = clock.setTimeout(() => {
        timer = null;
        if (armed) {
          const fps = this.#rate.rate();
          const limit = Math.max(limitMs, fps > 0 ? 3000 / fps : 0);
          if (clock.now() - fedAt > limit) {
            state.stalled = true;
            state.limitS = Math.round(limit / 100) / 10;
            controller.abort();
            return;
          }
        }
        check(everyMs, limitMs);
      }, everyMs);
    };
    if (timeoutMs !== undefined) check(Math.min(1000, Math.max(100, timeoutMs / 4)), timeoutMs);
    return {
      signal: controller.signal,
      get stalled() { return state.stalled; },
      get limitS() { return state.limitS; },
      fed: () => { fedAt = clock.now(); armed = true; },
      done: () => {
        if (timer !== null) clock.clearTimeout(timer);
        timer = null;
        stream.removeEventListener("abort", abort);
      },
    };
  }

  /** A pushed source's publisher went away (or its run failed): counted as a restart; the stream waits for the next. */
  #publisherGone(reason: string): void {
    this.#restarts++;
    this.#setState("restarting");
    log.warn(`stream ${this.name}: ${reason}; waiting for a publisher`, { event: "source.wait", stream: this.name, restarts: this.#restarts });
  }

  /** One log line per restart, with its reason; counted for /state and /metrics. */
  #restarting(reason: string, waitMs: number): void {
    this.#restarts++;
    log.warn(`stream ${this.name}: ${reason}; restarting in ${waitMs / 1000} s`, {
      event: "source.restart", stream: this.name, restarts: this.#restarts, retry_s: waitMs / 1000,
    });
  }

  #lastFrameLine(): string {
    if (this.#lastFrameAt === null) return "NO FRAME YET";
    return `LAST FRAME ${formatAgo(this.#clock.now() - this.#lastFrameAt)} AGO`;
  }

  #countFrame(): void {
    this.#rate.frame();
    this.#framesCaptured++;
  }

  #publish(frame: Frame): void {
    this.#seq++;
    this.#latest = frame;
    this.#pictures.frameArrived(frame);
    for (const listener of this.#listeners) listener();
  }

  #setState(state: StreamState): void {
    if (this.#state === "stopped") return;
    this.#state = state;
  }
}

/** "12 S", "3 MIN 5 S", "2 H 3 MIN": how long ago, in the placeholder font's letters. */
export function formatAgo(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} S`;
  if (s < 3600) return `${Math.floor(s / 60)} MIN ${s % 60} S`;
  if (s < 86_400) return `${Math.floor(s / 3600)} H ${Math.floor((s % 3600) / 60)} MIN`;
  return `${Math.floor(s / 86_400)} D ${Math.floor((s % 86_400) / 3600)} H`;
}
