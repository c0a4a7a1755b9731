/**
 * The H.264 half of the WebRTC output: one encoder's Annex B stream is cut
 * into access units (pictures), each picture is cut once into RTP payloads,
 * and every peer wraps those payloads in its own RTP headers.
 *
 * The fixtures are real libx264 output, as the encoder process writes it to
 * its pipe, and ffmpeg is the judge at both ends: its h264 parser says where
 * the pictures are, and its decoder must decode what went through RTP to the
 * very same frames as the original stream.
 */
import { describe, expect, test } from "bun:test";
import { AnnexBParser, hasParameterSets, nalType, parseSpsSize, type AccessUnit } from "../src/media/h264/annexb.ts";
import { packetizeH264 } from "../src/media/h264/rtp-h264.ts";
import { RtpSequencer } from "./helpers/rtp-sequencer.ts";
import { ffmpeg } from "./helpers/ffmpeg.ts";

// --- helpers ----------------------------------------------------------------

/** 60 frames of the test pattern as the WebRTC encoder writes them (`-f h264 pipe:1`). */
function encode(x264Params: string, size = "320x240", extra: string[] = []): Uint8Array {
  return ffmpeg([
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${size}:rate=30`,
    "-frames:v",
    "60",
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-tune",
    "zerolatency",
    "-profile:v",
    "baseline",
    "-bf",
    "0",
    "-g",
    "30",
    "-x264-params",
    x264Params,
    ...extra,
    "-f",
    "h264",
    "pipe:1",
  ]);
}

/** Runs a program with `input` on stdin; returns stdout and stderr. */
function pipeThrough(cmd: string[], input: Uint8Array): { stdout: string; stderr: string; code: number | null } {
  const r = Bun.spawnSync(cmd, { stdin: input, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString(), code: r.exitCode };
}

/** ffmpeg's view of a raw H.264 stream: one packet per picture, with its byte position. */
function ffprobePackets(stream: Uint8Array): { pos: number; size: number; key: boolean }[] {
  const r = pipeThrough(["ffprobe", "-v", "error", "-f", "h264", "-show_entries", "packet=pos,size,flags", "-of", "json", "pipe:0"], stream);
  const json = JSON.parse(r.stdout) as { packets: { pos: string; size: string; flags: string }[] };
  return json.packets.map((p) => ({ pos: Number(p.pos), size: Number(p.size), key: p.flags.startsWith("K") }));
}

/** A checksum line per decoded frame (`-f framecrc`), without the header comments. */
function decodedFrames(stream: Uint8Array): { frames: string[]; stderr: string } {
  const r = pipeThrough(["ffmpeg", "-hide_banner", "-v", "error", "-f", "h264", "-i", "pipe:0", "-f", "framecrc", "pipe:1"], stream);
  expect(r.code).toBe(0);
  return { frames: r.stdout.split("\n").filter((l) => l !== "" && !l.startsWith("#")), stderr: r.stderr };
}

/** Parses a stream pushed in chunks of the given sizes (the last size repeats). */
function parseInChunks(stream: Uint8Array, sizes: (offset: number) => number): AccessUnit[] {
  const parser = new AnnexBParser();
  const aus: AccessUnit[] = [];
  for (let at = 0; at < stream.length; ) {
    const n = Math.max(1, sizes(at));
    aus.push(...parser.push(stream.slice(at, at + n)));
    at += n;
  }
  aus.push(...parser.flush());
  return aus;
}

/** Pushes a stream in chunks of `size` bytes into a given parser, then flushes it. */
function parseWith(parser: AnnexBParser, stream: Uint8Array, size: number): AccessUnit[] {
  const aus: AccessUnit[] = [];
  for (let at = 0; at < stream.length; at += size) aus.push(...parser.push(stream.subarray(at, at + size)));
  return [...aus, ...parser.flush()];
}

const parseWhole = (stream: Uint8Array): AccessUnit[] => parseInChunks(stream, () => stream.length);

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const START_CODE = new Uint8Array([0, 0, 0, 1]);

/** Writes access units back as an Annex B stream (4-byte start codes). */
function annexB(aus: AccessUnit[]): Uint8Array {
  return concat(aus.flatMap((au) => au.nals.flatMap((nal) => [START_CODE, nal])));
}

const types = (au: AccessUnit): number[] => au.nals.map(nalType);
const withoutAud = (au: AccessUnit): Uint8Array[] => au.nals.filter((nal) => nalType(nal) !== 9);

/**
 * The receiving end, as a browser does it (RFC 6184): RTP packets → access
 * units. Single NAL unit packets are taken as they are, STAP-A packets are
 * unpacked, FU-A fragments are joined; the marker bit ends a picture.
 */
function depacketize(packets: Uint8Array[]): { aus: Uint8Array[][]; payloadTypes: Set<number> } {
  const aus: Uint8Array[][] = [];
  const payloadTypes = new Set<number>();
  let nals: Uint8Array[] = [];
  let fragments: Uint8Array[] | null = null;
  for (const packet of packets) {
    expect(packet[0]).toBe(0x80); // version 2, no padding, no extension, no CSRC
    payloadTypes.add(packet[1]! & 0x7f);
    const payload = packet.subarray(12);
    const type = payload[0]! & 0x1f;
    if (type >= 1 && type <= 23) {
      nals.push(payload);
    } else if (type === 24) {
      for (let at = 1; at < payload.length; ) {
        const size = (payload[at]! << 8) | payload[at + 1]!;
        nals.push(payload.subarray(at + 2, at + 2 + size));
        at += 2 + size;
      }
    } else if (type === 28) {
      const header = payload[1]!;
      if (header & 0x80) {
        expect(fragments).toBeNull();
        fragments = [new Uint8Array([(payload[0]! & 0xe0) | (header & 0x1f)])];
      }
      expect(fragments).not.toBeNull();
      fragments!.push(payload.subarray(2));
      if (header & 0x40) {
        nals.push(concat(fragments!));
        fragments = null;
      }
    } else {
      throw new Error(`unexpected payload type ${type}`);
    }
    if (packet[1]! & 0x80) {
      expect(fragments).toBeNull();
      aus.push(nals);
      nals = [];
    }
  }
  expect(nals).toEqual([]);
  return { aus, payloadTypes };
}

/** All RTP packets of a stream for one peer: one picture every 3000 ticks of the 90 kHz clock. */
function rtpStream(aus: AccessUnit[], sequencer: RtpSequencer, maxPayload = 1200, firstTimestamp = 0): Uint8Array[] {
  return aus.flatMap((au, i) => sequencer.packets(packetizeH264(au, maxPayload), firstTimestamp + i * 3000));
}

// --- fixtures ---------------------------------------------------------------

/** With access unit delimiters, as the WebRTC encoder is asked to write. */
const WITH_AUD = encode("aud=1:repeat-headers=1");
/** The same pictures without delimiters: the parser must find them by the slice headers. */
const NO_AUD = encode("repeat-headers=1");

// --- AnnexBParser -------------------------------------------------------------

describe("AnnexBParser cuts libx264's Annex B output into pictures", () => {
  const aus = parseWhole(WITH_AUD);

  test("60 frames give 60 access units; keyframes at 0 and 30 carry SPS and PPS", () => {
    expect(aus).toHaveLength(60);
    expect(aus.flatMap((au, i) => (au.keyframe ? [i] : []))).toEqual([0, 30]);
    expect(hasParameterSets(aus[0]!)).toBe(true);
    expect(hasParameterSets(aus[30]!)).toBe(true);
    // libx264's repeat-headers writes SPS/PPS before each keyframe, not before other pictures.
    expect(aus.filter(hasParameterSets)).toHaveLength(2);
    // Every unit starts with its delimiter; -tune zerolatency (sliced threads) writes two slices per picture here.
    expect(types(aus[0]!)).toEqual([9, 7, 8, 6, 5, 5]);
    expect(types(aus[1]!)).toEqual([9, 1, 1]);
    expect(types(aus[30]!)).toEqual([9, 7, 8, 5, 5]);
  });

  test("the NAL units are exactly the bytes between the start codes", () => {
    let at = 0;
    for (const nal of aus.flatMap((au) => au.nals)) {
      const long = WITH_AUD[at + 2] === 0;
      const startCode = long ? [0, 0, 0, 1] : [0, 0, 1];
      expect([...WITH_AUD.subarray(at, at + startCode.length)]).toEqual(startCode);
      at += startCode.length;
      expect(WITH_AUD.subarray(at, at + nal.length)).toEqual(nal);
      at += nal.length;
    }
    expect(at).toBe(WITH_AUD.length);
  });

  test("the access units are the pictures ffmpeg's own parser finds", () => {
    const packets = ffprobePackets(WITH_AUD);
    expect(packets).toHaveLength(60);
    // The parser only drops start codes (4 bytes at a delimiter/SPS/PPS, 3 or 4 elsewhere); the sizes
    // without start codes must match and the keyframe flags too.
    let at = 0;
    aus.forEach((au, i) => {
      const p = packets[i]!;
      expect(p.pos).toBe(at);
      expect(p.key).toBe(au.keyframe);
      const payload = au.nals.reduce((n, nal) => n + nal.length, 0);
      const startCodes = p.size - payload;
      expect(startCodes).toBeGreaterThanOrEqual(3 * au.nals.length);
      expect(startCodes).toBeLessThanOrEqual(4 * au.nals.length);
      at += p.size;
    });
    expect(at).toBe(WITH_AUD.length);
  });

  test("a stream without delimiters is cut at the same places (by first_mb_in_slice and SPS/PPS/SEI)", () => {
    const plain = parseWhole(NO_AUD);
    expect(plain).toHaveLength(60);
    expect(plain.flatMap((au, i) => (au.keyframe ? [i] : []))).toEqual([0, 30]);
    expect(types(plain[0]!)).toEqual([7, 8, 6, 5, 5]);
    // The encoder is deterministic: apart from the delimiters, the NAL units are the same bytes.
    expect(plain.map((au) => au.nals)).toEqual(aus.map(withoutAud));
  });

  test("a picture of several slices is one access unit", () => {
    const sliced = parseWhole(encode("slices=4:repeat-headers=1", "320x240", ["-threads", "1"]));
    expect(sliced).toHaveLength(60);
    for (const au of sliced) {
      expect(au.nals.filter((nal) => nalType(nal) === 1 || nalType(nal) === 5)).toHaveLength(4);
    }
  });

  describe("any chunking gives the same access units", () => {
    const rnd = random(42);
    const chunkings: [string, (at: number) => number][] = [
      ["1 byte at a time for the first 3 pictures, then the rest", (at) => (at < 16_000 ? 1 : WITH_AUD.length)],
      ["1 byte at a time throughout", () => 1],
      ["7 bytes", () => 7],
      ["4096 bytes (a pipe read)", () => 4096],
      ["random sizes from 1 to 3000", () => 1 + Math.floor(rnd() * 3000)],
      ["whole", () => WITH_AUD.length],
    ];
    for (const [name, sizes] of chunkings) {
      test(name, () => {
        expect(parseInChunks(WITH_AUD, sizes)).toEqual(aus);
      });
    }

    test("chunks ending at every position inside and around each start code", () => {
      for (let cut = 0; cut <= 4; cut++) {
        // Cut right after the n-th byte of every start code (0 = just before it).
        const cuts: number[] = [];
        for (let i = WITH_AUD.indexOf(1, 2); i >= 0; i = WITH_AUD.indexOf(1, i + 1)) {
          if (WITH_AUD[i - 1] === 0 && WITH_AUD[i - 2] === 0) cuts.push(i - 2 + cut);
        }
        const parser = new AnnexBParser();
        const got: AccessUnit[] = [];
        let from = 0;
        for (const to of [...cuts, WITH_AUD.length]) {
          got.push(...parser.push(WITH_AUD.subarray(from, to)));
          from = to;
        }
        got.push(...parser.flush());
        expect(got).toEqual(aus);
      }
    });
  });

  test("push hands out a picture as soon as the next one begins; flush hands out the last", () => {
    const parser = new AnnexBParser();
    const next = ffprobePackets(WITH_AUD)[1]!.pos;
    // Everything up to the second picture's start code, and the start code: the first picture
    // might still go on.
    expect([...WITH_AUD.subarray(next, next + 5)]).toEqual([0, 0, 0, 1, 0x09]);
    expect(parser.push(WITH_AUD.subarray(0, next + 4))).toEqual([]);
    // The next byte is the header of a delimiter: the first picture is complete.
    expect(parser.push(WITH_AUD.subarray(next + 4, next + 5))).toEqual([aus[0]!]);
    expect(parser.push(WITH_AUD.subarray(next + 5))).toEqual(aus.slice(1, 59));
    expect(parser.flush()).toEqual([aus[59]!]);
    // After flush the parser starts over.
    expect(parser.flush()).toEqual([]);
    expect([...parser.push(WITH_AUD), ...parser.flush()]).toEqual(aus);
  });

  test("without delimiters, the byte after the next slice's header decides (first_mb_in_slice = 0)", () => {
    const plain = parseWhole(NO_AUD);
    const next = ffprobePackets(NO_AUD)[1]!.pos;
    const parser = new AnnexBParser();
    expect(parser.push(NO_AUD.subarray(0, next + 5))).toEqual([]); // start code and slice header byte
    expect(NO_AUD[next + 4]! & 0x1f).toBe(1);
    expect(parser.push(NO_AUD.subarray(next + 5, next + 6))).toEqual([plain[0]!]);
  });

  test("the NAL units are copies: the caller may reuse its chunk buffer", () => {
    const parser = new AnnexBParser();
    const chunk = new Uint8Array(1000);
    const got: AccessUnit[] = [];
    for (let at = 0; at < WITH_AUD.length; at += 1000) {
      const piece = WITH_AUD.subarray(at, at + 1000);
      chunk.set(piece);
      got.push(...parser.push(chunk.subarray(0, piece.length)));
      chunk.fill(0xee);
    }
    got.push(...parser.flush());
    expect(got).toEqual(aus);
  });

  test("garbage before the first start code, empty NAL units and trailing zeros are dropped", () => {
    const sps = aus[0]!.nals[1]!;
    const pps = aus[0]!.nals[2]!;
    const idr = aus[0]!.nals[4]!;
    const stream = concat([
      new Uint8Array([0xff, 0x01, 0x00, 0x01, 0x00]), // not a start code
      new Uint8Array([0, 0, 1, 0, 0, 1]), // an empty NAL unit
      sps, // (the start code above ends the empty one and begins the SPS)
      new Uint8Array([0, 0, 0, 0, 0, 1]),
      pps, // extra zeros (trailing_zero_8bits)
      new Uint8Array([0, 0, 1]),
      idr,
      new Uint8Array([0, 0]),
    ]);
    const parser = new AnnexBParser();
    expect([...parser.push(stream), ...parser.flush()]).toEqual([{ nals: [sps, pps, idr], keyframe: true }]);
    expect(parser.discarded).toBe(4); // ff 01 00 01; the zero before 00 00 01 is a leading_zero_8bits
  });

  test("a start code split between chunks is found after any amount of garbage", () => {
    // 100 kB of garbage (more than the parser's first buffer), cut inside the 4-byte start code that follows.
    const garbage = new Uint8Array(100_000).fill(0xff);
    const stream = concat([garbage, WITH_AUD]);
    for (const cut of [1, 2, 3]) {
      const parser = new AnnexBParser();
      const got = [...parser.push(stream.subarray(0, garbage.length + cut)), ...parser.push(stream.subarray(garbage.length + cut)), ...parser.flush()];
      expect(got).toEqual(aus);
      expect(parser.discarded).toBe(garbage.length);
    }
  });

  test("a NAL unit longer than maxNalBytes is dropped with its picture; memory stays bounded", () => {
    // A limit just below the largest NAL unit of the fixture drops the picture that holds it, and only that one.
    const sizes = aus.map((au) => Math.max(...au.nals.map((nal) => nal.length)));
    const largest = Math.max(...sizes);
    const victim = sizes.indexOf(largest);
    expect(sizes.filter((n) => n === largest)).toHaveLength(1);
    const victimBytes = aus[victim]!.nals.reduce((n, nal) => n + nal.length, 0);
    for (const chunk of [WITH_AUD.length, 100, 1]) {
      const parser = new AnnexBParser({ maxNalBytes: largest - 1 });
      expect(parseWith(parser, WITH_AUD, chunk)).toEqual(aus.filter((_, i) => i !== victim));
      expect(parser.discarded).toBeGreaterThanOrEqual(victimBytes - 8); // less the bytes of zeros ending units
      expect(parser.discarded).toBeLessThanOrEqual(victimBytes + 8);
    }
    // Bytes after a start code that never ends are not kept beyond the limit.
    const parser = new AnnexBParser({ maxNalBytes: largest });
    const endless = new Uint8Array(100_000).fill(0x41);
    endless.set([0, 0, 1]);
    parser.push(endless);
    expect(parseWith(parser, WITH_AUD, 4096)).toEqual(aus);
    expect(parser.discarded).toBe(endless.length - 3);
  });

  test("parameter sets without a picture are kept for the next picture, not handed out alone", () => {
    const [aud, sps, pps, sei, idr] = aus[0]!.nals;
    const stream = annexB([{ nals: [aud!, sps!, pps!, aud!, sei!, idr!], keyframe: true }]);
    expect(parseWhole(stream)).toEqual([{ nals: [aud!, sps!, pps!, aud!, sei!, idr!], keyframe: true }]);
    // A stream that ends without a picture gives nothing.
    expect(parseWhole(annexB([{ nals: [sps!, pps!], keyframe: false }]))).toEqual([]);
  });
});

// --- parseSpsSize -------------------------------------------------------------

describe("parseSpsSize reads the picture size from the SPS", () => {
  const spsOf = (stream: Uint8Array): Uint8Array => {
    const au = parseWhole(stream)[0]!;
    return au.nals.find((nal) => nalType(nal) === 7)!;
  };
  const probeSize = (stream: Uint8Array): { width: number; height: number } => {
    const r = pipeThrough(["ffprobe", "-v", "error", "-f", "h264", "-show_entries", "stream=width,height", "-of", "json", "pipe:0"], stream);
    const s = (JSON.parse(r.stdout) as { streams: { width: number; height: number }[] }).streams[0]!;
    return { width: s.width, height: s.height };
  };
  const twoFrames = (size: string, args: string[]): Uint8Array =>
    ffmpeg(["-f", "lavfi", "-i", `testsrc2=size=${size}:rate=30`, "-frames:v", "2", ...args, "-c:v", "libx264", "-f", "h264", "pipe:1"]);

  // [what, asked size, ffmpeg options, size in the SPS (what ffprobe reports as well)]
  const cases: [string, string, string[], { width: number; height: number }][] = [
    ["baseline, whole macroblocks", "320x240", ["-profile:v", "baseline"], { width: 320, height: 240 }],
    ["720p: 736 lines coded, 16 cropped", "1280x720", ["-profile:v", "main"], { width: 1280, height: 720 }],
    ["1080p, high profile", "1920x1080", [], { width: 1920, height: 1080 }],
    ["odd crop 322x242 (4:2:0, crop in 2-pixel units)", "322x242", [], { width: 322, height: 242 }],
    ["odd size: libx264 drops a column and a row to get even 4:2:0", "323x241", [], { width: 322, height: 240 }],
    ["4:2:2 10-bit (High 4:2:2: chroma_format_idc 2, crop 2 across, 1 down)", "322x242", ["-pix_fmt", "yuv422p10le"], { width: 322, height: 242 }],
    ["4:4:4 (High 4:4:4 Predictive, crop in 1-pixel units)", "322x242", ["-pix_fmt", "yuv444p"], { width: 322, height: 242 }],
    ["interlaced (frame_mbs_only 0: heights in macroblock pairs)", "640x360", ["-x264-params", "interlaced=1"], { width: 640, height: 360 }],
    ["scaling matrices in the SPS (cqm=jvt)", "640x360", ["-x264-params", "cqm=jvt"], { width: 640, height: 360 }],
  ];
  for (const [what, size, args, expected] of cases) {
    test(`${what}: ${size} → ${expected.width}x${expected.height}`, () => {
      const stream = twoFrames(size, args);
      expect(probeSize(stream)).toEqual(expected);
      expect(parseSpsSize(spsOf(stream))).toEqual(expected);
    });
  }

  test("the 60-frame fixture is 320x240", () => {
    expect(parseSpsSize(spsOf(WITH_AUD))).toEqual({ width: 320, height: 240 });
  });

  test("emulation prevention bytes (00 00 03) are removed before the bits are read", () => {
    // An SPS written bit by bit whose RBSP contains 00 00 0x sequences.
    const bits: number[] = [];
    const u = (n: number, v: number) => {
      for (let i = n - 1; i >= 0; i--) bits.push((v >>> i) & 1);
    };
    const ue = (v: number) => {
      const len = Math.floor(Math.log2(v + 1));
      u(len, 0);
      u(len + 1, v + 1);
    };
    u(8, 66);
    u(8, 0);
    u(8, 0); // profile_idc baseline, constraint flags, level_idc 0
    ue(0);
    ue(0);
    ue(2); // sps_id, log2_max_frame_num_minus4, pic_order_cnt_type 2
    ue(2 ** 25 - 1);
    u(1, 0); // max_num_ref_frames: 25 zero bits, a 1 (→ 00 00 02), 25 zero bits; gaps
    ue(79);
    ue(44);
    u(1, 1);
    u(1, 1); // 80x45 macroblocks, frame_mbs_only, direct_8x8
    u(1, 1);
    ue(0);
    ue(0);
    ue(0);
    ue(0); // frame cropping, all zero
    u(1, 0);
    u(1, 1); // vui absent, rbsp stop bit
    while (bits.length % 8) bits.push(0);
    const rbsp = new Uint8Array(bits.length / 8).map((_, i) => parseInt(bits.slice(i * 8, i * 8 + 8).join(""), 2));
    const escaped: number[] = [0x67];
    let zeros = 0;
    for (const b of rbsp) {
      if (zeros >= 2 && b <= 3) {
        escaped.push(3);
        zeros = 0;
      }
      escaped.push(b);
      zeros = b === 0 ? zeros + 1 : 0;
    }
    expect(escaped.length).toBeGreaterThan(rbsp.length + 1); // the escaping did insert bytes
    expect(parseSpsSize(new Uint8Array(escaped))).toEqual({ width: 1280, height: 720 });
  });

  test("not an SPS, or an SPS cut short: null", () => {
    const sps = spsOf(WITH_AUD);
    const pps = parseWhole(WITH_AUD)[0]!.nals.find((nal) => nalType(nal) === 8)!;
    expect(parseSpsSize(pps)).toBeNull();
    expect(parseSpsSize(sps.subarray(0, 6))).toBeNull();
    expect(parseSpsSize(new Uint8Array())).toBeNull();
  });
});

// --- packetizeH264 ------------------------------------------------------------

describe("packetizeH264 cuts a picture into RTP payloads (RFC 6184, packetization-mode 1)", () => {
  const aus = parseWhole(WITH_AUD);

  for (const maxPayload of [1200, 300, 40]) {
    test(`maxPayload ${maxPayload}: no payload is larger, and a receiver gets every NAL unit back byte for byte`, () => {
      const sequencer = new RtpSequencer(1, 96);
      for (const au of aus) {
        const payloads = packetizeH264(au, maxPayload);
        for (const p of payloads) expect(p.length).toBeLessThanOrEqual(maxPayload);
        const { aus: received } = depacketize(sequencer.packets(payloads, 0));
        expect(received).toEqual([withoutAud(au)]);
      }
    });
  }

  test("a keyframe starts with one STAP-A holding SPS and PPS (and the SEI), then FU-A fragments of the slices", () => {
    const payloads = packetizeH264(aus[0]!);
    const stap = payloads[0]!;
    expect(stap[0]! & 0x1f).toBe(24);
    const inside: number[] = [];
    for (let at = 1; at < stap.length; ) {
      const size = (stap[at]! << 8) | stap[at + 1]!;
      inside.push(stap[at + 2]! & 0x1f);
      at += 2 + size;
    }
    expect(inside).toEqual([7, 8, 6]);
    // The STAP-A header's NRI is the highest of its units' (SPS/PPS are 3).
    expect(stap[0]! & 0x60).toBe(0x60);
    for (const p of payloads.slice(1)) expect(p[0]! & 0x1f).toBe(28);
  });

  test("FU-A fragments: indicator keeps F and NRI, header has S on the first, E on the last and the NAL type", () => {
    const idr = aus[0]!.nals.find((nal) => nalType(nal) === 5)!;
    expect(idr.length).toBeGreaterThan(1200);
    const payloads = packetizeH264({ nals: [idr], keyframe: true });
    expect(payloads.length).toBe(Math.ceil((idr.length - 1) / 1198));
    payloads.forEach((p, i) => {
      expect(p[0]).toBe((idr[0]! & 0xe0) | 28);
      expect(p[1]).toBe((i === 0 ? 0x80 : 0) | (i === payloads.length - 1 ? 0x40 : 0) | 5);
    });
    // Fragments are of nearly equal size: no tiny last packet.
    const sizes = payloads.map((p) => p.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(concat([idr.subarray(0, 1), ...payloads.map((p) => p.subarray(2))])).toEqual(idr);
  });

  test("a NAL unit that fits alone is sent as is; delimiters are dropped", () => {
    const [aud] = aus[1]!.nals;
    expect(nalType(aud!)).toBe(9);
    const lone = new Uint8Array(1000).fill(7);
    lone[0] = 0x41;
    expect(packetizeH264({ nals: [aud!, lone], keyframe: false })).toEqual([lone]);
    expect(packetizeH264({ nals: [aud!, lone], keyframe: false })[0]).toBe(lone); // not even copied
    expect(packetizeH264({ nals: [aud!], keyframe: false })).toEqual([]);
  });

  test("a maxPayload that cannot hold a fragment is refused", () => {
    expect(() => packetizeH264(aus[0]!, 2)).toThrow(RangeError);
    expect(() => packetizeH264(aus[0]!, 70_000)).toThrow(RangeError);
  });
});

// --- RtpSequencer -------------------------------------------------------------

describe("RtpSequencer gives each peer its own RTP headers", () => {
  const aus = parseWhole(WITH_AUD);

  test("version 2, payload type, marker on the last packet of each picture, timestamp and SSRC as given", () => {
    const sequencer = new RtpSequencer(0xdeadbeef, 102, 1000);
    const payloads = packetizeH264(aus[0]!);
    expect(payloads.length).toBeGreaterThan(3);
    const packets = sequencer.packets(payloads, 0xfedcba98);
    const view = (p: Uint8Array) => new DataView(p.buffer, p.byteOffset, p.byteLength);
    packets.forEach((p, i) => {
      expect(p.length).toBe(12 + payloads[i]!.length);
      expect(p[0]).toBe(0x80);
      expect(p[1]! & 0x7f).toBe(102);
      expect(Boolean(p[1]! & 0x80)).toBe(i === packets.length - 1);
      expect(view(p).getUint16(2)).toBe(1000 + i);
      expect(view(p).getUint32(4)).toBe(0xfedcba98);
      expect(view(p).getUint32(8)).toBe(0xdeadbeef);
      expect(new Uint8Array(p.subarray(12))).toEqual(new Uint8Array(payloads[i]!));
    });
    expect(sequencer.nextSequenceNumber).toBe(1000 + packets.length);
  });

  test("sequence numbers run on across pictures and wrap from 65535 to 0", () => {
    const sequencer = new RtpSequencer(7, 96, 65530);
    const packets = rtpStream(aus.slice(0, 3), sequencer);
    const seqs = packets.map((p) => (p[2]! << 8) | p[3]!);
    expect(seqs).toEqual(seqs.map((_, i) => (65530 + i) % 65536));
    expect(seqs).toContain(0);
    expect(packets.filter((p) => p[1]! & 0x80)).toHaveLength(3); // one marker per picture
  });

  test("timestamps are taken mod 2^32", () => {
    const [p] = new RtpSequencer(1, 96, 0).packets([new Uint8Array([0x41])], 2 ** 32 + 5);
    expect(new DataView(p!.buffer, p!.byteOffset).getUint32(4)).toBe(5);
  });

  test("without a first sequence number, each peer starts at a random one", () => {
    const starts = new Set(Array.from({ length: 20 }, () => new RtpSequencer(1, 96).nextSequenceNumber));
    for (const s of starts) expect(Number.isInteger(s) && s >= 0 && s <= 65535).toBe(true);
    expect(starts.size).toBeGreaterThan(1);
  });

  test("packets are Buffers (what werift's sendRtp takes), each with its own memory", () => {
    const packets = new RtpSequencer(1, 96).packets(packetizeH264(aus[0]!), 0);
    for (const p of packets) expect(Buffer.isBuffer(p)).toBe(true);
    packets[0]!.fill(0);
    expect(packets[1]![0]).toBe(0x80);
  });

  test("bad SSRC or payload type are refused", () => {
    expect(() => new RtpSequencer(-1, 96)).toThrow(RangeError);
    expect(() => new RtpSequencer(2 ** 32, 96)).toThrow(RangeError);
    expect(() => new RtpSequencer(1, 128)).toThrow(RangeError);
    expect(() => new RtpSequencer(1, 96, 65536)).toThrow(RangeError);
  });
});

// --- round trip -------------------------------------------------------------

describe("round trip: what goes out over RTP decodes to the same frames", () => {
  const aus = parseWhole(WITH_AUD);
  const original = decodedFrames(WITH_AUD);

  test("ffmpeg decodes the original fixture to 60 frames", () => {
    expect(original.frames).toHaveLength(60);
    expect(original.stderr).toBe("");
  });

  for (const maxPayload of [1200, 100]) {
    test(`all 60 pictures through RTP (maxPayload ${maxPayload}, sequence wrapping) decode to identical frames`, () => {
      const packets = rtpStream(aus, new RtpSequencer(0x1234, 96, 65000), maxPayload, 0xffff0000);
      const { aus: received, payloadTypes } = depacketize(packets);
      expect(received).toHaveLength(60);
      expect([...payloadTypes]).toEqual([96]);
      const decoded = decodedFrames(annexB(received.map((nals) => ({ nals, keyframe: false }))));
      expect(decoded.stderr).toBe("");
      expect(decoded.frames).toHaveLength(60);
      // framecrc lines hold stream, dts, pts, duration, size and checksum: the pictures are the same.
      expect(decoded.frames.map((l) => l.split(",").at(-1))).toEqual(original.frames.map((l) => l.split(",").at(-1)));
    });
  }

  test("a peer that joins later starts at the cached keyframe and decodes from there without errors", () => {
    // Two peers share the payloads of each picture; the second one joins at picture 30.
    const early = new RtpSequencer(1, 96);
    const late = new RtpSequencer(2, 102);
    const earlyPackets: Uint8Array[] = [];
    const latePackets: Uint8Array[] = [];
    aus.forEach((au, i) => {
      const payloads = packetizeH264(au);
      earlyPackets.push(...early.packets(payloads, i * 3000));
      if (i >= 30) latePackets.push(...late.packets(payloads, i * 3000));
    });
    const lateStream = depacketize(latePackets);
    expect(lateStream.payloadTypes).toEqual(new Set([102]));
    const decoded = decodedFrames(annexB(lateStream.aus.map((nals) => ({ nals, keyframe: false }))));
    expect(decoded.stderr).toBe("");
    expect(decoded.frames.map((l) => l.split(",").at(-1))).toEqual(original.frames.slice(30).map((l) => l.split(",").at(-1)));
    expect(depacketize(earlyPackets).aus).toHaveLength(60);
  });
});
