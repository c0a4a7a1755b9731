/**
 * Fragmented MP4 (ISO/IEC 14496-12, CMAF-style) for one H.264 video track:
 * the initialization segment (`ftyp` + `moov` with the `avcC` built from the
 * stream's SPS and PPS) and media fragments (`moof` + `mdat`), each fragment
 * one run of samples with their durations, sizes and sync flags. Samples are
 * length-prefixed NAL units (4-byte lengths), as `avcC` announces.
 *
 * Written by hand rather than with an npm muxer: a fragment is two small
 * boxes around the samples' bytes, built with one allocation and one copy of
 * each NAL unit (see docs/hls.md for the cost per segment).
 */
import { concatBytes } from "../bytes.ts";

/** The track's clock: 90 kHz, the same as RTP's (the feed's timestamps). */
export const TIMESCALE = 90_000;
const TRACK_ID = 1;

export interface Mp4Sample {
  /** NAL units without start codes. */
  readonly nals: readonly Uint8Array[];
  /** Duration in TIMESCALE units. */
  readonly duration: number;
  readonly keyframe: boolean;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}

function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function box(type: string, ...payload: Uint8Array[]): Uint8Array {
  const body = concatBytes(payload);
  return concatBytes([u32(8 + body.length), ascii(type), body]);
}

function fullBox(type: string, version: number, flags: number, ...payload: Uint8Array[]): Uint8Array {
  return box(type, new Uint8Array([version, (flags >> 16) & 0xff, (flags >> 8) & 0xff, flags & 0xff]), ...payload);
}

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

const zeros = (n: number) => new Uint8Array(n);
/** The unity matrix of mvhd and tkhd. */
const MATRIX = concatBytes([u32(0x00010000), u32(0), u32(0), u32(0), u32(0x00010000), u32(0), u32(0), u32(0), u32(0x40000000)]);

function avcC(sps: Uint8Array, pps: Uint8Array): Uint8Array {
  return box(
    "avcC",
    bytes(1, sps[1] ?? 0, sps[2] ?? 0, sps[3] ?? 0, 0xff /* 4-byte lengths */, 0xe1 /* one SPS */),
    bytes(sps.length >> 8, sps.length & 0xff),
    sps,
    bytes(1, pps.length >> 8, pps.length & 0xff),
    pps,
  );
}

/** The initialization segment: what a player needs before any fragment. */
export function initSegment({ sps, pps, width, height }: { sps: Uint8Array; pps: Uint8Array; width: number; height: number }): Uint8Array {
  const ftyp = box("ftyp", ascii("iso6"), u32(0), ascii("iso6"), ascii("cmfc"), ascii("mp41"), ascii("avc1"));
  const mvhd = fullBox("mvhd", 0, 0, u32(0), u32(0), u32(1000), u32(0), u32(0x00010000), bytes(1, 0), zeros(10), MATRIX, zeros(24), u32(TRACK_ID + 1));
  const tkhd = fullBox(
    "tkhd",
    0,
    3,
    u32(0),
    u32(0),
    u32(TRACK_ID),
    u32(0),
    u32(0),
    zeros(8),
    bytes(0, 0, 0, 0),
    bytes(0, 0, 0, 0),
    MATRIX,
    u32(width << 16),
    u32(height << 16),
  );
  const mdhd = fullBox("mdhd", 0, 0, u32(0), u32(0), u32(TIMESCALE), u32(0), bytes(0x55, 0xc4 /* und */, 0, 0));
  const hdlr = fullBox("hdlr", 0, 0, u32(0), ascii("vide"), zeros(12), ascii("glasscast\0"));
  const avc1 = box(
    "avc1",
    zeros(6),
    bytes(0, 1),
    zeros(16),
    bytes(width >> 8, width & 0xff, height >> 8, height & 0xff),
    u32(0x00480000),
    u32(0x00480000),
    u32(0),
    bytes(0, 1),
    zeros(32),
    bytes(0, 0x18, 0xff, 0xff),
    avcC(sps, pps),
  );
  const stbl = box(
    "stbl",
    fullBox("stsd", 0, 0, u32(1), avc1),
    fullBox("stts", 0, 0, u32(0)),
    fullBox("stsc", 0, 0, u32(0)),
    fullBox("stsz", 0, 0, u32(0), u32(0)),
    fullBox("stco", 0, 0, u32(0)),
  );
  const dinf = box("dinf", fullBox("dref", 0, 0, u32(1), fullBox("url ", 0, 1)));
  const minf = box("minf", fullBox("vmhd", 0, 1, zeros(8)), dinf, stbl);
  const trak = box("trak", tkhd, box("mdia", mdhd, hdlr, minf));
  const mvex = box("mvex", fullBox("trex", 0, 0, u32(TRACK_ID), u32(1), u32(0), u32(0), u32(0)));
  return concatBytes([ftyp, box("moov", mvhd, trak, mvex)]);
}

/** sample_depends_on=2 (an I picture); and for the others depends_on=1 plus sample_is_non_sync_sample. */
const SYNC_FLAGS = 0x02000000;
const NON_SYNC_FLAGS = 0x01010000;
/** tfhd: default-base-is-moof; trun: data-offset, sample duration, size and flags present. */
const TFHD_FLAGS = 0x020000;
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400;

/** Whether a NAL unit goes into the samples: access unit delimiters and filler data do not (an MP4 sample needs neither). */
function kept(nal: Uint8Array): boolean {
  const type = (nal[0] ?? 0) & 0x1f;
  return type !== 9 && type !== 12;
}

/**
 * One fragment (`moof` + `mdat`) of `samples`, the first decoded at
 * `baseDecodeTime` (TIMESCALE units since the track's start).
 */
export function mediaFragment(sequence: number, baseDecodeTime: number, samples: readonly Mp4Sample[]): Uint8Array {
  const sizes = samples.map((s) => s.nals.reduce((n, nal) => n + (kept(nal) ? 4 + nal.length : 0), 0));
  const mdatSize = 8 + sizes.reduce((a, b) => a + b, 0);
  const trunSize = 12 + 8 + 12 * samples.length;
  const trafSize = 8 + 16 /* tfhd */ + 20 /* tfdt v1 */ + trunSize;
  const moofSize = 8 + 16 /* mfhd */ + trafSize;
  const out = new Uint8Array(moofSize + mdatSize);
  const view = new DataView(out.buffer);
  let at = 0;
  const header = (size: number, type: string) => {
    view.setUint32(at, size);
    for (let i = 0; i < 4; i++) out[at + 4 + i] = type.charCodeAt(i);
    at += 8;
  };
  const word = (n: number) => {
    view.setUint32(at, n >>> 0);
    at += 4;
  };
  header(moofSize, "moof");
  header(16, "mfhd");
  word(0);
  word(sequence);
  header(trafSize, "traf");
  header(16, "tfhd");
  word(TFHD_FLAGS);
  word(TRACK_ID);
  header(20, "tfdt");
  word(0x01000000);
  word(Math.floor(baseDecodeTime / 2 ** 32));
  word(baseDecodeTime % 2 ** 32);
  header(trunSize, "trun");
  word(TRUN_FLAGS);
  word(samples.length);
  word(moofSize + 8);
  samples.forEach((s, i) => {
    word(s.duration);
    word(sizes[i]!);
    word(s.keyframe ? SYNC_FLAGS : NON_SYNC_FLAGS);
  });
  header(mdatSize, "mdat");
  for (const s of samples) {
    for (const nal of s.nals) {
      if (!kept(nal)) continue;
      word(nal.length);
      out.set(nal, at);
      at += nal.length;
    }
  }
  return out;
}
