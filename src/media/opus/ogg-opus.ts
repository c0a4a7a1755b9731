/**
 * Opus packets out of an Ogg stream (RFC 7845), as ffmpeg's ogg muxer writes
 * them to a pipe: pages are cut from the bytes as they come, packets are
 * joined from their lacing segments (a packet may span pages), and the two
 * header packets (OpusHead, OpusTags) are skipped. No CRC check: the bytes
 * come from a local pipe, not a lossy medium.
 */
const CAPTURE = 0x4f676753; // "OggS"
const HEADER = 27;

export class OggOpusReader {
  #buffer: Uint8Array = new Uint8Array(0);
  #partial: Uint8Array[] = [];
  #packets = 0;

  /** The whole Opus packets completed by this chunk (headers skipped). */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#buffer = this.#buffer.length === 0 ? chunk.slice() : concat([this.#buffer, chunk]);
    const out: Uint8Array[] = [];
    let at = 0;
    const b = this.#buffer;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (;;) {
      if (b.length - at < HEADER) break;
      if (view.getUint32(at) !== CAPTURE) {
        // Lost sync (never with ffmpeg's output): look for the next page.
        const next = indexOfCapture(b, at + 1);
        if (next < 0) {
          at = Math.max(at, b.length - 3);
          break;
        }
        at = next;
        this.#partial = [];
        continue;
      }
      const segments = b[at + 26]!;
      if (b.length - at < HEADER + segments) break;
      let size = 0;
      for (let i = 0; i < segments; i++) size += b[at + HEADER + i]!;
      const end = at + HEADER + segments + size;
      if (b.length < end) break;
      const continued = (b[at + 5]! & 1) !== 0;
      if (!continued) this.#partial = [];
      let offset = at + HEADER + segments;
      for (let i = 0; i < segments; i++) {
        const lace = b[at + HEADER + i]!;
        this.#partial.push(b.subarray(offset, offset + lace));
        offset += lace;
        if (lace < 255) {
          const packet = concat(this.#partial);
          this.#partial = [];
          if (this.#packets++ >= 2) out.push(packet);
        }
      }
      // Segments still open at the page's end continue on the next page: keep them as copies.
      this.#partial = this.#partial.map((p) => p.slice());
      at = end;
    }
    this.#buffer = at === 0 ? b : b.slice(at);
    return out;
  }
}

function indexOfCapture(b: Uint8Array, from: number): number {
  for (let i = from; i + 4 <= b.length; i++) {
    if (b[i] === 0x4f && b[i + 1] === 0x67 && b[i + 2] === 0x67 && b[i + 3] === 0x53) return i;
  }
  return -1;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!.slice();
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Frame length in 48 kHz samples of each Opus configuration (RFC 6716 §3.1, TOC byte's top five bits). */
const FRAME_SAMPLES = [
  480,
  960,
  1920,
  2880,
  480,
  960,
  1920,
  2880,
  480,
  960,
  1920,
  2880, // SILK NB, MB, WB: 10, 20, 40, 60 ms
  480,
  960,
  480,
  960, // hybrid SWB, FB: 10, 20 ms
  120,
  240,
  480,
  960,
  120,
  240,
  480,
  960,
  120,
  240,
  480,
  960,
  120,
  240,
  480,
  960, // CELT: 2.5, 5, 10, 20 ms
];

/** The packet's duration in 48 kHz samples, from its TOC byte (and frame count byte), 0 when unreadable. */
export function opusSamples(packet: Uint8Array): number {
  if (packet.length === 0) return 0;
  const toc = packet[0]!;
  const per = FRAME_SAMPLES[toc >> 3]!;
  switch (toc & 3) {
    case 0:
      return per;
    case 1:
    case 2:
      return 2 * per;
    default:
      return packet.length > 1 ? (packet[1]! & 0x3f) * per : 0;
  }
}

/**
 * 20 ms of silence, full band (CELT, TOC 0xF8): the packet browsers and
 * libopus themselves send for digital silence. Sent while the microphone is
 * gone, so that every receiver's clock keeps running.
 */
export const OPUS_SILENCE_20MS = new Uint8Array([0xf8, 0xff, 0xfe]);
