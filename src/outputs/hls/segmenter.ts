/**
 * Cuts a stream's H.264 access units into HLS media segments and LL-HLS
 * partial segments, as fragmented MP4 (see media/mp4/fmp4.ts).
 *
 * - A segment starts at a keyframe, so its length follows the encoder's
 *   keyframe interval. A source whose keyframes come later than
 *   `maxSegmentS` (a camera's own H.264 with a long GOP) has its segment cut
 *   there anyway; the next one then does not start with a keyframe and its
 *   first part is not flagged INDEPENDENT.
 * - A part is one `moof`+`mdat` of `framesPerPart` pictures (fewer at the end
 *   of a segment), never longer than `partTargetS` (one picture late: the
 *   part is closed early instead); a segment's bytes are its parts' bytes one after the
 *   other, so a part is also a byte range of its segment.
 * - A picture's duration is the time to the next one (the feed's timestamps
 *   are when the encoder gave each picture), so a picture is written when the
 *   next one comes. A duration is at least 1 ms and at most one part target:
 *   a stall of the capture shifts the media timeline instead of making a
 *   part longer than announced.
 * - Bounded memory: `keepSegments` complete segments, and parts only for the
 *   last `keepPartSegments` of them and the one being written.
 * - New parameter sets (another picture size, a restarted encoder with other
 *   settings) make a new init segment; the next segment is marked as a
 *   discontinuity.
 * - Sound (`audio`): the stream's Opus packets, a second track of the same
 *   fragments. A packet's decode time is its feed timestamp on the pictures'
 *   timeline (both feeds stamp with the one monotonic clock), so sound and
 *   picture line up; a part carries the packets that begin before its end,
 *   come in time (a late one goes into the next part, at its own time).
 *   Packets one after the other follow each other exactly; one that overlaps
 *   the last (the picture's timeline shifted by a stall) is left out.
 */
import { AUDIO_TIMESCALE, initSegment, mediaFragment, TIMESCALE, type Mp4Sample } from "../../media/mp4/fmp4.ts";
import type { TimedAccessUnit } from "../../encoders/h264-ffmpeg.ts";
import { NAL, nalType, parseSpsSize } from "../../media/h264/annexb.ts";

export interface SegmenterSettings {
  /** The longest part (EXT-X-PART-INF:PART-TARGET), in seconds. */
  readonly partTargetS: number;
  /** Pictures in a part (the last of a segment may have fewer). */
  readonly framesPerPart: number;
  /** A segment is cut here at the latest (EXT-X-TARGETDURATION is this, rounded up). */
  readonly maxSegmentS: number;
  /** Complete segments kept (and listed). */
  readonly keepSegments: number;
  /** Complete segments whose parts are still kept and listed (the newest ones). */
  readonly keepPartSegments: number;
  /** The wall clock (ms since 1970) for EXT-X-PROGRAM-DATE-TIME; Date.now by default. */
  readonly now?: () => number;
  /** The stream has sound: the init segment has an Opus track and pushAudio() fills it. */
  readonly audio?: boolean;
  /** The feeds' clock in ms (performance.now; tests give their own), to unwrap their 32-bit timestamps. */
  readonly clock?: () => number;
}

/** An Opus packet of the stream's AudioFeed (48 kHz timestamp). */
export interface SegmenterAudioPacket {
  readonly payload: Uint8Array;
  readonly timestamp: number;
  readonly samples: number;
}

/** A 32-bit timestamp at `rate` Hz of the feeds' clock (ms × rate / 1000) as ms: the one nearest `nowMs`. */
export function unwrapMs(timestamp: number, rate: number, nowMs: number): number {
  const ms = (timestamp * 1000) / rate;
  const period = (2 ** 32 * 1000) / rate;
  return ms + Math.round((nowMs - ms) / period) * period;
}

/** Packets kept while no picture closes a part (10 s of 20 ms packets): bounded memory. */
const MAX_AUDIO_PENDING = 500;
/** A packet this near (48 kHz samples) where the last one ended follows it exactly. */
const AUDIO_JOIN = 960;

export interface HlsPart {
  readonly index: number;
  /** Seconds. */
  readonly duration: number;
  /** Starts with a keyframe. */
  readonly independent: boolean;
  readonly bytes: Uint8Array;
  /** Where it starts in its segment's bytes. */
  readonly offset: number;
  /** Pictures in it. */
  readonly frames: number;
}

export interface HlsSegment {
  /** Media sequence number. */
  readonly msn: number;
  /** The init segment it needs. */
  readonly initId: number;
  /** The first segment after new parameter sets (EXT-X-DISCONTINUITY). */
  readonly discontinuity: boolean;
  readonly parts: HlsPart[];
  /** Parts dropped to bound memory (the segment's bytes stay whole). */
  partsDropped: boolean;
  /** Seconds, the sum of its parts'. */
  duration: number;
  /**
   * When its first picture came, ms since 1970 (EXT-X-PROGRAM-DATE-TIME): the
   * wall clock at the first segment (and at each discontinuity), then the
   * media timeline from there, so that a segment's date is the one before
   * plus that one's EXTINF.
   */
  readonly programTime: number;
  /** It starts with a keyframe (its first part is INDEPENDENT). */
  readonly independent: boolean;
  /** Set when it is complete: its parts' bytes one after the other. */
  bytes: Uint8Array | null;
  /** Pictures in it. */
  frames: number;
}

interface Pending {
  readonly au: TimedAccessUnit;
  /** When it came (wall clock, ms). */
  readonly at: number;
}

function paramSets(au: TimedAccessUnit): { sps: Uint8Array; pps: Uint8Array } | null {
  const sps = au.nals.find((n) => nalType(n) === NAL.SPS);
  const pps = au.nals.find((n) => nalType(n) === NAL.PPS);
  return sps && pps ? { sps, pps } : null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Segmenter {
  readonly segments: HlsSegment[] = [];
  /** Init segments by id (the current one and any that listed segments still need). */
  readonly inits = new Map<number, Uint8Array>();
  #initId = 0;
  #params: { sps: Uint8Array; pps: Uint8Array } | null = null;
  #current: HlsSegment | null = null;
  #partSamples: Mp4Sample[] = [];
  #partTicks = 0;
  #segmentTicks = 0;
  #partBytes: Uint8Array[] = [];
  #pending: Pending | null = null;
  #decodeTime = 0;
  #fragment = 1;
  #nextMsn = 0;
  #discontinuity = false;
  /** The wall clock at a media time (90 kHz decode time): set at the first segment and at each discontinuity. */
  #anchor: { wall: number; decode: number } | null = null;
  readonly #now: () => number;
  /** Discontinuities that have left the list (EXT-X-DISCONTINUITY-SEQUENCE). */
  discontinuitySequence = 0;
  readonly #partTargetTicks: number;
  readonly #maxSegmentTicks: number;
  readonly #listeners = new Set<() => void>();
  readonly #clock: () => number;
  /** The feeds' clock (ms) at decode time 0 of the pictures' track; null before the first picture. */
  #originMs: number | null = null;
  /** Sound not yet in a part: decode times on the 48 kHz track. */
  #audio: { payload: Uint8Array; time: number; samples: number }[] = [];
  #audioNext: number | null = null;

  constructor(readonly settings: SegmenterSettings) {
    this.#partTargetTicks = Math.floor(settings.partTargetS * TIMESCALE);
    this.#maxSegmentTicks = Math.floor(settings.maxSegmentS * TIMESCALE);
    this.#now = settings.now ?? Date.now;
    this.#clock = settings.clock ?? (() => performance.now());
  }

  /** An Opus packet: into the part its time falls in (see the notes above). */
  pushAudio(packet: SegmenterAudioPacket): void {
    if (!this.settings.audio || this.#originMs === null) return;
    const ms = unwrapMs(packet.timestamp, AUDIO_TIMESCALE, this.#clock());
    let time = Math.round((ms - this.#originMs) * (AUDIO_TIMESCALE / 1000));
    if (time < 0) return; // before the first picture
    const next = this.#audioNext;
    if (next !== null && Math.abs(time - next) < AUDIO_JOIN) time = next;
    else if (next !== null && time < next) return;
    if (this.#audio.length >= MAX_AUDIO_PENDING) this.#audio.shift();
    this.#audio.push({ payload: packet.payload, time, samples: packet.samples });
    this.#audioNext = time + packet.samples;
  }

  /** The segment being written (its parts so far), null before the first keyframe. */
  get current(): HlsSegment | null {
    return this.#current;
  }
  get initId(): number {
    return this.#initId;
  }

  /** The part that comes next (EXT-X-PRELOAD-HINT), once there is a first keyframe. */
  nextPart(): { msn: number; part: number } | null {
    if (this.#current) return { msn: this.#current.msn, part: this.#current.parts.length };
    return this.#params ? { msn: this.#nextMsn, part: 0 } : null;
  }

  /** Calls `fn` whenever a part or a segment is complete; returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** A segment by its media sequence number, complete or being written. */
  segment(msn: number): HlsSegment | null {
    if (this.#current?.msn === msn) return this.#current;
    return this.segments.find((s) => s.msn === msn) ?? null;
  }

  push(au: TimedAccessUnit): void {
    const pending = this.#pending;
    if (!pending) {
      if (!au.keyframe || !this.#useParams(au)) return; // wait for a keyframe with its parameter sets
      this.#setOrigin(au);
      this.#pending = { au, at: this.#now() };
      return;
    }
    const diff = (au.timestamp - pending.au.timestamp) >>> 0;
    const ticks = diff > 0x7fffffff ? 90 : Math.min(this.#partTargetTicks, Math.max(90, diff));
    // Never over the announced lengths: close the part (and the segment) before a picture that would not fit.
    if (this.#segmentTicks + this.#partTicks + ticks > this.#maxSegmentTicks) this.#cut();
    else if (this.#partTicks + ticks > this.#partTargetTicks) this.#closePart();
    this.#setOrigin(pending.au);
    this.#add({ nals: pending.au.nals, duration: ticks, keyframe: pending.au.keyframe }, pending.at);
    // A part is `framesPerPart` pictures; it is closed as soon as it has them.
    if (au.keyframe) this.#cut();
    else if (this.#partSamples.length >= this.settings.framesPerPart) this.#closePart();
    if (au.keyframe) this.#useParams(au);
    this.#pending = { au, at: this.#now() };
  }

  /** `au` is the next picture written: the feeds' clock at decode time 0 from its timestamp (for the sound). */
  #setOrigin(au: TimedAccessUnit): void {
    if (this.settings.audio) this.#originMs = unwrapMs(au.timestamp, TIMESCALE, this.#clock()) - ((this.#decodeTime + this.#partTicks) * 1000) / TIMESCALE;
  }

  #cut(): void {
    this.#closePart();
    this.#closeSegment();
  }

  /** New parameter sets make a new init segment; false when the keyframe carries none and none are known. */
  #useParams(au: TimedAccessUnit): boolean {
    const params = paramSets(au);
    if (!params) return this.#params !== null;
    if (this.#params && sameBytes(this.#params.sps, params.sps) && sameBytes(this.#params.pps, params.pps)) return true;
    const size = parseSpsSize(params.sps);
    if (!size) return this.#params !== null;
    if (this.#params) this.#discontinuity = true;
    this.#params = { sps: params.sps.slice(), pps: params.pps.slice() };
    this.#initId++;
    this.inits.set(this.#initId, initSegment({ ...this.#params, ...size, audio: this.settings.audio === true }));
    return true;
  }

  /** `at`: when the sample's picture came (wall clock). */
  #add(sample: Mp4Sample, at: number): void {
    if (!this.#current) {
      if (!this.#anchor || this.#discontinuity) this.#anchor = { wall: at, decode: this.#decodeTime };
      const programTime = Math.round(this.#anchor.wall + ((this.#decodeTime - this.#anchor.decode) * 1000) / TIMESCALE);
      this.#current = {
        msn: this.#nextMsn++,
        initId: this.#initId,
        discontinuity: this.#discontinuity,
        parts: [],
        partsDropped: false,
        duration: 0,
        bytes: null,
        frames: 0,
        programTime,
        independent: sample.keyframe,
      };
      this.#discontinuity = false;
    }
    this.#partSamples.push(sample);
    this.#partTicks += sample.duration;
  }

  #closePart(): void {
    const segment = this.#current;
    if (!segment || this.#partSamples.length === 0) return;
    const bytes = mediaFragment(this.#fragment++, this.#decodeTime, this.#partSamples, this.#takeAudio(this.#decodeTime + this.#partTicks));
    const offset = this.#partBytes.reduce((n, b) => n + b.length, 0);
    segment.parts.push({
      index: segment.parts.length,
      duration: this.#partTicks / TIMESCALE,
      independent: this.#partSamples[0]!.keyframe,
      bytes,
      offset,
      frames: this.#partSamples.length,
    });
    segment.frames += this.#partSamples.length;
    this.#partBytes.push(bytes);
    this.#decodeTime += this.#partTicks;
    this.#segmentTicks += this.#partTicks;
    segment.duration = this.#segmentTicks / TIMESCALE;
    this.#partSamples = [];
    this.#partTicks = 0;
    this.#changed();
  }

  /** The sound that begins before `end` (the part's end, 90 kHz), as one run of samples. */
  #takeAudio(end: number): { baseDecodeTime: number; samples: { payload: Uint8Array; duration: number }[] } | undefined {
    const limit = (end * AUDIO_TIMESCALE) / TIMESCALE;
    let n = 0;
    while (n < this.#audio.length && this.#audio[n]!.time < limit) n++;
    if (n === 0) return undefined;
    const taken = this.#audio.splice(0, n);
    const samples = taken.map((p, i) => ({ payload: p.payload, duration: i + 1 < taken.length ? taken[i + 1]!.time - p.time : p.samples }));
    return { baseDecodeTime: taken[0]!.time, samples };
  }

  #closeSegment(): void {
    const segment = this.#current;
    if (!segment) return;
    const total = this.#partBytes.reduce((n, b) => n + b.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const b of this.#partBytes) {
      bytes.set(b, at);
      at += b.length;
    }
    segment.bytes = bytes;
    this.segments.push(segment);
    this.#current = null;
    this.#partBytes = [];
    this.#segmentTicks = 0;
    while (this.segments.length > this.settings.keepSegments) {
      if (this.segments.shift()!.discontinuity) this.discontinuitySequence++;
    }
    const withParts = this.segments.length - this.settings.keepPartSegments;
    for (let i = 0; i < withParts; i++) {
      const s = this.segments[i]!;
      if (!s.partsDropped) {
        s.parts.length = 0;
        s.partsDropped = true;
      }
    }
    // Init segments no listed segment needs any more.
    const needed = new Set([this.#initId, ...this.segments.map((s) => s.initId)]);
    for (const id of this.inits.keys()) if (!needed.has(id)) this.inits.delete(id);
    this.#changed();
  }

  #changed(): void {
    for (const fn of this.#listeners) fn();
  }
}
