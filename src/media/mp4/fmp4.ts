/**
 * Fragmented MP4 (ISO/IEC 14496-12, CMAF-style) for one H.264 video track
 * (and, for a stream with sound, an Opus track beside it, see opusTrak()):
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
/** The sound's track (a stream with --audio): Opus at 48 kHz, its own clock. */
export const AUDIO_TIMESCALE = 48_000;
const AUDIO_TRACK_ID = 2;
/** Channels (the Opus sample entry's and dOps OutputChannelCount): the feed's encoder makes one (docs/audio.md). */
const OPUS_CHANNELS = 1;

/** The sound of one fragment: Opus packets one after the other, the first decoded at `baseDecodeTime` (48 kHz). */
export interface Mp4AudioRun {
  readonly baseDecodeTime: number;
  readonly samples: readonly { readonly payload: Uint8Array; readonly duration: number }[];
}

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

/**
 * The Opus track ("Encapsulation of Opus in ISO Base Media File Format",
 * 4.3): an `Opus` AudioSampleEntry (48 kHz, 16 bits, its channel count) whose
 * `dOps` (big-endian, unlike Ogg's OpusHead) says version 0, the output
 * channels, PreSkip 0 (a live stream is joined mid-way: there is no start to
 * skip, and the decode times stay those of the feed), the input rate, no
 * gain and mapping family 0 (mono or stereo).
 */
function opusTrak(): Uint8Array {
  const tkhd = fullBox(
    "tkhd",
    0,
    3,
    u32(0),
    u32(0),
    u32(AUDIO_TRACK_ID),
    u32(0),
    u32(0),
    zeros(8),
    bytes(0, 0, 0, 1 /* alternate group */),
    bytes(1, 0, 0, 0 /* volume 1.0 */),
    MATRIX,
    u32(0),
    u32(0),
  );
  const mdhd = fullBox("mdhd", 0, 0, u32(0), u32(0), u32(AUDIO_TIMESCALE), u32(0), bytes(0x55, 0xc4 /* und */, 0, 0));
  const hdlr = fullBox("hdlr", 0, 0, u32(0), ascii("soun"), zeros(12), ascii("glasscast\0"));
  const dOps = box("dOps", bytes(0, OPUS_CHANNELS, 0, 0), u32(AUDIO_TIMESCALE), bytes(0, 0, 0));
  const opus = box("Opus", zeros(6), bytes(0, 1), zeros(8), bytes(0, OPUS_CHANNELS, 0, 16), zeros(4), u32(AUDIO_TIMESCALE << 16), dOps);
  const stbl = box(
    "stbl",
    fullBox("stsd", 0, 0, u32(1), opus),
    fullBox("stts", 0, 0, u32(0)),
    fullBox("stsc", 0, 0, u32(0)),
    fullBox("stsz", 0, 0, u32(0), u32(0)),
    fullBox("stco", 0, 0, u32(0)),
  );
  const dinf = box("dinf", fullBox("dref", 0, 0, u32(1), fullBox("url ", 0, 1)));
  const minf = box("minf", fullBox("smhd", 0, 0, zeros(4)), dinf, stbl);
  return box("trak", tkhd, box("mdia", mdhd, hdlr, minf));
}

/** The initialization segment: what a player needs before any fragment; with `audio`, an Opus track beside the picture's. */
export function initSegment({
  sps,
  pps,
  width,
  height,
  audio = false,
}: {
  sps: Uint8Array;
  pps: Uint8Array;
  width: number;
  height: number;
  audio?: boolean;
}): Uint8Array {
  const ftyp = box("ftyp", ascii("iso6"), u32(0), ascii("iso6"), ascii("cmfc"), ascii("mp41"), ascii("avc1"), ...(audio ? [ascii("Opus")] : []));
  const mvhd = fullBox(
    "mvhd",
    0,
    0,
    u32(0),
    u32(0),
    u32(1000),
    u32(0),
    u32(0x00010000),
    bytes(1, 0),
    zeros(10),
    MATRIX,
    zeros(24),
    u32((audio ? AUDIO_TRACK_ID : TRACK_ID) + 1),
  );
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
  const trex = fullBox("trex", 0, 0, u32(TRACK_ID), u32(1), u32(0), u32(0), u32(0));
  if (!audio) return concatBytes([ftyp, box("moov", mvhd, trak, box("mvex", trex))]);
  const audioTrex = fullBox("trex", 0, 0, u32(AUDIO_TRACK_ID), u32(1), u32(0), u32(0), u32(0));
  return concatBytes([ftyp, box("moov", mvhd, trak, opusTrak(), box("mvex", trex, audioTrex))]);
}

/** sample_depends_on=2 (an I picture); and for the others depends_on=1 plus sample_is_non_sync_sample. */
const SYNC_FLAGS = 0x02000000;
const NON_SYNC_FLAGS = 0x01010000;
/** tfhd: default-base-is-moof; trun: data-offset, sample duration, size and flags present. */
const TFHD_FLAGS = 0x020000;
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400;
/** The sound's trun: data-offset, sample duration and size (every Opus packet is a sync sample, trex's default flags). */
const AUDIO_TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200;

/** Whether a NAL unit goes into the samples: access unit delimiters and filler data do not (an MP4 sample needs neither). */
function kept(nal: Uint8Array): boolean {
  const type = (nal[0] ?? 0) & 0x1f;
  return type !== 9 && type !== 12;
}

/**
 * One fragment (`moof` + `mdat`) of `samples`, the first decoded at
 * `baseDecodeTime` (TIMESCALE units since the track's start).
 */
export function mediaFragment(sequence: number, baseDecodeTime: number, samples: readonly Mp4Sample[], audio?: Mp4AudioRun): Uint8Array {
  const sizes = samples.map((s) => s.nals.reduce((n, nal) => n + (kept(nal) ? 4 + nal.length : 0), 0));
  const videoBytes = sizes.reduce((a, b) => a + b, 0);
  const sound = audio && audio.samples.length > 0 ? audio : null;
  const audioBytes = sound ? sound.samples.reduce((n, s) => n + s.payload.length, 0) : 0;
  const mdatSize = 8 + videoBytes + audioBytes;
  const trunSize = 12 + 8 + 12 * samples.length;
  const trafSize = 8 + 16 /* tfhd */ + 20 /* tfdt v1 */ + trunSize;
  const audioTrunSize = sound ? 12 + 8 + 8 * sound.samples.length : 0;
  const audioTrafSize = sound ? 8 + 16 + 20 + audioTrunSize : 0;
  const moofSize = 8 + 16 /* mfhd */ + trafSize + audioTrafSize;
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
  if (sound) {
    header(audioTrafSize, "traf");
    header(16, "tfhd");
    word(TFHD_FLAGS);
    word(AUDIO_TRACK_ID);
    header(20, "tfdt");
    word(0x01000000);
    word(Math.floor(sound.baseDecodeTime / 2 ** 32));
    word(sound.baseDecodeTime % 2 ** 32);
    header(audioTrunSize, "trun");
    word(AUDIO_TRUN_FLAGS);
    word(sound.samples.length);
    word(moofSize + 8 + videoBytes);
    for (const s of sound.samples) {
      word(s.duration);
      word(s.payload.length);
    }
  }
  header(mdatSize, "mdat");
  for (const s of samples) {
    for (const nal of s.nals) {
      if (!kept(nal)) continue;
      word(nal.length);
      out.set(nal, at);
      at += nal.length;
    }
  }
  for (const s of sound?.samples ?? []) {
    out.set(s.payload, at);
    at += s.payload.length;
  }
  return out;
}
