/**
 * Opus packets into an Ogg stream (RFC 7845), for an ffmpeg that reads Ogg on
 * its stdin: the ID and comment headers first, then a page per packet with
 * its granule position (48 kHz samples so far) and the CRC Ogg requires.
 */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  return crc;
}

/**
 * The largest Opus packet (RFC 6716 §3.2.5: at most 48 frames of at most 1275
 * bytes, plus the TOC and frame-count bytes and the frame lengths). One page's
 * lacing holds at most 255 × 255 bytes, so a bigger "packet" cannot be one page.
 */
export const MAX_OPUS_PACKET = 48 * 1275 + 2 + 48 * 2;

export class OggOpusWriter {
  readonly #serial = (Math.random() * 0xffffffff) >>> 0;
  #sequence = 0;
  #granule = 0n;

  constructor(private readonly channels = 1) {}

  /** The two header pages (OpusHead, OpusTags). */
  headers(): Uint8Array {
    const head = new Uint8Array(19);
    head.set(new TextEncoder().encode("OpusHead"), 0);
    const view = new DataView(head.buffer);
    head[8] = 1; // version
    head[9] = this.channels;
    view.setUint16(10, 312, true); // pre-skip: libopus's usual 6.5 ms
    view.setUint32(12, 48000, true); // the input's rate, for information
    const vendor = new TextEncoder().encode("glasscast");
    const tags = new Uint8Array(8 + 4 + vendor.length + 4);
    tags.set(new TextEncoder().encode("OpusTags"), 0);
    new DataView(tags.buffer).setUint32(8, vendor.length, true);
    tags.set(vendor, 12);
    return concat([this.#page(head, 0x02), this.#page(tags, 0)]);
  }

  /**
   * A page holding one packet of `samples` 48 kHz samples; nothing (an empty
   * array) for a payload larger than any Opus packet, which no page can hold.
   */
  packet(payload: Uint8Array, samples: number): Uint8Array {
    if (payload.length > MAX_OPUS_PACKET) return new Uint8Array(0);
    this.#granule += BigInt(samples);
    return this.#page(payload, 0);
  }

  #page(packet: Uint8Array, flags: number): Uint8Array {
    const lacing: number[] = [];
    let left = packet.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);
    const page = new Uint8Array(27 + lacing.length + packet.length);
    const view = new DataView(page.buffer);
    page.set([0x4f, 0x67, 0x67, 0x53], 0);
    page[5] = flags;
    view.setBigUint64(6, this.#granule, true);
    view.setUint32(14, this.#serial, true);
    view.setUint32(18, this.#sequence++, true);
    page[26] = lacing.length;
    page.set(lacing, 27);
    page.set(packet, 27 + lacing.length);
    view.setUint32(22, crc32(page), true);
    return page;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
