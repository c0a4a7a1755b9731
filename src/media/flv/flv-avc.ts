/**
 * H.264 access units out of an FLV byte stream (what ffmpeg writes with
 * `-f flv`), as soon as each one's last byte is in.
 *
 * Why FLV: in a raw Annex B stream the end of a picture is only known when
 * the next one begins, so an encoder's picture waited a whole frame interval
 * (33 ms at 30 fps) before it could be handed on. FLV gives each picture as
 * one tag with its length up front. A video tag of AVC NAL units
 * (AVCPacketType 1) holds the picture's NAL units with 4-byte lengths; the
 * sequence header (AVCPacketType 0) is skipped, since the encoder repeats
 * SPS and PPS in its keyframes. ffmpeg puts the encoder's global SEI in
 * front of the first picture's access unit delimiter: NAL units before a
 * delimiter are dropped so that the delimiter comes first, as H.264 wants.
 *
 * Bounded: a tag over `maxTagBytes` is an error (a broken stream), never a
 * growing buffer.
 */
import { NAL, nalType, type AccessUnit } from "../h264/annexb.ts";

const FLV_HEADER = 9 + 4; // "FLV", version, flags, header size; PreviousTagSize0
const TAG_HEADER = 11;
const TAG_VIDEO = 9;
const CODEC_AVC = 7;
const AVC_NALU = 1;

export const DEFAULT_MAX_TAG_BYTES = 32 * 1024 * 1024;

/** An access unit with its FLV tag's time: the encoder's presentation time of the picture, in ms. */
export interface FlvAccessUnit extends AccessUnit {
  readonly ms: number;
}

export class FlvAvcReader {
  readonly #maxTagBytes: number;
  #buf = new Uint8Array(64 * 1024);
  #len = 0;
  #headerDone = false;

  constructor(maxTagBytes = DEFAULT_MAX_TAG_BYTES) {
    this.#maxTagBytes = maxTagBytes;
  }

  /** Feeds bytes; returns the access units completed by them. Throws on a stream that is not FLV. */
  push(chunk: Uint8Array): FlvAccessUnit[] {
    this.#append(chunk);
    const out: FlvAccessUnit[] = [];
    let at = 0;
    if (!this.#headerDone) {
      if (this.#len < FLV_HEADER) return out;
      if (this.#buf[0] !== 0x46 || this.#buf[1] !== 0x4c || this.#buf[2] !== 0x56) throw new Error("the encoder's output is not FLV");
      const headerSize = readU32(this.#buf, 5);
      at = headerSize + 4;
      this.#headerDone = true;
    }
    for (;;) {
      if (this.#len - at < TAG_HEADER) break;
      const type = this.#buf[at]! & 0x1f;
      const size = (this.#buf[at + 1]! << 16) | (this.#buf[at + 2]! << 8) | this.#buf[at + 3]!;
      if (size > this.#maxTagBytes) throw new Error(`an FLV tag of ${size} bytes is over the ${this.#maxTagBytes}-byte limit`);
      const total = TAG_HEADER + size + 4;
      if (this.#len - at < total) break;
      if (type === TAG_VIDEO) {
        const au = accessUnitOf(this.#buf.subarray(at + TAG_HEADER, at + TAG_HEADER + size));
        // The tag's time: 24 bits, then an eighth byte with the high bits (no B-frames: no composition offset).
        const ms = ((this.#buf[at + 7]! << 24) >>> 0) + (this.#buf[at + 4]! << 16) + (this.#buf[at + 5]! << 8) + this.#buf[at + 6]!;
        if (au) out.push({ ...au, ms });
      }
      at += total;
    }
    if (at > 0) {
      this.#buf.copyWithin(0, at, this.#len);
      this.#len -= at;
    }
    return out;
  }

  #append(chunk: Uint8Array): void {
    if (this.#len + chunk.length > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + chunk.length));
      bigger.set(this.#buf.subarray(0, this.#len));
      this.#buf = bigger;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
  }
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
}

/** The access unit of one video tag's data, or null for anything but AVC NAL units. */
function accessUnitOf(data: Uint8Array): AccessUnit | null {
  if (data.length < 5 || (data[0]! & 0x0f) !== CODEC_AVC || data[1] !== AVC_NALU) return null;
  let nals: Uint8Array[] = [];
  for (let at = 5; at + 4 <= data.length; ) {
    const size = readU32(data, at);
    if (size === 0 || at + 4 + size > data.length) break; // damaged: keep what is whole
    nals.push(data.slice(at + 4, at + 4 + size));
    at += 4 + size;
  }
  const aud = nals.findIndex((nal) => nalType(nal) === NAL.AUD);
  if (aud > 0) nals = nals.slice(aud);
  if (nals.length === 0) return null;
  return { nals, keyframe: nals.some((nal) => nalType(nal) === NAL.IDR) };
}
