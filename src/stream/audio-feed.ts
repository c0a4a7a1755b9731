/**
 * A stream's sound, shared by every viewer that takes it: Opus packets made
 * once (one encoder per stream, whatever the number of viewers), each given
 * its RTP timestamp here on the 48 kHz clock that is the server's own
 * monotonic clock (performance.now() × 48), the same clock the H.264 feed
 * stamps pictures with (× 90): the RTCP sender reports of both tracks are
 * made from it (outputs/webrtc/sender-clock.ts), which is what lets a
 * receiver line sound up with the picture.
 *
 * Where the sound comes from: an ALSA microphone, read by an ffmpeg of its
 * own while someone listens (it stops `lingerMs` after the last), or the
 * stream's own source, whose capture ffmpeg writes the audio as a second
 * output into `tap()`. While no packet comes (the microphone unplugged, the
 * source restarting) listeners get silence, so their players keep time.
 */
import { log } from "../log.ts";
import { OggOpusReader, opusSamples, OPUS_SILENCE_20MS } from "../media/opus/ogg-opus.ts";
import { AlsaCapture } from "../sources/audio/alsa-capture.ts";
import type { AudioInput } from "../sources/audio/audio-input.ts";
import type { AudioTap } from "../sources/audio/audio-tap.ts";
import { Lease } from "./lease.ts";
import { levelOf, OPUS_BITRATE_KBPS } from "../sources/audio/opus-args.ts";

export interface AudioPacket {
  readonly payload: Uint8Array;
  /** 48 kHz RTP clock: performance.now() × 48 when the packet's sound began, give or take the anchor's tolerance. */
  readonly timestamp: number;
  readonly samples: number;
  /** Silence made here while the input gave nothing. */
  readonly filler: boolean;
}

export interface AudioFeedSettings {
  readonly ffmpeg: string;
  /** How long an ALSA capture keeps running after the last listener left. */
  readonly lingerMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  /** The clock packets are stamped with, in ms (performance.now; tests give their own). */
  readonly now?: () => number;
}

export interface AudioStats {
  readonly input: string;
  readonly codec: "opus";
  readonly bitrateKbps: number;
  /** An encoder runs (the ALSA ffmpeg's pid, or the capture's own for a source's track). */
  readonly encoderPid: number | null;
  readonly packets: number;
  /** Silence packets sent because the input gave nothing. */
  readonly silencePackets: number;
  /** RMS level of the last tenth of a second, dBFS (null before the first, -120 for digital silence). */
  readonly levelDb: number | null;
  /** Viewers that take the sound (WebRTC peers whose offer had audio, RTSP sessions that set its track up, and a stream's HLS muxer while it runs: one, whatever its number of players). */
  readonly listeners: number;
  readonly restarts: number;
}

/**
 * How packets are stamped: each follows the last one (its samples later),
 * so the sound stays continuous. Every WINDOW_MS the least lateness of the
 * window's packets (arrival − stamp; a busy machine only ever delays a
 * packet, so the least is the anchor's own error) moves the anchor when it
 * is more than MIN_LATE_MS either way: later when the microphone's clock
 * runs slower than ours, earlier when the first packets came late or in a
 * burst. A packet after a gap of GAP_MS (a restart) is anchored at once.
 */
const WINDOW_MS = 2000;
const MIN_LATE_MS = 5;
const GAP_MS = 500;
/** Silence is sent when no packet came for this long. */
const SILENCE_AFTER_MS = 100;
const TICK_MS = 20;
const SAMPLES_20MS = 960;

export function audioInputText(input: AudioInput): string {
  return input.kind === "source" ? "source" : `alsa:${input.device}`;
}

export class AudioFeed {
  readonly #subscribers = new Set<(packet: AudioPacket) => void>();
  readonly #alsa: AlsaCapture | null;
  /** A microphone's ffmpeg runs while someone listens, and lingerMs after (the program's one lease helper). */
  readonly #lease: Lease;
  #silenceTimer: ReturnType<typeof setInterval> | null = null;
  #next: number | null = null;
  /** The least lateness (in samples) of the packets since #windowAt. */
  #minLate = Infinity;
  #windowAt = 0;
  #lastPacketAt = 0;
  #packets = 0;
  #silence = 0;
  #level: number | null = null;
  #pid: number | null = null;
  #reader = new OggOpusReader();
  readonly #now: () => number;

  constructor(
    readonly streamName: string,
    readonly input: AudioInput,
    settings: AudioFeedSettings,
  ) {
    this.#now = settings.now ?? (() => performance.now());
    this.#lease = new Lease({ start: () => this.#alsa?.start(), stop: () => this.#alsa?.stop(), lingerMs: settings.lingerMs });
    this.#alsa =
      input.kind === "alsa"
        ? new AlsaCapture(
            { ffmpeg: settings.ffmpeg, device: input.device, label: `audio[${streamName}]`, backoff: settings.backoff },
            {
              packet: (p) => this.#packet(p),
              level: (db) => {
                this.#level = db;
              },
              process: (pid) => {
                this.#pid = pid;
              },
            },
          )
        : null;
  }

  /** The RTP clock (48 kHz) now: what a sender report pairs with the wall clock. */
  static rtpNow(): number {
    return Math.round(performance.now() * 48) >>> 0;
  }

  get listeners(): number {
    return this.#lease.holders;
  }

  stats(): AudioStats {
    return {
      input: audioInputText(this.input),
      codec: "opus",
      bitrateKbps: OPUS_BITRATE_KBPS,
      encoderPid: this.#pid,
      packets: this.#packets,
      silencePackets: this.#silence,
      levelDb: this.#level === null ? null : Math.max(-120, Math.round(this.#level * 10) / 10),
      listeners: this.#lease.holders,
      restarts: this.#alsa?.restarts ?? 0,
    };
  }

  /** The tap a source's capture writes its audio output into (for `--audio source`). */
  tap(): AudioTap {
    return {
      begin: (pid) => {
        this.#reader = new OggOpusReader();
        this.#pid = pid;
      },
      end: () => {
        this.#pid = null;
      },
      write: (chunk) => {
        for (const p of this.#reader.push(chunk)) this.#packet(p);
      },
      line: (text) => {
        const level = levelOf(text);
        if (level === null) return false;
        this.#level = level;
        return true;
      },
    };
  }

  /** Keeps the sound coming (and silence while it cannot) until the returned function is called. */
  hold(): () => void {
    const release = this.#lease.hold();
    this.#silenceTimer ??= setInterval(() => this.#fillSilence(), TICK_MS);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (this.#lease.holders > 0) return;
      if (this.#silenceTimer) clearInterval(this.#silenceTimer);
      this.#silenceTimer = null;
    };
  }

  /** Calls `fn` with every packet; returns the unsubscribe function. */
  subscribe(fn: (packet: AudioPacket) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  async close(): Promise<void> {
    if (this.#silenceTimer) clearInterval(this.#silenceTimer);
    this.#silenceTimer = null;
    await this.#lease.close();
    await this.#alsa?.stop();
  }

  #packet(payload: Uint8Array): void {
    const samples = opusSamples(payload);
    if (samples === 0) return;
    const now = this.#now();
    this.#lastPacketAt = now;
    this.#emit(payload, samples, false, now);
  }

  /** The packet's timestamp follows the last one's, unless that strays from the clock (see ANCHOR_TOLERANCE_MS). */
  #emit(payload: Uint8Array, samples: number, filler: boolean, now: number): void {
    const clock = now * 48;
    let next = this.#next ?? clock;
    const late = clock - next; // > 0: the packet came later than its predecessors' pace says
    if (this.#next === null || late > GAP_MS * 48) {
      if (this.#next !== null && !filler) log.debug(`audio[${this.streamName}]: timestamps re-anchored after a gap of ${Math.round(late / 48)} ms`);
      next = clock;
      this.#minLate = Infinity;
      this.#windowAt = now;
    } else {
      this.#minLate = Math.min(this.#minLate, late);
      if (now - this.#windowAt >= WINDOW_MS) {
        if (Math.abs(this.#minLate) > MIN_LATE_MS * 48) next += this.#minLate;
        this.#minLate = Infinity;
        this.#windowAt = now;
      }
    }
    const packet: AudioPacket = { payload, timestamp: Math.round(next) >>> 0, samples, filler };
    this.#next = next + samples;
    if (filler) this.#silence++;
    else this.#packets++;
    for (const fn of this.#subscribers) fn(packet);
  }

  #fillSilence(): void {
    const now = this.#now();
    if (now - this.#lastPacketAt < SILENCE_AFTER_MS) return;
    // Fill up to the clock, 20 ms at a time.
    const due = now * 48;
    let n = 0;
    while ((this.#next === null || this.#next <= due) && n++ < 10) this.#emit(OPUS_SILENCE_20MS, SAMPLES_20MS, true, now);
  }
}
