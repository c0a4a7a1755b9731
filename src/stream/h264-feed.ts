/**
 * A stream's H.264, shared by every WebRTC viewer of it. The encoder runs only
 * while someone holds the feed: it starts with the first viewer and stops
 * `lingerMs` after the last (a reloaded tab does not restart it). The access
 * units since the last keyframe are kept, so a new viewer can start at once.
 * A source that already gives H.264 (a camera) skips the encoder: its access
 * units are passed on untouched.
 */
import { H264Encoder, inputOf, sameInput, type H264Settings, type TimedAccessUnit } from "../encoders/h264-ffmpeg.ts";
import { log } from "../log.ts";
import type { Clock } from "./clock.ts";
import type { Feed } from "./feed.ts";
import { Lease } from "./lease.ts";
import type { Stream } from "./stream.ts";
import { AnnexBParser } from "../media/h264/annexb.ts";

export interface H264FeedSettings {
  readonly ffmpeg: string;
  readonly h264: H264Settings;
  /** How long the encoder keeps running after the last viewer left. */
  readonly lingerMs: number;
  /** Time and timers for the linger; tests give a fake one. */
  readonly clock?: Clock;
  /**
   * The rate the encoder is told when the stream has not measured one yet (an encoder started
   * with the capture, as for the first viewer of an on-demand stream): --fps when given, else 30.
   */
  readonly defaultFps?: number;
}

/** Bound on the cached group of pictures (a source with very rare keyframes). */
const MAX_GOP = 600;
const DEFAULT_FPS = 30;

export class H264Feed implements Feed<TimedAccessUnit> {
  readonly #subscribers = new Set<(au: TimedAccessUnit) => void>();
  /** Runs the feed while viewers hold it. */
  readonly #lease: Lease;
  #unsubscribeStream: (() => void) | null = null;
  #encoder: H264Encoder | null = null;
  #gop: TimedAccessUnit[] = [];
  #accessUnits = 0;
  /** The last frame handled was the camera's own H.264 (no encoder). */
  #passthrough = false;
  /** Pictures skipped by encoders that have since stopped (see skipped). */
  #skippedBefore = 0;

  constructor(
    readonly stream: Stream,
    private readonly settings: H264FeedSettings,
  ) {
    this.#lease = new Lease({ start: () => this.#start(), stop: () => this.#stop(), lingerMs: settings.lingerMs, clock: settings.clock });
  }

  /** True while pictures are being turned into H.264. */
  get running(): boolean {
    return this.#unsubscribeStream !== null;
  }
  get encoderPid(): number | null {
    return this.#encoder?.pid ?? null;
  }
  get accessUnits(): number {
    return this.#accessUnits;
  }
  /** True while the source's own H.264 is passed on untouched (no encoder runs). */
  get passthrough(): boolean {
    return this.running && this.#passthrough;
  }
  /** Pictures the encoders skipped because they were still busy (never goes down). */
  get skipped(): number {
    return this.#skippedBefore + (this.#encoder?.skipped ?? 0);
  }
  /** Viewers holding the feed (each WebRTC peer holds it while it lives). */
  get viewers(): number {
    return this.#lease.holders;
  }

  /** Keeps the feed running until the returned function is called. */
  hold(): () => void {
    return this.#lease.hold();
  }

  /** Calls `fn` with every new access unit; returns the unsubscribe function. */
  subscribe(fn: (au: TimedAccessUnit) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  /** The access units since the last keyframe (empty until one came). */
  currentGop(): readonly TimedAccessUnit[] {
    return this.#gop;
  }

  /** Stops at once (shutdown). */
  async close(): Promise<void> {
    await this.#lease.stopNow();
    await this.#stop();
  }

  #start(): void {
    this.#unsubscribeStream = this.stream.onFrame(() => this.#onFrame());
    if (this.stream.latest) this.#onFrame(); // start with the picture there is
  }

  async #stop(): Promise<void> {
    this.#unsubscribeStream?.();
    this.#unsubscribeStream = null;
    await this.#stopEncoder();
  }

  async #stopEncoder(): Promise<void> {
    this.#gop = [];
    const encoder = this.#encoder;
    this.#encoder = null;
    this.#skippedBefore += encoder?.skipped ?? 0;
    await encoder?.stop();
  }

  #onFrame(): void {
    const frame = this.stream.latest;
    this.#passthrough = frame?.kind === "h264";
    if (frame?.kind === "h264") {
      // The camera's own H.264: no encoder (one that ran for the NO SIGNAL picture stops).
      if (this.#encoder) void this.#stopEncoder();
      return this.#passThrough(frame.data);
    }
    const picture = this.stream.latestPicture();
    if (!picture) return;
    const input = inputOf(picture);
    if (!input) return;
    if (!this.#encoder || !sameInput(this.#encoder.input, input)) {
      const old = this.#encoder;
      this.#skippedBefore += old?.skipped ?? 0;
      void old?.stop();
      const fps = this.stream.stats().fps || this.settings.defaultFps || DEFAULT_FPS;
      this.#gop = [];
      this.#encoder = new H264Encoder(this.settings.ffmpeg, input, this.settings.h264, fps, (au) => this.#publish(au), `h264[${this.stream.name}]`);
      log.debug(`stream ${this.stream.name}: H.264 encoder started (pid ${this.#encoder.pid})`);
    }
    this.#encoder.write(picture);
  }

  #passThrough(annexB: Uint8Array): void {
    const parser = new AnnexBParser();
    const timestamp = Math.round(performance.now() * 90) >>> 0;
    for (const au of [...parser.push(annexB), ...parser.flush()]) this.#publish({ ...au, timestamp });
  }

  #publish(au: TimedAccessUnit): void {
    this.#accessUnits++;
    if (au.keyframe) this.#gop = [au];
    else if (this.#gop.length > 0 && this.#gop.length < MAX_GOP) this.#gop.push(au);
    for (const fn of this.#subscribers) fn(au);
  }
}
