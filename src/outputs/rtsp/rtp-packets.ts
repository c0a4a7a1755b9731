/**
 * An access unit's RTP packets, made once and shared by every RTSP client.
 *
 * `rtpPacketsOf(au)` packetizes the access unit (RFC 6184, see
 * ../../media/h264/rtp-h264.ts) into ONE buffer laid out as TCP-interleaved frames:
 *
 *     '$' channel len16 | RTP header (12) | payload   — for each packet
 *
 * with the marker bit set on the last packet and the per-client fields
 * (channel, sequence number, timestamp, SSRC) left blank. `stamp()` writes
 * one client's fields into that shared buffer in place, just before the
 * buffer goes to that client's socket (a TCP write or UDP send copies the
 * bytes synchronously, so the next client can stamp the same buffer at
 * once). A TCP client gets the whole buffer in one write; a UDP client gets
 * each packet without its 4-byte interleave prefix.
 */
import type { AccessUnit } from "../../media/h264/annexb.ts";
import { packetizeH264 } from "../../media/h264/rtp-h264.ts";
import { PAYLOAD_TYPE } from "./sdp.ts";

/** Payload bytes per packet: the RTP packet (12 + 1400) fits a 1500-byte Ethernet MTU with IP and UDP headers. */
export const RTSP_MAX_PAYLOAD = 1400;
const PREFIX = 4;
const HEADER = 12;

export interface RtpPackets {
  /** Interleaved frames back to back. */
  readonly bytes: Uint8Array;
  /** Where each frame starts (its '$'). */
  readonly offsets: readonly number[];
  /** Each RTP packet without its interleave prefix (views into `bytes`, for UDP). */
  readonly udp: readonly Uint8Array[];
  /** Payload bytes in all (for RTCP sender reports' octet count). */
  readonly payloadBytes: number;
}

const cache = new WeakMap<AccessUnit, RtpPackets>();

export function rtpPacketsOf(au: AccessUnit): RtpPackets {
  let packets = cache.get(au);
  if (packets) return packets;
  const payloads = packetizeH264(au, RTSP_MAX_PAYLOAD);
  let size = 0;
  let payloadBytes = 0;
  for (const p of payloads) {
    size += PREFIX + HEADER + p.length;
    payloadBytes += p.length;
  }
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const offsets: number[] = [];
  let pos = 0;
  payloads.forEach((p, i) => {
    offsets.push(pos);
    bytes[pos] = 0x24;
    view.setUint16(pos + 2, HEADER + p.length);
    bytes[pos + PREFIX] = 0x80; // V=2
    bytes[pos + PREFIX + 1] = (i === payloads.length - 1 ? 0x80 : 0) | PAYLOAD_TYPE;
    bytes.set(p, pos + PREFIX + HEADER);
    pos += PREFIX + HEADER + p.length;
  });
  const udp = offsets.map((o, i) => bytes.subarray(o + PREFIX, i + 1 < offsets.length ? offsets[i + 1]! : bytes.length));
  packets = { bytes, offsets, udp, payloadBytes };
  cache.set(au, packets);
  return packets;
}

/**
 * Writes a client's channel, sequence numbers (from `firstSeq`, one per
 * packet), timestamp and SSRC into the shared buffer; returns the sequence
 * number that follows.
 */
export function stamp(packets: RtpPackets, channel: number, firstSeq: number, timestamp: number, ssrc: number): number {
  const { bytes, offsets } = packets;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let seq = firstSeq;
  for (const o of offsets) {
    bytes[o + 1] = channel;
    view.setUint16(o + PREFIX + 2, seq);
    view.setUint32(o + PREFIX + 4, timestamp >>> 0);
    view.setUint32(o + PREFIX + 8, ssrc >>> 0);
    seq = (seq + 1) & 0xffff;
  }
  return seq;
}
