/**
 * A stream's HLS: the segmenter fed by the stream's one H.264 feed (no
 * encode of its own), the waits of LL-HLS (a blocking playlist reload, a
 * preload-hinted part), and its viewers.
 *
 * The feed is held while anyone fetches: each HLS client (its address and
 * User-Agent) is a viewer from its first request until it has made none for
 * `viewerWindowMs` (past 1000 clients at once a new one counts by its
 * address alone); it joins the stream's audience like an MJPEG or WebRTC
 * viewer (keeping an on-demand capture going). After the last one the muxer
 * keeps running `lingerMs` (a reloaded page finds its segments), then stops
 * and forgets its segments; the next start is a new session (new URIs).
 *
 * A stream with sound (--audio) has its AudioFeed's Opus packets in the
 * same fragments, a second track (no encoder of HLS's own); the muxer holds
 * the sound while it runs, as a WebRTC or RTSP listener does.
 */
import type { H264Feed } from "../../stream/h264-feed.ts";
import type { AudioFeed } from "../../stream/audio-feed.ts";
import type { Audience, Viewer } from "../../stream/audience.ts";
import { Lease } from "../../stream/lease.ts";
import { Segmenter, type HlsPart, type HlsSegment, type SegmenterSettings } from "./segmenter.ts";

export interface HlsSettings {
  /** About how long a part is, seconds: a whole number of pictures near it. */
  readonly partTargetS: number;
  /** Pictures per second when the muxer starts and the stream has not measured its own rate yet. */
  readonly defaultFps: number;
  /** The encoder's keyframe interval in seconds: segments are about this long. */
  readonly keyframeIntervalS: number;
  readonly lingerMs: number;
  readonly viewerWindowMs: number;
}

/** Segments kept (and listed): bounded memory, and enough for ffmpeg's 3-from-the-end start. */
const KEEP_SEGMENTS = 6;
/** Complete segments whose parts stay listed (the draft asks for the last three target durations). */
const KEEP_PART_SEGMENTS = 3;
/** Distinct clients tracked at once (each is a viewer, a timer and a log line). */
const MAX_CLIENTS = 1000;
/** The first playlist waits this long for a first segment (an on-demand capture and encoder starting). */
const FIRST_SEGMENT_WAIT_MS = 20_000;

export class HlsOutput {
  #segmenter: Segmenter | null = null;
  #session = "";
  #unsubscribe: (() => void) | null = null;
  #releaseFeed: (() => void) | null = null;
  /** Runs the muxer while clients fetch, and lingerMs after the last. */
  readonly #muxing: Lease;
  #releaseMuxing: (() => void) | null = null;
  readonly #clients = new Map<string, { viewer: Viewer; timer: ReturnType<typeof setTimeout> }>();
  /** Requests answered from the segmenter, by kind (the origin's own count, for caches in front). */
  readonly served = { playlists: 0, segments: 0, parts: 0, inits: 0 };
  #segmenterSettings: SegmenterSettings;
  readonly targetDurationS: number;
  #audioOff: (() => void) | null = null;

  constructor(
    readonly feed: H264Feed,
    private readonly audience: Audience,
    readonly settings: HlsSettings,
    readonly audio: AudioFeed | null = null,
  ) {
    this.targetDurationS = Math.max(2, Math.ceil(settings.keyframeIntervalS * 1.5));
    this.#segmenterSettings = this.#plan(settings.defaultFps);
    this.#muxing = new Lease({ start: () => this.#start(), stop: () => this.#stop(), lingerMs: settings.lingerMs });
  }

  /**
   * Parts of a whole number of pictures, as near the asked length as that
   * gives; the announced PART-TARGET leaves 15 % for pictures that come late
   * (the timeline follows when the encoder gave them), so that a part of
   * `framesPerPart` pictures is at least 85 % of it, as the draft asks.
   */
  #plan(fps: number): SegmenterSettings {
    const framesPerPart = Math.max(1, Math.round(this.settings.partTargetS * fps));
    const partTargetS = Math.ceil((framesPerPart / fps) * 1.15 * 1000) / 1000;
    return {
      partTargetS,
      framesPerPart,
      maxSegmentS: this.targetDurationS,
      keepSegments: KEEP_SEGMENTS,
      keepPartSegments: KEEP_PART_SEGMENTS,
      ...(this.audio ? { audio: true } : {}),
    };
  }

  get segmenterSettings(): SegmenterSettings {
    return this.#segmenterSettings;
  }

  get running(): boolean {
    return this.#segmenter !== null;
  }
  get session(): string {
    return this.#session;
  }
  get segmenter(): Segmenter | null {
    return this.#segmenter;
  }
  get viewers(): number {
    return this.#clients.size;
  }

  /** A request from `client` (address + User-Agent): it is a viewer for the next viewerWindowMs. */
  touch(client: string, address: string): Viewer {
    // Past MAX_CLIENTS (many User-Agents made up by one machine), a new client counts by its address alone.
    if (!this.#clients.has(client) && this.#clients.size >= MAX_CLIENTS) client = address;
    const timer = setTimeout(() => this.#forget(client), this.settings.viewerWindowMs);
    const entry = this.#clients.get(client);
    if (entry) {
      clearTimeout(entry.timer);
      entry.timer = timer;
      return entry.viewer;
    }
    const viewer = this.audience.join("hls", address);
    this.#clients.set(client, { viewer, timer });
    if (this.#clients.size === 1) this.#hold();
    return viewer;
  }

  #forget(client: string): void {
    const entry = this.#clients.get(client);
    if (!entry) return;
    this.#clients.delete(client);
    entry.viewer.leave();
    if (this.#clients.size === 0) this.#release();
  }

  #hold(): void {
    this.#releaseFeed ??= this.feed.hold();
    this.#releaseMuxing ??= this.#muxing.hold();
  }

  #start(): void {
    const fps = this.feed.stream.stats().fps;
    this.#segmenterSettings = this.#plan(fps > 0 ? fps : this.settings.defaultFps);
    const segmenter = new Segmenter(this.#segmenterSettings);
    this.#segmenter = segmenter;
    this.#session = Date.now().toString(36);
    for (const au of this.feed.currentGop()) segmenter.push(au);
    this.#unsubscribe = this.feed.subscribe((au) => segmenter.push(au));
    if (this.audio) {
      const audio = this.audio;
      const release = audio.hold();
      const off = audio.subscribe((p) => segmenter.pushAudio(p));
      this.#audioOff = () => {
        off();
        release();
      };
    }
  }

  #release(): void {
    this.#releaseFeed?.();
    this.#releaseFeed = null;
    this.#releaseMuxing?.();
    this.#releaseMuxing = null;
  }

  #stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#audioOff?.();
    this.#audioOff = null;
    this.#segmenter = null;
  }

  /** Ends every viewer and stops (shutdown). */
  close(): void {
    for (const client of [...this.#clients.keys()]) this.#forget(client);
    void this.#muxing.stopNow();
    this.#stop();
  }

  /**
   * Resolves when `ready()` holds, checked now and after every new part or
   * segment, or after `ms`; true if it held. A stop of the muxer ends the wait too.
   */
  async waitFor(ready: (s: Segmenter) => boolean, ms: number): Promise<boolean> {
    const segmenter = this.#segmenter;
    if (!segmenter) return false;
    if (ready(segmenter)) return true;
    return new Promise<boolean>((resolve) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        off();
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), ms);
      const off = segmenter.onChange(() => {
        if (this.#segmenter !== segmenter) finish(false);
        else if (ready(segmenter)) finish(true);
      });
    });
  }

  /** Waits for a first complete segment (a new muxer); false if none came in time. */
  firstSegment(): Promise<boolean> {
    return this.waitFor((s) => s.segments.length > 0, FIRST_SEGMENT_WAIT_MS);
  }

  /** Segment `msn` and part `part` (or the whole segment) have been written, or a later segment has begun. */
  static has(s: Segmenter, msn: number, part: number | null): boolean {
    const newest = s.current?.msn ?? s.segments.at(-1)?.msn ?? -1;
    if (newest > msn + 1) return true;
    const segment = s.segment(msn);
    if (part === null) return newest > msn || segment?.bytes != null;
    if (segment && segment.parts.length > part) return true;
    if (newest <= msn) return false;
    // Segment msn is complete and has fewer parts than asked: the next segment's first part answers.
    return (s.segment(msn + 1)?.parts.length ?? 0) > 0;
  }

  /** The newest media sequence number there is anything of, or -1. */
  static newest(s: Segmenter): number {
    return s.current?.msn ?? s.segments.at(-1)?.msn ?? -1;
  }

  static part(s: Segmenter, msn: number, index: number): HlsPart | null {
    return s.segment(msn)?.parts[index] ?? null;
  }

  static completeSegment(s: Segmenter, msn: number): HlsSegment | null {
    const segment = s.segment(msn);
    return segment?.bytes ? segment : null;
  }
}
