/**
 * An RTSP session's sound (the second track, trackID=1, with --audio): the
 * stream's Opus packets, made once for every listener (stream/audio-feed.ts),
 * each sent with this track's own SSRC, sequence numbers and timestamp
 * origin (a 12-byte header per client; the payload is shared), over the
 * track's own interleaved channels or UDP ports. Sender reports pair the
 * wall clock with the 48 kHz clock at one instant, as the picture's do with
 * the 90 kHz clock (session.ts), so players line the two up. A TCP client
 * that reads too slowly loses sound packets (never the memory).
 */
import type { AudioFeed, AudioPacket } from "../../stream/audio-feed.ts";
import { AUDIO_PAYLOAD_TYPE } from "./sdp.ts";
import { HIGH_WATER_BYTES, SR_INTERVAL_MS, type SessionTransport, sendRtcp } from "./session.ts";

const NTP_EPOCH_OFFSET = 2_208_988_800;

export class RtspAudioTrack {
  readonly ssrc = crypto.getRandomValues(new Uint32Array(1))[0]!;
  readonly firstSeq = crypto.getRandomValues(new Uint16Array(1))[0]!;
  readonly firstTimestamp = crypto.getRandomValues(new Uint32Array(1))[0]!;
  #seq = this.firstSeq;
  #offset: number | null = null;
  #packets = 0;
  #octets = 0;
  #unsubscribe: (() => void) | null = null;
  #release: (() => void) | null;
  #srTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly feed: AudioFeed,
    readonly transport: SessionTransport,
    /** The URL SETUP named (RTP-Info names it). */
    readonly url: string,
  ) {
    this.#release = feed.hold();
  }

  play(): void {
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.feed.subscribe((packet) => this.#send(packet));
    this.#srTimer = setInterval(() => this.#senderReport(), SR_INTERVAL_MS);
  }

  pause(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#srTimer) clearInterval(this.#srTimer);
    this.#srTimer = null;
  }

  close(): void {
    this.pause();
    this.#release?.();
    this.#release = null;
  }

  #send(packet: AudioPacket): void {
    const t = this.transport;
    if (t.kind === "tcp" && t.sink.buffered > HIGH_WATER_BYTES) return;
    const first = this.#offset === null;
    this.#offset ??= this.firstTimestamp - packet.timestamp;
    const frame = new Uint8Array(4 + 12 + packet.payload.length);
    const view = new DataView(frame.buffer);
    frame[0] = 0x24;
    frame[1] = t.kind === "tcp" ? t.rtpChannel : 0;
    view.setUint16(2, 12 + packet.payload.length);
    frame[4] = 0x80;
    frame[5] = (first ? 0x80 : 0) | AUDIO_PAYLOAD_TYPE;
    view.setUint16(6, this.#seq);
    view.setUint32(8, (packet.timestamp + this.#offset) >>> 0);
    view.setUint32(12, this.ssrc);
    frame.set(packet.payload, 16);
    this.#seq = (this.#seq + 1) & 0xffff;
    if (t.kind === "tcp") t.sink.send(frame);
    else t.sender.rtp([frame.subarray(4)], t.address, t.rtpPort);
    this.#packets++;
    this.#octets += packet.payload.length;
    if (first) this.#senderReport();
  }

  #senderReport(): void {
    if (this.#offset === null) return;
    const packet = new Uint8Array(28);
    const view = new DataView(packet.buffer);
    const now = performance.now();
    const wall = performance.timeOrigin + now;
    view.setUint8(0, 0x80);
    view.setUint8(1, 200);
    view.setUint16(2, 6);
    view.setUint32(4, this.ssrc);
    view.setUint32(8, (Math.floor(wall / 1000) + NTP_EPOCH_OFFSET) >>> 0);
    view.setUint32(12, Math.floor(((wall % 1000) / 1000) * 0x100000000) >>> 0);
    view.setUint32(16, (Math.round(now * 48) + this.#offset) >>> 0);
    view.setUint32(20, this.#packets >>> 0);
    view.setUint32(24, this.#octets >>> 0);
    sendRtcp(this.transport, packet);
  }
}
