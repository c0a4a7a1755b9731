/**
 * Cuts a byte stream of concatenated JPEG images (what `ffmpeg -f mjpeg -`,
 * `rpicam-vid --codec mjpeg -o -` and friends write to a pipe) into whole
 * images.
 *
 * The splitter follows the JPEG marker structure instead of searching for
 * FFD9, so an EXIF thumbnail (a complete FFD8…FFD9 image inside APP1) or any
 * other payload of a length-prefixed segment cannot end the image early:
 *
 *   SOI (FFD8)
 *   marker segments: FFxx + 2-byte big-endian length (counting itself),
 *     skipped by length without looking at their bytes (APPn, COM, DQT,
 *     DHT, SOFn, DRI, …)
 *   SOS (FFDA): its header is skipped by length, then the entropy-coded data
 *     is scanned with `indexOf(0xff)`: FF00 is a stuffed byte, FFD0–FFD7
 *     (RSTn) belong to the data, FFFF is fill; any other marker ends the scan
 *     and segment walking resumes (DHT, another SOS of a progressive image…)
 *   EOI (FFD9) completes the image.
 *
 * State survives between `push` calls, so a chunk may end anywhere (inside a
 * marker, a length field, a segment, the entropy data) and the next call
 * resumes at the byte where the last one stopped: every byte is looked at
 * once (only a broken image is searched again, see below), and the only
 * per-byte JavaScript is for marker codes and length fields; segment bodies
 * are skipped arithmetically and entropy data is jumped through natively.
 *
 * Bytes are not copied into a growing buffer: an unfinished image is kept as
 * a list of pieces and copied into the image handed out when its EOI
 * arrives. A pushed chunk is the caller's again as soon as `push` returns
 * (captures read a FIFO into one reused buffer), so a held piece is a copy:
 * of its own when it is {@link COPY_BELOW} or longer, else in a reused
 * scratch buffer, so a trickle of tiny chunks doesn't become a list of tiny
 * copies.
 *
 * Damage (bytes thrown away are counted in `discarded`):
 * - bytes before an SOI are garbage (padding, a stream joined mid-image…);
 * - an SOI where a marker is expected or inside entropy data (where FFD8
 *   cannot occur) starts a new image, and the unfinished one is dropped;
 *   this is how an image cut short in its entropy data is got rid of;
 * - FF01–FFBF inside entropy data (reserved codes, no encoder writes them)
 *   are taken for damaged data, not for a segment with a made-up length;
 * - a broken structure drops the image: no FF where a marker must be, FF00
 *   or FF01–FFBF there, a length below 2, an SOS length that isn't 6 + 2
 *   per component (1 to 4), a second SOFn (hierarchical JPEG, which nobody
 *   streams, is not supported). The splitter then searches the dropped
 *   image's bytes again for an SOI, from its first table segment on,
 *   before going on with the stream: when an image is cut inside its
 *   headers, the cut segment's length reaches into the next image and skips
 *   its SOI, and this finds it again. The leading APPn/COM segments are not
 *   searched (they may hold a thumbnail), so a cut there costs the next
 *   image as well;
 * - an image without any scan (SOS), e.g. FFD8 FFD9, has no picture: dropped;
 * - an image growing beyond `maxFrameBytes` stops being buffered (`pending`
 *   never exceeds the limit) but is still parsed, without keeping its bytes,
 *   up to its end: the splitter then picks up the following image exactly,
 *   and a thumbnail inside the dropped image is not mistaken for an image.
 */

export interface JpegSplitterOptions {
  /** Largest image delivered; bigger ones are dropped. Default 32 MiB. */
  maxFrameBytes?: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 32 * 1024 * 1024;

/** Pieces of an unfinished image shorter than this are copied, not referenced. */
const COPY_BELOW = 1024;
const SCRATCH_BYTES = 64 * 1024;

const SOI_BYTES: Uint8Array = new Uint8Array([0xff, 0xd8]);

/** How deep searches for a skipped-over SOI may nest (see `#malformed`). */
const MAX_REPLAY_DEPTH = 2;

// Parser states. "Seek" states are outside an image, the others inside one.
/** Looking for FFD8. */
const SEEK = 0;
/** The previous chunk ended with FF while seeking: FFD8 if this byte is D8. */
const SEEK_FF = 1;
/** Expecting the FF that starts a marker. */
const MARKER = 2;
/** After FF where a marker is expected: the marker code (or FF fill). */
const MARKER_CODE = 3;
/** The high byte of a segment length. */
const LENGTH_HI = 4;
/** The low byte of a segment length. */
const LENGTH_LO = 5;
/** Skipping the rest of a segment (`#skip` bytes). */
const SKIP = 6;
/** Entropy-coded data after an SOS header. */
const ENTROPY = 7;
/** After FF in entropy-coded data. */
const ENTROPY_FF = 8;

const M_SOI = 0xd8;
const M_EOI = 0xd9;
const M_SOS = 0xda;

/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
function isSof(code: number): boolean {
  return code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc;
}

/** An SOS header is 6 + 2 bytes per component, for 1 to 4 components. */
function isSosLength(length: number): boolean {
  return length >= 8 && length <= 14 && (length & 1) === 0;
}

export class JpegSplitter {
  readonly #maxFrameBytes: number;

  #state = SEEK;
  /** Marker code of the segment whose length/body is being read. */
  #marker = 0;
  #lengthHi = 0;
  /** Bytes of the current segment still to skip. */
  #skip = 0;

  /** Held pieces of the unfinished image (views of chunks, or of the scratch buffer). */
  #pieces: Uint8Array[] = [];
  /** Bytes of the unfinished image in `#pieces` and the scratch buffer. */
  #held = 0;
  /** The image outgrew maxFrameBytes: it is parsed to its end but not kept. */
  #dropping = false;
  /** The image has reached an SOS: an image without one has no picture. */
  #scanned = false;
  /** The image has had its SOFn (frame header). */
  #framed = false;
  /** Offset in the image of its first segment after the leading APPn/COM ones; -1 before. */
  #tablesAt = -1;
  /** Nesting of {@link #malformed} searches (a search can find a broken image too). */
  #replays = 0;
  /** Owned buffer collecting short pieces; `[#scratchFrom, #scratchEnd)` is not in `#pieces` yet. */
  #scratch: Uint8Array | null = null;
  #scratchFrom = 0;
  #scratchEnd = 0;

  #discarded = 0;

  constructor(options: JpegSplitterOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(max) || max < 4) {
      throw new RangeError(`maxFrameBytes must be an integer of at least 4, not ${max}`);
    }
    this.#maxFrameBytes = max;
  }

  /** Bytes held for an incomplete image. */
  get pending(): number {
    return this.#held;
  }

  /** Count of bytes thrown away as garbage/corrupt so far. */
  get discarded(): number {
    return this.#discarded;
  }

  /**
   * Feeds bytes; returns the JPEG images completed by them, in stream order
   * (each a fresh Uint8Array that the caller owns). The splitter may keep
   * views of `chunk` until the image they belong to is complete: don't
   * modify it after the call.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.#feed(chunk, out);
    return out;
  }

  #feed(chunk: Uint8Array, out: Uint8Array[]): void {
    const n = chunk.length;
    let i = 0;
    /** Where the current image's bytes start in this chunk (meaningful inside an image). */
    let from = 0;
    let state = this.#state;

    while (i < n) {
      switch (state) {
        case SEEK: {
          const ff = chunk.indexOf(0xff, i);
          if (ff < 0) {
            this.#discarded += n - i;
            i = n;
          } else if (ff + 1 === n) {
            // Maybe the first half of an SOI: decided by the next chunk.
            this.#discarded += ff - i;
            i = n;
            state = SEEK_FF;
          } else if (chunk[ff + 1] === M_SOI) {
            this.#discarded += ff - i;
            i = ff + 2;
            from = i;
            this.#beginImage();
            state = MARKER;
          } else {
            // A lone FF (or FF FF: the second one is looked at next).
            this.#discarded += ff + 1 - i;
            i = ff + 1;
          }
          break;
        }

        case SEEK_FF: {
          if (chunk[i] === M_SOI) {
            i += 1;
            from = i;
            this.#beginImage();
            state = MARKER;
          } else {
            this.#discarded += 1; // the FF that ended the previous chunk
            state = SEEK;
          }
          break;
        }

        case MARKER: {
          if (chunk[i] === 0xff) {
            i += 1;
            state = MARKER_CODE;
          } else {
            // Not a marker where one must be: drop the image, look for an SOI here.
            state = this.#malformed(chunk, from, i, out);
            from = i;
          }
          break;
        }

        case MARKER_CODE:
        case ENTROPY_FF: {
          const code = chunk[i]!;
          if (code === 0xff) {
            i += 1; // fill byte: the marker code is still to come
          } else if (state === ENTROPY_FF && (code < 0xc0 || (code >= 0xd0 && code <= 0xd7))) {
            // FF00 is a stuffed FF, RSTn belongs to the data. FF01–FFBF (TEM,
            // reserved codes) cannot follow a scan: a damaged byte, which a
            // decoder gets over; taking it for a segment would make up a length.
            i += 1;
            state = ENTROPY;
          } else if (code === M_EOI) {
            i += 1;
            const image = this.#endImage(chunk.subarray(from, i));
            if (image) out.push(image);
            state = SEEK;
          } else if (code === M_SOI) {
            // A new image starts where this one had to go on: this one is cut
            // short. Its bytes end before the FF of the new SOI (which may have
            // come in the previous chunk, hence i - 1 - from may be -1).
            this.#abortImage(i - 1 - from);
            i += 1;
            from = i;
            this.#beginImage();
            state = MARKER;
          } else if (code === 0x01 || (code >= 0xd0 && code <= 0xd7)) {
            i += 1; // TEM or RSTn: stand-alone markers, no length
            state = MARKER;
          } else if (code < 0xc0) {
            // FF00 is not a marker, FF02–FFBF are reserved codes no encoder
            // writes: malformed. Look for an SOI from this byte on.
            state = this.#malformed(chunk, from, i, out);
            from = i;
          } else if (isSof(code) && this.#framed) {
            // A second frame header: this image ran into another one's headers
            // (a length from cut-short data took it there).
            state = this.#malformed(chunk, from, i, out);
            from = i;
          } else {
            if (this.#tablesAt < 0 && !(code >= 0xe0 && code <= 0xef) && code !== 0xfe) {
              // The first segment after the APPn/COM run (where thumbnails live).
              this.#tablesAt = this.#held + (i - 1 - from);
            }
            if (isSof(code)) this.#framed = true;
            i += 1;
            this.#marker = code;
            state = LENGTH_HI;
          }
          break;
        }

        case LENGTH_HI: {
          this.#lengthHi = chunk[i]!;
          i += 1;
          state = LENGTH_LO;
          break;
        }

        case LENGTH_LO: {
          const length = (this.#lengthHi << 8) | chunk[i]!;
          i += 1;
          if (length < 2 || (this.#marker === M_SOS && !isSosLength(length))) {
            state = this.#malformed(chunk, from, i, out);
            from = i;
          } else if (length > 2) {
            this.#skip = length - 2;
            state = SKIP;
          } else {
            state = this.#afterSegment();
          }
          break;
        }

        case SKIP: {
          const skip = this.#skip;
          if (n - i < skip) {
            this.#skip = skip - (n - i);
            i = n;
          } else {
            i += skip;
            this.#skip = 0;
            state = this.#afterSegment();
          }
          break;
        }

        case ENTROPY: {
          const ff = chunk.indexOf(0xff, i);
          if (ff < 0) {
            i = n;
          } else {
            i = ff + 1;
            state = ENTROPY_FF;
          }
          break;
        }
      }
    }

    this.#state = state;
    if (state !== SEEK && state !== SEEK_FF && from < n) this.#hold(chunk.subarray(from, n));
  }

  /**
   * The image's structure broke at `end` (no marker where one must be, or a
   * bad length): it is dropped, and the splitter looks for an SOI from `end`
   * on; returns the state to go on with.
   *
   * A length read from damaged or cut-short data can have skipped over the
   * next image's SOI, so first the image's own bytes are searched again for
   * one, from the first segment after its APPn/COM run: nothing from there on
   * can legitimately hold an SOI (entropy-coded data cannot, and FF D8 in
   * a table is a freak) while APPn segments can (EXIF thumbnails). The
   * search is the seeking part of the parser, fed the held bytes again:
   * images it finds there are delivered.
   */
  #malformed(chunk: Uint8Array, from: number, end: number, out: Uint8Array[]): number {
    const tablesAt = this.#tablesAt;
    if (this.#dropping || tablesAt < 0 || this.#replays >= MAX_REPLAY_DEPTH) {
      this.#abortImage(end - from);
      return SEEK;
    }
    const bytes = this.#gather(chunk.subarray(from, end));
    this.#discarded += tablesAt;
    this.#release();
    this.#state = SEEK;
    this.#replays += 1;
    try {
      this.#feed(bytes.subarray(tablesAt), out);
    } finally {
      this.#replays -= 1;
    }
    return this.#state;
  }

  /** The state after a whole segment: entropy-coded data follows an SOS header. */
  #afterSegment(): number {
    if (this.#marker !== M_SOS) return MARKER;
    this.#scanned = true;
    return ENTROPY;
  }

  /** Starts an image at an SOI whose two bytes have just been read. */
  #beginImage(): void {
    this.#dropping = false;
    this.#scanned = false;
    this.#framed = false;
    this.#tablesAt = -1;
    this.#hold(SOI_BYTES);
  }

  /** Keeps (or, for an oversized image, counts as discarded) bytes of the unfinished image. */
  #hold(piece: Uint8Array): void {
    const len = piece.length;
    if (this.#dropping) {
      this.#discarded += len;
      return;
    }
    if (this.#held + len > this.#maxFrameBytes) {
      // Too big: stop keeping it, but go on parsing it to its EOI.
      this.#discarded += this.#held + len;
      this.#release();
      this.#dropping = true;
      return;
    }
    this.#held += len;
    if (len >= COPY_BELOW) {
      this.#flushScratch();
      this.#pieces.push(piece.slice());
      return;
    }
    let scratch = this.#scratch;
    if (scratch === null || scratch.length - this.#scratchEnd < len) {
      this.#flushScratch();
      // The full scratch buffer stays referenced by #pieces; start a new one.
      scratch = this.#scratch = new Uint8Array(SCRATCH_BYTES);
      this.#scratchFrom = this.#scratchEnd = 0;
    }
    scratch.set(piece, this.#scratchEnd);
    this.#scratchEnd += len;
  }

  #flushScratch(): void {
    if (this.#scratch !== null && this.#scratchEnd > this.#scratchFrom) {
      this.#pieces.push(this.#scratch.subarray(this.#scratchFrom, this.#scratchEnd));
      this.#scratchFrom = this.#scratchEnd;
    }
  }

  /** Forgets the held bytes. The scratch buffer is reused: nothing refers to it any more. */
  #release(): void {
    this.#pieces = [];
    this.#held = 0;
    this.#scratchFrom = this.#scratchEnd = 0;
  }

  /**
   * Drops the unfinished image. `tail` is how many of its bytes are in the
   * current chunk and not held yet; -1 when the last held byte (an FF)
   * turned out to belong to the next image's SOI.
   */
  #abortImage(tail: number): void {
    this.#discarded += (this.#dropping ? 0 : this.#held) + tail;
    this.#release();
    this.#dropping = false;
  }

  /** Completes the image with its last bytes (up to and including EOI); null if it was dropped. */
  #endImage(last: Uint8Array): Uint8Array | null {
    if (this.#dropping) {
      this.#discarded += last.length;
      this.#dropping = false;
      return null;
    }
    if (this.#held + last.length > this.#maxFrameBytes || !this.#scanned) {
      this.#abortImage(last.length);
      return null;
    }
    const image = this.#gather(last);
    this.#release();
    return image;
  }

  /** A copy of the held bytes followed by `last`. */
  #gather(last: Uint8Array): Uint8Array {
    const image = new Uint8Array(this.#held + last.length);
    let at = 0;
    for (const piece of this.#pieces) {
      image.set(piece, at);
      at += piece.length;
    }
    if (this.#scratch !== null && this.#scratchEnd > this.#scratchFrom) {
      image.set(this.#scratch.subarray(this.#scratchFrom, this.#scratchEnd), at);
      at += this.#scratchEnd - this.#scratchFrom;
    }
    image.set(last, at);
    return image;
  }
}

/** Reads the picture size from a JPEG's SOF segment (0 × 0 when it has none). */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } {
  let i = 2;
  while (i + 9 < jpeg.length) {
    if (jpeg[i] !== 0xff) {
      i++;
      continue;
    }
    const marker = jpeg[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (isSof(marker)) return { height: (jpeg[i + 5]! << 8) | jpeg[i + 6]!, width: (jpeg[i + 7]! << 8) | jpeg[i + 8]! };
    if (marker === M_SOS) break;
    i += 2 + ((jpeg[i + 2]! << 8) | jpeg[i + 3]!);
  }
  return { width: 0, height: 0 };
}
