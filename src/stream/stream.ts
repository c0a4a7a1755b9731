/**
 * A Stream owns one capture and keeps only its newest frame. Outputs never
 * talk to the source: they listen for "a newer frame exists" and take the
 * newest one in the form they need. A raw picture is JPEG-encoded at most
 * once, on first demand, whatever the number of viewers; a ready JPEG is
 * handed out untouched.
 *
 * When a live source fails it is restarted with back-off while viewers keep
 * their connections and see a "no signal" picture; when a finite source ends
 * they see "end of stream". Those pictures are repeated once a second so that
 * every client (and every proxy in between) keeps a fresh picture.
 */
import type { JpegEncoder } from "../encoders/jpeg-encoder.ts";
import { log } from "../log.ts";
import { renderPlaceholder } from "../placeholder/render.ts";
import type { Source } from "../sources/source.ts";
import type { Frame, JpegFrame, RawFrame } from "./frame.ts";

export type StreamState = "starting" | "running" | "restarting" | "ended" | "failed" | "stopped";

/** Runs once per raw frame, before it is encoded: change it in place or return another. */
export type FrameTransform = (frame: RawFrame) => RawFrame | void;

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
}

export interface EncodedFrame extends JpegFrame {
  /** The stream sequence number of the frame this JPEG shows. */
  readonly seq: number;
}

const PLACEHOLDER_REPEAT_MS = 1000;
/** The frame rate is measured over the last this many frames (about a second at 30 fps). */
const FPS_WINDOW = 32;

export class Stream {
  readonly name: string;
  readonly source: Source;
  #state: StreamState = "starting";
  #seq = 0;
  #latest: Frame | null = null;
  #jpeg: EncodedFrame | null = null;
  #picture: { seq: number; frame: Frame } | null = null;
  #size: { width: number; height: number };
  readonly #listeners = new Set<() => void>();
  readonly #abort = new AbortController();
  #running: Promise<void> | null = null;
  #placeholderTimer: ReturnType<typeof setInterval> | null = null;
  #framesCaptured = 0;
  /** Arrival times of the last FPS_WINDOW frames of the current run (a ring). */
  readonly #arrivals = new Float64Array(FPS_WINDOW);
  #arrivalCount = 0;
  #transformWarned = false;

  constructor(private readonly options: StreamOptions) {
    this.name = options.name;
    this.source = options.source;
    this.#size = { ...options.defaultSize };
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
      fps: Math.round(this.#fps() * 10) / 10,
      framesCaptured: this.#framesCaptured,
    };
  }

  /**
   * Frames per second from the median frame interval of the recent window (a
   * startup burst, ffmpeg catching up, does not skew a median); 0 when frames
   * have stopped coming.
   */
  #fps(): number {
    const n = Math.min(this.#arrivalCount, FPS_WINDOW);
    if (n < 2) return 0;
    const at = (k: number) => this.#arrivals[(this.#arrivalCount - n + k) % FPS_WINDOW]!;
    const intervals = Array.from({ length: n - 1 }, (_, k) => at(k + 1) - at(k)).sort((a, b) => a - b);
    const interval = intervals[intervals.length >> 1]!;
    const stale = performance.now() - at(n - 1) > Math.max(2000, 3 * interval);
    return stale || interval <= 0 ? 0 : 1000 / interval;
  }

  /** Calls `listener` after each new frame; returns the unsubscribe function. */
  onFrame(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The newest frame with the transform applied, once per frame whatever asks for it. */
  latestPicture(): Frame | null {
    const frame = this.#latest;
    if (!frame) return null;
    if (this.#picture?.seq === this.#seq) return this.#picture.frame;
    let picture: Frame = frame;
    if (frame.kind === "raw" && !frame.jpeg && this.options.transform) picture = this.options.transform(frame) ?? frame;
    else if (frame.kind === "jpeg" && this.options.transform && !this.#transformWarned) {
      this.#transformWarned = true;
      log.warn(`stream ${this.name}: the transform runs on raw pictures; this source gives JPEGs, which are passed through untransformed`);
    }
    this.#picture = { seq: this.#seq, frame: picture };
    return picture;
  }

  /** The newest picture as a JPEG, encoded at most once per frame. */
  latestJpeg(): EncodedFrame | null {
    if (this.#jpeg?.seq === this.#seq) return this.#jpeg;
    const picture = this.latestPicture();
    if (!picture) return null;
    let data: Uint8Array;
    if (picture.kind === "jpeg") data = picture.data;
    else if (picture.kind === "raw" && picture.jpeg) data = picture.jpeg;
    else if (picture.kind === "raw" && this.options.encoder) data = this.options.encoder.encode(picture).slice();
    else return this.#jpeg; // H.264-only frames: MJPEG viewers keep the last picture they had.
    this.#jpeg = { kind: "jpeg", width: picture.width, height: picture.height, data, seq: this.#seq };
    return this.#jpeg;
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

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#setState("stopped");
    this.#abort.abort();
    this.#stopPlaceholder();
    await this.#running;
    this.options.encoder?.close();
  }

  async #run(): Promise<void> {
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 1000, maxMs: 30_000 };
    let wait = initialMs;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let delivered = false;
      try {
        for await (const frame of this.source.frames(signal)) {
          if (!delivered) {
            delivered = true;
            wait = initialMs;
            this.#arrivalCount = 0; // the gap before a restart is no frame interval
            this.#stopPlaceholder();
            this.#setState("running");
          }
          this.#countFrame();
          this.#size = { width: frame.width, height: frame.height };
          this.#publish(frame);
        }
        if (signal.aborted) break;
        if (this.source.finite) {
          this.#setState("ended");
          log.info(`stream ${this.name}: ${this.source.description} ended`);
          await this.#showPlaceholder(["END OF STREAM"]);
          return;
        }
        log.warn(`stream ${this.name}: ${this.source.description} stopped; restarting in ${wait / 1000} s`);
      } catch (err) {
        if (signal.aborted) break;
        if (!this.source.restartable) {
          this.#setState("failed");
          log.error(`stream ${this.name}: ${this.source.description} failed: ${(err as Error).message}`);
          await this.#showPlaceholder(["NO SIGNAL"]);
          return;
        }
        log.warn(`stream ${this.name}: ${(err as Error).message}; restarting in ${wait / 1000} s`);
      }
      this.#setState("restarting");
      await this.#showPlaceholder(["NO SIGNAL", "RECONNECTING"]);
      await sleep(wait, signal);
      wait = Math.min(wait * 2, maxMs);
    }
  }

  #countFrame(): void {
    this.#arrivals[this.#arrivalCount % FPS_WINDOW] = performance.now();
    this.#arrivalCount++;
    this.#framesCaptured++;
  }

  #publish(frame: Frame): void {
    this.#seq++;
    this.#latest = frame;
    for (const listener of this.#listeners) listener();
  }

  async #showPlaceholder(lines: readonly string[]): Promise<void> {
    this.#stopPlaceholder();
    const { width, height } = this.#size;
    const raw: RawFrame = { kind: "raw", format: "i420", width, height, data: renderPlaceholder("i420", width, height, lines) };
    let jpeg: Uint8Array;
    try {
      jpeg = await this.options.encodeStill(raw);
    } catch (err) {
      log.warn(`stream ${this.name}: could not make the placeholder picture: ${(err as Error).message}`);
      return;
    }
    if (this.#abort.signal.aborted) return;
    // Raw for the H.264 encoder, with its JPEG for MJPEG viewers (made once, also without libjpeg-turbo).
    const picture: RawFrame = { ...raw, jpeg };
    this.#publish(picture);
    this.#placeholderTimer = setInterval(() => this.#publish(picture), PLACEHOLDER_REPEAT_MS);
  }

  #stopPlaceholder(): void {
    if (this.#placeholderTimer) clearInterval(this.#placeholderTimer);
    this.#placeholderTimer = null;
  }

  #setState(state: StreamState): void {
    if (this.#state === "stopped") return;
    this.#state = state;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() { clearTimeout(timer); signal.removeEventListener("abort", done); resolve(); }
  });
}
