/**
 * A stream fed by an RTSP publisher (ANNOUNCE and RECORD, RFC 2326 sections
 * 10.3 and 10.11): `--source NAME=rtsp-push:PATH`. The RTSP server
 * (outputs/rtsp/) speaks the protocol and authenticates the publisher; this
 * is its session as the stream sees it: the RTP packets of the announced
 * H.264 track put back into access units by the WHIP ingest's depacketizer,
 * and handed to the stream untouched, one publisher at a time
 * (ingest/pushed-ingest.ts). A publisher ends with TEARDOWN, when its
 * connection closes, when it sends no video for the silence timeout
 * (--source-timeout), or when it sends none within CONNECT_DEADLINE_MS of
 * RECORD.
 *
 * Keyframes cannot be asked for: an RTSP publisher (ffmpeg, GStreamer, a
 * camera) sends them at its own interval, and a viewer that starts between
 * two waits for the next.
 */
import type { Frame } from "../../media/frame.ts";
import { H264Framer } from "../frame-parsers.ts";
import { PushedIngest, type PublisherSession } from "../ingest/pushed-ingest.ts";
import { H264Depacketizer } from "../whip/depacketize.ts";
import type { Announcement } from "./announcement.ts";

/** The publisher must send video this long after RECORD at the latest. */
export const CONNECT_DEADLINE_MS = 15_000;

export interface RtpHeader {
  readonly payloadType: number;
  readonly marker: boolean;
  readonly seq: number;
  readonly timestamp: number;
  readonly payload: Uint8Array;
}

/** An RTP packet's header fields and payload (RFC 3550 5.1), or null when it is not one. */
export function readRtp(p: Uint8Array): RtpHeader | null {
  if (p.length < 12 || p[0]! >> 6 !== 2) return null;
  let offset = 12 + (p[0]! & 0x0f) * 4;
  if (p[0]! & 0x10) {
    if (p.length < offset + 4) return null;
    offset += 4 + ((p[offset + 2]! << 8) | p[offset + 3]!) * 4;
  }
  let end = p.length;
  if (p[0]! & 0x20) end -= p[p.length - 1]!;
  if (offset > end) return null;
  return {
    payloadType: p[1]! & 0x7f,
    marker: (p[1]! & 0x80) !== 0,
    seq: (p[2]! << 8) | p[3]!,
    timestamp: ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0,
    payload: p.subarray(offset, end),
  };
}

export class RtspPublisher implements PublisherSession {
  bytes = 0;
  frames = 0;
  /** Packets that were not RTP of the announced H.264 payload type. */
  ignored = 0;
  connected = false;
  /** Called once it has ended, whatever ended it (the RTSP server closes its connection). */
  onEnded: ((reason: string) => void) | null = null;
  #ended = false;
  #endReason = "";
  #lastRtpAt = performance.now();
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  readonly #depacketizer = new H264Depacketizer();
  readonly #framer = new H264Framer();

  constructor(
    readonly address: string,
    private readonly announcement: Announcement,
    silenceMs: number,
    private readonly onFrame: (frame: Frame) => void,
    private readonly onEnd: (p: RtspPublisher, reason: string) => void,
  ) {
    this.#framer.seed(announcement.parameterSets);
    this.#timers.push(
      setTimeout(() => {
        if (!this.connected) this.end(`it sent no video within ${CONNECT_DEADLINE_MS / 1000} s of RECORD`);
      }, CONNECT_DEADLINE_MS),
    );
    this.#timers.push(
      setInterval(
        () => {
          if (this.connected && performance.now() - this.#lastRtpAt > silenceMs) this.end(`no video from the publisher for ${silenceMs / 1000} s`);
        },
        Math.min(1000, silenceMs / 2),
      ),
    );
  }

  get ended(): boolean {
    return this.#ended;
  }
  get endReason(): string {
    return this.#endReason;
  }
  get dropped(): number {
    return this.#depacketizer.dropped;
  }

  /** One RTP packet of the video track (interleaved, or a UDP datagram). */
  rtp(packet: Uint8Array): void {
    if (this.#ended) return;
    const rtp = readRtp(packet);
    if (!rtp || rtp.payloadType !== this.announcement.payloadType) {
      this.ignored++;
      return;
    }
    this.#lastRtpAt = performance.now();
    this.connected = true;
    this.bytes += rtp.payload.length;
    for (const au of this.#depacketizer.push(rtp.payload, rtp.seq, rtp.timestamp, rtp.marker)) {
      this.frames++;
      this.onFrame(this.#framer.frame(au));
    }
  }

  /** RTSP publishers send keyframes at their own interval. */
  requestKeyframe(): void {}

  end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endReason = reason;
    for (const t of this.#timers) clearTimeout(t);
    this.onEnd(this, reason);
    this.onEnded?.(reason);
  }
}

export interface RtspIngestOptions {
  /** The stream's name (for logs). */
  readonly stream: string;
  /** Where publishers push: rtsp://HOST:PORT/PATH (for /state and logs). */
  readonly url: string;
  /** A publisher that sends nothing this long is gone. */
  readonly silenceMs: number;
}

export class RtspIngest extends PushedIngest<RtspPublisher> {
  readonly description: string;

  constructor(private readonly options: RtspIngestOptions) {
    super(options.stream);
    this.description = `RTSP push to ${options.url}`;
  }

  get endpoint(): string {
    return this.options.url;
  }

  /** Throws IngestBusy while a publisher sends (ANNOUNCE is refused early). */
  ensureFree(): void {
    this.checkFree();
  }

  /** RECORD: `address` starts publishing what it announced; IngestBusy while another one sends. */
  record(address: string, announcement: Announcement): RtspPublisher {
    this.checkFree();
    const publisher = new RtspPublisher(
      address,
      announcement,
      this.options.silenceMs,
      (frame) => this.push(publisher, frame),
      (p, reason) => this.ended(p, reason),
    );
    this.attach(publisher);
    return publisher;
  }
}
