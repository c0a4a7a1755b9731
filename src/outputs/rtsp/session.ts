/**
 * One RTSP client session (SETUP to TEARDOWN): its own SSRC, sequence
 * numbers and timestamp origin over the stream's shared H.264 feed.
 *
 * At PLAY it starts with the access units since the last keyframe (the
 * feed's cached GOP, re-timed one tick apart ending at the newest, as WebRTC
 * peers do, so a player shows "now" at once), then the live ones. The RTP
 * packets of an access unit are made once for all clients (rtp-packets.ts);
 * per client only the header fields are stamped before the bytes go out.
 *
 * Over TCP (interleaved) a client that reads slower than the stream comes
 * sees its connection's unsent bytes grow: past HIGH_WATER_BYTES it skips
 * access units until a keyframe arrives while at most half that is unsent,
 * so its memory is bounded and the picture it resumes with decodes cleanly.
 * Over UDP nothing waits: the GOP is paced (BURST_PACE_MS apart) so that a
 * client's receive buffer does not overflow, then packets go as they come.
 * RTCP sender reports go every SR_INTERVAL_MS (RFC 3550 6.4.1), with a CNAME.
 */
import type { TimedAccessUnit } from "../../encoders/h264-ffmpeg.ts";
import type { Viewer } from "../../stream/audience.ts";
import type { H264Feed } from "../../stream/h264-feed.ts";
import { rtpPacketsOf, stamp } from "./rtp-packets.ts";
import type { RtspAudioTrack } from "./audio-track.ts";

/** A TCP client's unsent bytes past which it skips to the next keyframe. */
export const HIGH_WATER_BYTES = 1024 * 1024;

/** Sends an RTCP packet on a session's transport: its RTCP port over UDP, its RTCP channel over TCP (skipped while the socket is backed up). */
export function sendRtcp(t: SessionTransport, packet: Uint8Array): void {
  if (t.kind === "udp") {
    t.sender.rtcp(packet, t.address, t.rtcpPort);
  } else if (t.sink.buffered < HIGH_WATER_BYTES) {
    const frame = new Uint8Array(4 + packet.length);
    frame[0] = 0x24;
    frame[1] = t.rtcpChannel;
    new DataView(frame.buffer).setUint16(2, packet.length);
    frame.set(packet, 4);
    t.sink.send(frame);
  }
}
export const SR_INTERVAL_MS = 5000;
const BURST_PACE_MS = 2;
/** Seconds between 1900 (NTP) and 1970 (Unix). */
const NTP_EPOCH_OFFSET = 2_208_988_800;

/** Where a TCP session's bytes go: its RTSP connection. */
export interface TcpSink {
  /** Unsent bytes queued on the connection. */
  readonly buffered: number;
  /** Sends (or queues) a copy of the bytes. */
  send(bytes: Uint8Array): void;
}

/** Sends RTP and RTCP over the server's UDP sockets. */
export interface UdpSender {
  rtp(packets: readonly Uint8Array[], address: string, port: number): void;
  rtcp(packet: Uint8Array, address: string, port: number): void;
}

export type SessionTransport =
  | { readonly kind: "tcp"; readonly sink: TcpSink; readonly rtpChannel: number; readonly rtcpChannel: number }
  | { readonly kind: "udp"; readonly sender: UdpSender; readonly address: string; readonly rtpPort: number; readonly rtcpPort: number };

export class RtspSession {
  readonly id = Buffer.from(crypto.getRandomValues(new Uint8Array(12)))
    .toString("hex")
    .toUpperCase();
  readonly ssrc = crypto.getRandomValues(new Uint32Array(1))[0]!;
  /** The sequence number and RTP time of the first packet PLAY sends (for RTP-Info). */
  readonly firstSeq = crypto.getRandomValues(new Uint16Array(1))[0]!;
  readonly firstTimestamp = crypto.getRandomValues(new Uint32Array(1))[0]!;
  lastSeen = performance.now();
  #seq = this.firstSeq;
  /** Added to the feed's 90 kHz time to give this client's RTP time; set by the first access unit sent. */
  #offset: number | null = null;
  #packets = 0;
  #octets = 0;
  #playing = false;
  #closed = false;
  #skipping = false;
  #unsubscribe: (() => void) | null = null;
  #release: (() => void) | null;
  #paceTimer: ReturnType<typeof setTimeout> | null = null;
  #srTimer: ReturnType<typeof setInterval> | null = null;
  #queue: { au: TimedAccessUnit; timestamp: number }[] = [];
  /** The sound's track, when the client set it up too (a second SETUP, trackID=1). */
  audio: RtspAudioTrack | null = null;

  constructor(
    readonly stream: string,
    readonly feed: H264Feed,
    readonly transport: SessionTransport,
    /** Its place in the stream's audience; it leaves when the session closes. */
    private readonly member: Viewer,
    /** The URL SETUP named (RTP-Info names it). */
    readonly url: string,
    private readonly onClose: (s: RtspSession) => void,
  ) {
    this.#release = feed.hold(); // the encoder starts now, so a keyframe is cached by PLAY
  }

  get playing(): boolean {
    return this.#playing;
  }
  get closed(): boolean {
    return this.#closed;
  }

  play(): void {
    if (this.#playing || this.#closed) return;
    this.#playing = true;
    this.#skipping = false;
    const gop = this.feed.currentGop();
    const newest = gop.at(-1)?.timestamp ?? 0;
    this.#queue = gop.map((au, i) => ({ au, timestamp: (newest - (gop.length - 1 - i)) >>> 0 }));
    let live = this.#queue.length > 0;
    this.#unsubscribe = this.feed.subscribe((au) => {
      if (!live && !au.keyframe) return; // no cached keyframe: start at the next one
      live = true;
      if (this.#queue.length > 0 || this.#paceTimer) this.#queue.push({ au, timestamp: au.timestamp });
      else this.#send(au, au.timestamp);
    });
    this.#drain();
    this.#srTimer = setInterval(() => this.#senderReport(), SR_INTERVAL_MS);
    this.audio?.play();
  }

  /** Stops sending; a later PLAY starts again at a keyframe. */
  pause(): void {
    if (!this.#playing) return;
    this.#playing = false;
    this.#stopSending();
    this.audio?.pause();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#playing = false;
    this.#stopSending();
    this.audio?.close();
    this.#release?.();
    this.#release = null;
    this.member.leave();
    this.onClose(this);
  }

  /** A receiver report or a request named this session. */
  touch(): void {
    this.lastSeen = performance.now();
  }

  #stopSending(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#paceTimer) clearTimeout(this.#paceTimer);
    this.#paceTimer = null;
    if (this.#srTimer) clearInterval(this.#srTimer);
    this.#srTimer = null;
    this.#queue = [];
  }

  #drain(): void {
    this.#paceTimer = null;
    while (this.#queue.length > 0 && this.#playing) {
      const next = this.#queue.shift()!;
      this.#send(next.au, next.timestamp);
      if (this.transport.kind === "udp" && this.#queue.length > 0) {
        this.#paceTimer = setTimeout(() => this.#drain(), BURST_PACE_MS);
        return;
      }
    }
  }

  #send(au: TimedAccessUnit, timestamp: number): void {
    const t = this.transport;
    if (t.kind === "tcp") {
      const buffered = t.sink.buffered;
      if (buffered > HIGH_WATER_BYTES) this.#skipping = true;
      if (this.#skipping) {
        if (!au.keyframe || buffered > HIGH_WATER_BYTES / 2) {
          this.member.skip(1);
          return;
        }
        this.#skipping = false;
      }
    }
    const first = this.#offset === null;
    this.#offset ??= this.firstTimestamp - timestamp;
    const packets = rtpPacketsOf(au);
    this.#seq = stamp(packets, t.kind === "tcp" ? t.rtpChannel : 0, this.#seq, timestamp + this.#offset, this.ssrc);
    if (t.kind === "tcp") t.sink.send(packets.bytes);
    else t.sender.rtp(packets.udp, t.address, t.rtpPort);
    this.#packets += packets.offsets.length;
    this.#octets += packets.payloadBytes;
    this.member.sent();
    if (first) this.#senderReport();
  }

  /** An RTCP compound packet: a sender report and an SDES with this session's CNAME. */
  #senderReport(): void {
    if (this.#offset === null || this.#closed) return;
    const cname = Buffer.from(`glasscast-${this.id.slice(0, 8).toLowerCase()}`);
    const sdesWords = Math.ceil((4 + 2 + cname.length + 1) / 4); // SSRC, type+length, text, end
    const packet = new Uint8Array(28 + 4 + sdesWords * 4);
    const view = new DataView(packet.buffer);
    const wall = Date.now();
    const rtpNow = (Math.round(performance.now() * 90) + this.#offset) >>> 0;
    view.setUint8(0, 0x80);
    view.setUint8(1, 200);
    view.setUint16(2, 6);
    view.setUint32(4, this.ssrc);
    view.setUint32(8, (Math.floor(wall / 1000) + NTP_EPOCH_OFFSET) >>> 0);
    view.setUint32(12, Math.floor(((wall % 1000) / 1000) * 0x100000000) >>> 0);
    view.setUint32(16, rtpNow);
    view.setUint32(20, this.#packets >>> 0);
    view.setUint32(24, this.#octets >>> 0);
    view.setUint8(28, 0x81);
    view.setUint8(29, 202);
    view.setUint16(30, sdesWords);
    view.setUint32(32, this.ssrc);
    view.setUint8(36, 1); // CNAME
    view.setUint8(37, cname.length);
    packet.set(cname, 38); // the rest is zero: the end item and padding
    sendRtcp(this.transport, packet);
  }
}
