/**
 * Cuts an H.264 Annex B byte stream (what `ffmpeg … -c:v libx264 -f h264
 * pipe:1` and `rpicam-vid --codec h264 -o -` write to a pipe) into access
 * units, i.e. one coded picture each, as lists of NAL units.
 *
 * NAL units are separated by start codes, 00 00 01 or 00 00 00 01. The parser
 * jumps from one 0x01 byte to the next with `indexOf` (native) and only then
 * looks at the two bytes before it; the only per-byte JavaScript is for the
 * zero bytes stripped from the end of a NAL unit (the leading zero of a
 * 4-byte start code, `trailing_zero_8bits`).
 *
 * NAL units are grouped into access units as in H.264 7.4.1.2.3; a new access
 * unit starts at
 * - an access unit delimiter (type 9),
 * - an SEI, SPS or PPS (6, 7, 8) or a type 14–18 NAL unit that follows a
 *   slice of the current access unit,
 * - a slice (1, 2, 5) whose `first_mb_in_slice` is 0 that follows a slice of
 *   the current access unit. `first_mb_in_slice` is the first ue(v) of the
 *   slice header, and it is 0 exactly when the first bit after the 1-byte NAL
 *   header is 1.
 * The second and further slices of a picture (x264 `slices=N`, sliced threads
 * with `-tune zerolatency`) therefore stay in one access unit, with or without
 * delimiters in the stream.
 *
 * An access unit is complete when the next one begins, which `push` sees as
 * soon as the first bytes after the next start code have arrived: the header
 * byte, and for a slice the byte after it (first_mb_in_slice). It is handed
 * out then, without waiting for the end of that NAL unit; `flush` hands out
 * the last one at the end of the stream. (The end of a picture can't be told
 * from its own bytes in Annex B: a picture leaves the parser when the
 * encoder writes the start of the next one, i.e. one frame interval late.)
 * A unit without any slice (only parameter sets and delimiters) is never
 * handed out on its own: what it holds is kept and goes out with the next
 * picture, so parameter sets are never lost.
 *
 * State survives between `push` calls: a chunk may end anywhere, inside a
 * start code too, and every byte is searched once. Pending bytes (the NAL
 * unit being received) live in one growable buffer; each finished NAL unit is
 * copied out of it once, so the units handed out own their memory and a
 * pushed chunk may be reused by the caller.
 *
 * Damage: bytes before the first start code are dropped, empty NAL units
 * (two start codes in a row) are skipped, zero bytes before a start code
 * (`trailing_zero_8bits`, the first byte of a 4-byte start code) are not
 * part of the NAL unit, and a NAL unit over `maxNalBytes` is dropped with the
 * rest of its picture; `discarded` counts the bytes thrown away.
 */

/** One coded picture. */
export interface AccessUnit {
  /** NAL units in stream order, without start codes; each byte 0 is the NAL header. */
  nals: Uint8Array[];
  /** The picture contains an IDR slice (type 5): decoding can start here. */
  keyframe: boolean;
}

/** NAL unit types used by the WebRTC output (H.264 table 7-1). */
export const NAL = {
  SLICE: 1,
  SLICE_DPA: 2,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
  STAP_A: 24,
  FU_A: 28,
} as const;

/** The `nal_unit_type` of a NAL unit (the low 5 bits of its header byte). */
export function nalType(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x1f;
}

/** The access unit holds both an SPS and a PPS, so a decoder can start with it if it is a keyframe. */
export function hasParameterSets(au: AccessUnit): boolean {
  let sps = false;
  let pps = false;
  for (const nal of au.nals) {
    const type = nalType(nal);
    if (type === NAL.SPS) sps = true;
    else if (type === NAL.PPS) pps = true;
  }
  return sps && pps;
}

/** VCL NAL units: coded slices and slice data partitions. */
function isVcl(type: number): boolean {
  return type >= 1 && type <= 5;
}

/** Slices whose header begins with first_mb_in_slice (not data partitions B and C, which begin with slice_id). */
function hasFirstMb(type: number): boolean {
  return type === NAL.SLICE || type === NAL.SLICE_DPA || type === NAL.IDR;
}

/** Non-VCL types that may only precede the first slice of an access unit. */
function startsAfterVcl(type: number): boolean {
  return type === NAL.SEI || type === NAL.SPS || type === NAL.PPS || (type >= 14 && type <= 18);
}

const INITIAL_CAPACITY = 64 * 1024;

export interface AnnexBParserOptions {
  /**
   * Largest NAL unit kept; default 32 MiB (a 4K IDR picture is a few MiB).
   * A longer one is taken for garbage: it and the rest of its picture are
   * dropped (counted in `discarded`), and its bytes are not buffered beyond
   * the limit (plus one pushed chunk), so memory stays bounded whatever the
   * input.
   */
  maxNalBytes?: number;
}

export const DEFAULT_MAX_NAL_BYTES = 32 * 1024 * 1024;

export class AnnexBParser {
  /** Bytes thrown away: before the first start code, and NAL units over `maxNalBytes` (with their picture's other units). */
  discarded = 0;
  readonly #maxNalBytes: number;
  /** Pending bytes: `#buf[0, #len)`; bytes beyond `#len` are stale. */
  #buf = new Uint8Array(INITIAL_CAPACITY);
  #len = 0;
  /** Offset of the current NAL unit's first byte, -1 before the first start code. */
  #nalStart = -1;
  /** Offset from which the next 0x01 is searched; everything before it has been looked at. */
  #scan = 0;
  /** Before a start code: where the bytes not yet counted in `discarded` begin. */
  #garbageFrom = 0;

  /** NAL units of the access unit being assembled. */
  #nals: Uint8Array[] = [];
  /** The current NAL unit's type has been looked at (see `#classify`). */
  #classified = false;
  /** Access units closed by `#classify`, handed out by the caller of `#classify`. */
  #ready: AccessUnit[] = [];
  #hasVcl = false;
  #keyframe = false;
  /** The current picture had an oversized NAL unit: its units are dropped until the next picture begins. */
  #dropping = false;

  constructor(options: AnnexBParserOptions = {}) {
    const max = options.maxNalBytes ?? DEFAULT_MAX_NAL_BYTES;
    if (!Number.isInteger(max) || max < 2) throw new RangeError(`maxNalBytes must be an integer of at least 2, got ${max}`);
    this.#maxNalBytes = max;
  }

  /** Feeds bytes; returns the access units completed by them (often none or one). */
  push(chunk: Uint8Array): AccessUnit[] {
    const out: AccessUnit[] = [];
    if (chunk.byteLength === 0) return out;
    this.#append(chunk);
    const buf = this.#buf.subarray(0, this.#len);
    let scan = this.#scan;
    for (;;) {
      const i = buf.indexOf(1, scan);
      if (i < 0) break;
      scan = i + 1;
      // (The zeros can't overlap the previous start code, whose last byte is 01; buf[-1] is undefined.)
      if (buf[i - 1] !== 0 || buf[i - 2] !== 0) continue;
      if (this.#nalStart >= 0) this.#endNal(buf, i - 2, out);
      else this.#countGarbage(buf, i - 2);
      this.#nalStart = i + 1;
      this.#classified = false;
    }
    this.#scan = buf.length;
    // Decide about the NAL unit being received as soon as its first bytes are in: a picture is
    // handed out when the next one's delimiter or first slice header arrives, not one NAL unit later.
    const start = this.#nalStart;
    if (start >= 0 && !this.#classified && start < buf.length) {
      const type = buf[start]! & 0x1f;
      if (!hasFirstMb(type)) this.#classify(type, 0);
      else if (start + 1 < buf.length) this.#classify(type, buf[start + 1]!);
      if (this.#classified) {
        out.push(...this.#ready);
        this.#ready = [];
      }
    }
    if (start >= 0 && buf.length - start > this.#maxNalBytes) {
      // Too long already: its bytes become garbage up to the next start code.
      this.discarded += buf.length - start;
      this.#dropPicture();
      this.#nalStart = -1;
      this.#garbageFrom = buf.length;
    }
    return out;
  }

  /** Counts the bytes before a start code (whose zeros begin at or before `zeros`) as discarded. */
  #countGarbage(buf: Uint8Array, zeros: number): void {
    while (zeros > this.#garbageFrom && buf[zeros - 1] === 0) zeros--; // leading_zero_8bits
    this.discarded += Math.max(0, zeros - this.#garbageFrom);
  }

  /** Drops the units of the current picture kept so far, and the ones still to come. */
  #dropPicture(): void {
    this.discarded += this.#nals.reduce((n, nal) => n + nal.length, 0);
    this.#nals = [];
    this.#keyframe = false;
    this.#hasVcl = true; // so that the next picture's first unit ends the dropping (see #classify)
    this.#dropping = true;
  }

  /** End of stream: returns the last NAL unit's access unit (if it has a picture) and resets the parser. */
  flush(): AccessUnit[] {
    const out: AccessUnit[] = [];
    if (this.#nalStart >= 0) this.#endNal(this.#buf.subarray(0, this.#len), this.#len, out);
    else this.discarded += Math.max(0, this.#len - this.#garbageFrom);
    if (this.#hasVcl && !this.#dropping) out.push({ nals: this.#nals, keyframe: this.#keyframe });
    this.#dropping = false;
    this.#nals = [];
    this.#hasVcl = false;
    this.#keyframe = false;
    this.#len = 0;
    this.#nalStart = -1;
    this.#classified = false;
    this.#scan = 0;
    this.#garbageFrom = 0;
    return out;
  }

  /** The current NAL unit ends before `end` (where the next start code's zeros begin). */
  #endNal(buf: Uint8Array, end: number, out: AccessUnit[]): void {
    const start = this.#nalStart;
    while (end > start && buf[end - 1] === 0) end--;
    if (end === start) return; // an empty NAL unit (two start codes in a row): nothing to add
    if (!this.#classified) this.#classify(buf[start]! & 0x1f, end - start > 1 ? buf[start + 1]! : 0);
    out.push(...this.#ready);
    this.#ready = [];
    if (end - start > this.#maxNalBytes) {
      this.discarded += end - start;
      this.#dropPicture();
    } else if (this.#dropping) {
      this.discarded += end - start;
    } else {
      this.#nals.push(buf.slice(start, end));
    }
  }

  /**
   * Called once per NAL unit with its type (and, for a slice, the byte after the header): closes the
   * current access unit if this unit begins the next one; the closed unit waits in `#ready`.
   */
  #classify(type: number, second: number): void {
    this.#classified = true;
    const vcl = isVcl(type);
    if (this.#hasVcl) {
      const starts = type === NAL.AUD || startsAfterVcl(type) || (hasFirstMb(type) && (second & 0x80) !== 0);
      if (starts) {
        if (this.#dropping) this.#dropping = false;
        else this.#ready.push({ nals: this.#nals, keyframe: this.#keyframe });
        this.#nals = [];
        this.#hasVcl = false;
        this.#keyframe = false;
      }
    }
    if (vcl) this.#hasVcl = true;
    if (type === NAL.IDR) this.#keyframe = true;
  }

  /** Appends a chunk, first dropping bytes no longer needed (a finished NAL unit, garbage before the first start code). */
  #append(chunk: Uint8Array): void {
    // Before a start code only the last bytes may still matter (the zeros of a split 4-byte start code).
    const keep = this.#nalStart >= 0 ? this.#nalStart : Math.max(0, this.#len - 3);
    const live = this.#len - keep;
    const need = live + chunk.byteLength;
    if (this.#len + chunk.byteLength > this.#buf.byteLength) {
      if (need <= this.#buf.byteLength >>> 1) {
        this.#buf.copyWithin(0, keep, this.#len);
      } else {
        let capacity = this.#buf.byteLength * 2;
        while (capacity < need) capacity *= 2;
        const grown = new Uint8Array(capacity);
        grown.set(this.#buf.subarray(keep, this.#len));
        this.#buf = grown;
      }
      this.#len = live;
      this.#scan = Math.max(0, this.#scan - keep);
      if (this.#nalStart >= 0) {
        this.#nalStart -= keep;
      } else {
        // Garbage dropped here is counted now (so are the zeros of a prefix longer than 00 00 00 if split here).
        this.discarded += Math.max(0, keep - this.#garbageFrom);
        this.#garbageFrom = Math.max(0, this.#garbageFrom - keep);
      }
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.byteLength;
  }
}

/** Reads bits of an RBSP (a NAL payload with emulation prevention bytes removed). */
class BitReader {
  #bit = 0;
  constructor(private readonly bytes: Uint8Array) {}

  /** One bit; throws past the end (caught by the caller: a truncated SPS). */
  u1(): number {
    const byte = this.bytes[this.#bit >>> 3];
    if (byte === undefined) throw new RangeError("end of data");
    const v = (byte >>> (7 - (this.#bit & 7))) & 1;
    this.#bit++;
    return v;
  }

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.u1();
    return v;
  }

  /** Unsigned exp-Golomb. */
  ue(): number {
    let zeros = 0;
    while (this.u1() === 0) {
      if (++zeros > 31) throw new RangeError("bad exp-Golomb code");
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  /** Signed exp-Golomb. */
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}

/** Removes emulation prevention bytes: 00 00 03 → 00 00. */
function unescapeRbsp(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let n = 0;
  let zeros = 0;
  for (const b of data) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

/** Profiles whose SPS carries chroma_format_idc, bit depths and scaling matrices (7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/**
 * The displayed picture size from a sequence parameter set (a whole SPS NAL
 * unit, header byte included): macroblock counts, frame/field coding and the
 * frame cropping rectangle in units that depend on the chroma format. Null if
 * the NAL unit is not an SPS or is cut short.
 */
export function parseSpsSize(sps: Uint8Array): { width: number; height: number } | null {
  if (sps.length < 4 || nalType(sps) !== NAL.SPS) return null;
  const r = new BitReader(unescapeRbsp(sps.subarray(1)));
  try {
    const profileIdc = r.u(8);
    r.u(16); // constraint_set flags, reserved_zero_2bits, level_idc
    r.ue(); // seq_parameter_set_id
    let chromaFormatIdc = 1;
    let separateColourPlane = 0;
    if (HIGH_PROFILES.has(profileIdc)) {
      chromaFormatIdc = r.ue();
      if (chromaFormatIdc > 3) return null;
      if (chromaFormatIdc === 3) separateColourPlane = r.u1();
      r.ue(); // bit_depth_luma_minus8
      r.ue(); // bit_depth_chroma_minus8
      r.u1(); // qpprime_y_zero_transform_bypass_flag
      if (r.u1()) {
        // seq_scaling_matrix_present_flag
        const lists = chromaFormatIdc === 3 ? 12 : 8;
        for (let i = 0; i < lists; i++) {
          if (r.u1()) skipScalingList(r, i < 6 ? 16 : 64);
        }
      }
    }
    r.ue(); // log2_max_frame_num_minus4
    const pocType = r.ue();
    if (pocType === 0) {
      r.ue(); // log2_max_pic_order_cnt_lsb_minus4
    } else if (pocType === 1) {
      r.u1(); // delta_pic_order_always_zero_flag
      r.se(); // offset_for_non_ref_pic
      r.se(); // offset_for_top_to_bottom_field
      const cycle = r.ue();
      if (cycle > 255) return null;
      for (let i = 0; i < cycle; i++) r.se();
    } else if (pocType !== 2) {
      return null;
    }
    r.ue(); // max_num_ref_frames
    r.u1(); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = r.ue() + 1;
    const heightMapUnits = r.ue() + 1;
    const frameMbsOnly = r.u1();
    if (!frameMbsOnly) r.u1(); // mb_adaptive_frame_field_flag
    r.u1(); // direct_8x8_inference_flag
    let cropLeft = 0;
    let cropRight = 0;
    let cropTop = 0;
    let cropBottom = 0;
    if (r.u1()) {
      cropLeft = r.ue();
      cropRight = r.ue();
      cropTop = r.ue();
      cropBottom = r.ue();
    }
    // 7.4.2.1.1: crop units depend on ChromaArrayType and frame_mbs_only_flag.
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
    const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
    const width = widthMbs * 16 - cropUnitX * (cropLeft + cropRight);
    const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropUnitY * (cropTop + cropBottom);
    if (width <= 0 || height <= 0) return null;
    return { width, height };
  } catch {
    return null;
  }
}
