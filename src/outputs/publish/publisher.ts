/**
 * One --publish destination: pushes a stream's shared H.264 (its one
 * H264Feed: no encode of its own) to a server, and keeps doing so.
 *
 * - It holds the feed (the encoder runs while any destination or viewer
 *   holds it) and the stream's capture (--on-demand), for its whole life.
 * - A connection (an ffmpeg child, or a WHIP session) that fails or ends is
 *   made again with the sources' back-off: 1 s, doubling up to 30 s, back to
 *   1 s after a connection that went live.
 * - It never slows capture or viewers: an access unit the connection cannot
 *   take at once (its bounded queue is full) is skipped, and so is every one
 *   after it up to the next keyframe; a new connection starts at a keyframe.
 * - Its state (connecting, live, retrying), bytes, access units, skipped
 *   ones, reconnects and last error are read by /state and /metrics; the
 *   URL and the error are shown with their secrets masked.
 */
import type { TimedAccessUnit } from "../../encoders/h264-ffmpeg.ts";
import { log } from "../../log.ts";
import type { Stream } from "../../stream/stream.ts";
import type { H264Feed } from "../../stream/h264-feed.ts";
import type { PublishProtocol, PublishTarget } from "./target.ts";

export type PublishState = "connecting" | "live" | "retrying" | "stopped";
export const PUBLISH_STATES = ["connecting", "live", "retrying", "stopped"] as const satisfies readonly PublishState[];

/** One attempt at a destination. */
export interface Connection {
  /**
   * Hands an access unit over: the bytes taken, or false when it cannot take
   * it now (its queue is full); never blocks.
   */
  send(au: TimedAccessUnit): number | false;
  /** Resolves with the reason once the connection is over (it failed, or the server ended it). */
  readonly ended: Promise<string>;
  /** Ends it at once (shutdown, or it stalled). */
  close(): Promise<void>;
}

/** Makes one connection; calls `onLive` once media reaches the server. */
export type Connect = (onLive: () => void) => Connection;

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The sources' restart back-off (see stream.ts). */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000 };

/** A connection that has taken nothing for this long while access units came is taken for dead. */
const STALL_MS = 10_000;

export interface PublisherReport {
  /** The destination's URL, its secrets shown as "***". */
  readonly url: string;
  readonly protocol: PublishProtocol;
  readonly state: PublishState;
  /** H.264 bytes handed to the destination (over every connection). */
  readonly bytes: number;
  /** Access units handed to the destination. */
  readonly frames: number;
  /** Access units skipped: the destination was not ready for them, or was catching up to a keyframe. */
  readonly skipped: number;
  /** Connections made again after one failed or ended. */
  readonly reconnects: number;
  /** Why the last connection ended, secrets masked (null before any did). */
  readonly lastError: string | null;
  /** When the current connection went live (ISO 8601), or null. */
  readonly liveSince: string | null;
}

export class Publisher {
  #state: PublishState = "connecting";
  #bytes = 0;
  #frames = 0;
  #skipped = 0;
  #reconnects = 0;
  #lastError: string | null = null;
  #liveSince: number | null = null;
  #connection: Connection | null = null;
  /** Skip access units until a keyframe (a new connection, or one that refused an access unit). */
  #needKeyframe = true;
  /** When the connection first refused an access unit since it last took one (null: it takes them). */
  #refusedAt: number | null = null;
  /** The connection closed here because it took nothing for STALL_MS. */
  #stalled: Connection | null = null;
  readonly #abort = new AbortController();
  readonly #releases: (() => void)[] = [];
  #loop: Promise<void> | null = null;

  constructor(
    readonly target: PublishTarget,
    private readonly feed: H264Feed,
    private readonly stream: Stream,
    private readonly connect: Connect,
    private readonly redact: (text: string) => string,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
  ) {}

  get state(): PublishState {
    return this.#state;
  }

  /** Holds the stream and the feed and starts connecting. */
  start(): void {
    if (this.#loop) return;
    this.#releases.push(this.stream.hold(), this.feed.hold());
    this.#releases.push(this.feed.subscribe((au) => this.#onAccessUnit(au)));
    this.#loop = this.#run();
  }

  report(): PublisherReport {
    return {
      url: this.target.shown,
      protocol: this.target.protocol,
      state: this.#state,
      bytes: this.#bytes,
      frames: this.#frames,
      skipped: this.#skipped,
      reconnects: this.#reconnects,
      lastError: this.#lastError,
      liveSince: this.#liveSince === null ? null : new Date(this.#liveSince).toISOString(),
    };
  }

  /** Ends the connection (a WHIP session is deleted) and lets go of the feed. */
  async stop(): Promise<void> {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort();
    for (const release of this.#releases.splice(0)) release();
    await this.#connection?.close();
    await this.#loop;
    this.#state = "stopped";
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const { initialMs, maxMs } = this.backoff;
    let wait = initialMs;
    const fields = { stream: this.target.stream, destination: this.target.shown };
    while (!signal.aborted) {
      this.#state = "connecting";
      this.#needKeyframe = true;
      this.#refusedAt = null;
      let wentLive = false;
      let connection: Connection;
      try {
        connection = this.connect(() => {
          if (signal.aborted || this.#connection !== connection) return;
          wentLive = true;
          this.#state = "live";
          this.#liveSince = Date.now();
          log.info(`stream ${this.target.stream}: publishing to ${this.target.shown}`, { event: "publish.live", ...fields });
        });
      } catch (err) {
        connection = failed((err as Error).message);
      }
      this.#connection = connection;
      const ended = await connection.ended;
      const reason = this.#stalled === connection ? `it took nothing for ${STALL_MS / 1000} s (${ended})` : ended;
      this.#connection = null;
      this.#liveSince = null;
      if (signal.aborted) break;
      await connection.close();
      if (wentLive) wait = initialMs;
      this.#lastError = this.redact(reason);
      this.#state = "retrying";
      log.warn(`stream ${this.target.stream}: publishing to ${this.target.shown}: ${this.#lastError}; retrying in ${wait / 1000} s`, {
        event: "publish.retry",
        ...fields,
        reconnects: this.#reconnects + 1,
        retry_s: wait / 1000,
      });
      await sleep(wait, signal);
      wait = Math.min(wait * 2, maxMs);
      if (!signal.aborted) this.#reconnects++;
    }
  }

  #onAccessUnit(au: TimedAccessUnit): void {
    const connection = this.#connection;
    if (!connection) return; // retrying: nothing is counted as skipped while there is no destination
    if (this.#needKeyframe && !au.keyframe) {
      this.#skipped++;
      this.#checkStall(connection);
      return;
    }
    const taken = connection.send(au);
    if (taken === false) {
      this.#skipped++;
      this.#needKeyframe = true;
      this.#refusedAt ??= performance.now();
      this.#checkStall(connection);
      return;
    }
    this.#needKeyframe = false;
    this.#refusedAt = null;
    this.#frames++;
    this.#bytes += taken;
  }

  /** A destination that has refused everything for STALL_MS (a blocked socket, a hung connect) is closed, and made again. */
  #checkStall(connection: Connection): void {
    if (this.#refusedAt === null || performance.now() - this.#refusedAt < STALL_MS) return;
    this.#refusedAt = null;
    this.#stalled = connection;
    void connection.close();
  }
}

/** A connection that could not even start. */
function failed(reason: string): Connection {
  return { send: () => false, ended: Promise.resolve(reason), close: async () => {} };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
