/**
 * H.264 over RTP (RFC 6184, packetization-mode=1), in two steps so that the
 * work per picture is done once and the work per viewer is a header:
 *
 * 1. `packetizeH264(au)` (once per access unit, shared by all peers) cuts the
 *    NAL units into RTP payloads:
 *    - runs of consecutive NAL units that fit into one payload together are
 *      aggregated into a STAP-A packet (type 24: one header byte, then for
 *      each unit a 16-bit big-endian size and the unit); at a keyframe this
 *      puts SPS + PPS (+ SEI and, when small, the slice) into one packet.
 *      libwebrtc's own packetizer aggregates the same way;
 *    - a NAL unit that fits alone is a single-NAL-unit packet (the payload is
 *      the unit itself, not a copy);
 *    - a larger one is split into FU-A fragments (type 28): FU indicator
 *      `(nal[0] & 0xE0) | 28`, FU header `S/E bits | (nal[0] & 0x1F)`, then
 *      the unit's bytes from `nal[1]` on, in fragments of nearly equal size
 *      (no tiny last packet);
 *    - access unit delimiters (type 9) and filler data (type 12) are dropped:
 *      RTP carries the picture boundary in the marker bit, and filler is
 *      padding.
 * 2. `RtpSequencer.packets(payloads, timestamp)` (once per peer) prepends a
 *    12-byte RTP header with the peer's own sequence numbers, SSRC and
 *    payload type, and sets the marker bit on the last packet of the picture.
 */
import { NAL, nalType, type AccessUnit } from "./annexb.ts";

/** A payload size that keeps the whole packet under a 1280-byte IPv6 minimum MTU after SRTP, UDP and IP headers. */
export const DEFAULT_MAX_PAYLOAD = 1200;

/** STAP-A header byte plus one 16-bit size. */
const STAP_A_OVERHEAD = 3;

/** RTP payloads for one access unit, in order; each is at most `maxPayload` bytes. */
export function packetizeH264(au: AccessUnit, maxPayload: number = DEFAULT_MAX_PAYLOAD): Uint8Array[] {
  if (!Number.isInteger(maxPayload) || maxPayload < 3 || maxPayload > 65535) {
    throw new RangeError(`maxPayload must be an integer from 3 to 65535, got ${maxPayload}`);
  }
  const nals = au.nals.filter((nal) => {
    const type = nalType(nal);
    return nal.length > 0 && type !== NAL.AUD && type !== NAL.FILLER;
  });
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < nals.length) {
    const nal = nals[i]!;
    if (nal.length > maxPayload) {
      fragment(nal, maxPayload, out);
      i++;
      continue;
    }
    // Extend a run of units that fit into one STAP-A together.
    let size = STAP_A_OVERHEAD + nal.length;
    let j = i + 1;
    while (j < nals.length && size + 2 + nals[j]!.length <= maxPayload) {
      size += 2 + nals[j]!.length;
      j++;
    }
    if (j - i === 1) {
      out.push(nal);
    } else {
      out.push(aggregate(nals, i, j, size));
    }
    i = j;
  }
  return out;
}

/** A STAP-A packet of `nals[from, to)`, `size` bytes long. */
function aggregate(nals: Uint8Array[], from: number, to: number, size: number): Uint8Array {
  const packet = new Uint8Array(size);
  let forbidden = 0;
  let nri = 0;
  let pos = 1;
  for (let k = from; k < to; k++) {
    const nal = nals[k]!;
    const header = nal[0]!;
    forbidden |= header & 0x80;
    nri = Math.max(nri, header & 0x60);
    packet[pos] = nal.length >>> 8;
    packet[pos + 1] = nal.length & 0xff;
    packet.set(nal, pos + 2);
    pos += 2 + nal.length;
  }
  packet[0] = forbidden | nri | NAL.STAP_A;
  return packet;
}

/** FU-A fragments of one NAL unit, of nearly equal size. */
function fragment(nal: Uint8Array, maxPayload: number, out: Uint8Array[]): void {
  const header = nal[0]!;
  const indicator = (header & 0xe0) | NAL.FU_A;
  const type = header & 0x1f;
  const dataLength = nal.length - 1;
  const count = Math.ceil(dataLength / (maxPayload - 2));
  const base = Math.floor(dataLength / count);
  const longer = dataLength % count; // the first `longer` fragments carry one byte more
  let pos = 1;
  for (let k = 0; k < count; k++) {
    const length = base + (k < longer ? 1 : 0);
    const packet = new Uint8Array(2 + length);
    packet[0] = indicator;
    packet[1] = (k === 0 ? 0x80 : 0) | (k === count - 1 ? 0x40 : 0) | type;
    packet.set(nal.subarray(pos, pos + length), 2);
    pos += length;
    out.push(packet);
  }
}
