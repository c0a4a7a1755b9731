/**
 * A WebRTC peer's sound: the stream's Opus packets (made once for every
 * peer, see stream/audio-feed.ts), each numbered here with this peer's own
 * sequence numbers and timestamp offset; werift's sender puts in the SSRC
 * and payload type it negotiated, and sends reports from the shared clock
 * (sender-clock.ts). Held on the feed while the peer lives.
 */
import { RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpSender } from "werift";
import type { AudioFeed, AudioPacket } from "../../stream/audio-feed.ts";
import { clockSenderReports } from "./sender-clock.ts";

/** Opus as every browser takes it (RFC 7587: always "2" channels in SDP; the packets say mono). */
export function opusCodec(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: "audio/opus",
    clockRate: 48000,
    channels: 2,
    parameters: "minptime=10;useinbandfec=1",
  });
}

export class AudioSender {
  #seq = (Math.random() * 0xffff) | 0;
  readonly #tsOffset = (Math.random() * 0xffffffff) >>> 0;
  #release: (() => void) | null = null;
  #unsubscribe: (() => void) | null = null;
  #stopped = false;
  #sent = 0;
  #first = true;

  constructor(
    feed: AudioFeed,
    private readonly sender: RTCRtpSender,
  ) {
    clockSenderReports(sender, (now) => Math.round(now * 48) + this.#tsOffset);
    // Held from the answer on, so that the microphone is open by the time media flows.
    this.#release = feed.hold();
    sender.onReady.once(() => {
      if (this.#stopped) return;
      this.#unsubscribe = feed.subscribe((packet) => this.#send(packet));
    });
  }

  get packetsSent(): number {
    return this.#sent;
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#release?.();
    this.#release = null;
  }

  #send(packet: AudioPacket): void {
    const header = new RtpHeader({
      payloadType: 0,
      ssrc: 0, // werift's sender fills in the negotiated ones
      sequenceNumber: this.#seq,
      timestamp: (packet.timestamp + this.#tsOffset) >>> 0,
      marker: this.#first, // the first packet of a talk spurt (RFC 7587 §4.1)
    });
    this.#first = false;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#sent++;
    void this.sender.sendRtp(new RtpPacket(header, Buffer.from(packet.payload.buffer, packet.payload.byteOffset, packet.payload.byteLength)));
  }
}
