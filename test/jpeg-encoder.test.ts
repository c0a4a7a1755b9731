/**
 * The libjpeg-turbo encoder: each --jpeg-* option really changes the JPEG,
 * and a raw picture of any size, odd ones too, comes out as that picture.
 * Checked with the library's own decoder side (tjDecompressHeader3) and with
 * ffmpeg's JPEG decoder.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TurboJpeg, type TjSubsampling } from "../src/ffi/turbojpeg.ts";
import { defaultJpegSettings, type JpegSettings } from "../src/encoders/jpeg-settings.ts";
import { TurboJpegEncoder } from "../src/encoders/turbojpeg-encoder.ts";
import { rawFrameSize, type PlanarFormat, type RawFrame } from "../src/media/frame.ts";
import { Y4mReader } from "../src/media/y4m-reader.ts";
import { ffmpeg, tempDir, y4mTestPattern } from "./helpers/ffmpeg.ts";

setDefaultTimeout(60_000);

const [i420] = new Y4mReader().push(y4mTestPattern(1280, 720, 1, "yuv420p"));
const [i444] = new Y4mReader().push(y4mTestPattern(1280, 720, 1, "yuv444p"));
const [gray] = new Y4mReader().push(y4mTestPattern(1280, 720, 1, "gray"));
const header = new TurboJpeg();

function encode(frame: RawFrame, s: Partial<JpegSettings> = {}): Uint8Array {
  const encoder = new TurboJpegEncoder({ ...defaultJpegSettings, ...s });
  try {
    return encoder.encode(frame).slice();
  } finally {
    encoder.close();
  }
}

describe("TurboJpegEncoder", () => {
  test("encodes a 720p picture to a JPEG of that size", () => {
    const jpeg = encode(i420!);
    expect([jpeg[0], jpeg[1], jpeg.at(-2), jpeg.at(-1)]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    expect(header.readHeader(jpeg)).toEqual({ width: 1280, height: 720, subsampling: "420" });
  });

  test("--jpeg-quality changes the size of the JPEGs", () => {
    const sizes = [20, 50, 90, 100].map((quality) => encode(i420!, { quality }).length);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]!).toBeGreaterThan(sizes[i - 1]!);
  });

  test("--jpeg-fast-dct changes the DCT (different bytes, same picture size)", () => {
    const fast = encode(i420!, { fastDct: true });
    const accurate = encode(i420!, { fastDct: false });
    expect(Buffer.from(fast).equals(Buffer.from(accurate))).toBe(false);
    expect(header.readHeader(accurate)).toMatchObject({ width: 1280, height: 720 });
  });

  test("the capture's layout becomes the JPEG's subsampling (444, gray)", () => {
    expect(header.readHeader(encode(i444!)).subsampling).toBe("444");
    expect(header.readHeader(encode(gray!)).subsampling).toBe("gray");
  });

  test("packed RGB pictures (user frames) go through tjCompress2 with --jpeg-subsampling", () => {
    const rgb: RawFrame = { kind: "raw", format: "rgb", width: 64, height: 32, data: new Uint8Array(64 * 32 * 3).fill(128) };
    expect(header.readHeader(encode(rgb, { subsampling: "422" }))).toEqual({ width: 64, height: 32, subsampling: "422" });
  });

  test("the output buffer is reused: a result is a view valid until the next call", () => {
    const encoder = new TurboJpegEncoder(defaultJpegSettings);
    const a = encoder.encode(i420!);
    const b = encoder.encode(i420!);
    expect(a.buffer).toBe(b.buffer);
    encoder.close();
  });
});

describe("TurboJpegEncoder at any picture size", () => {
  const dir = tempDir("glasscast-jpegenc-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const Y4M_PIX_FMT: Record<PlanarFormat, string> = { i420: "yuv420p", i422: "yuv422p", i444: "yuv444p", gray: "gray" };
  const SUBSAMPLING: Record<PlanarFormat, TjSubsampling> = { i420: "420", i422: "422", i444: "444", gray: "gray" };
  /** ffmpeg's decode of each layout, unconverted (full range, chroma rounded up like glasscast's). */
  const DECODED_PIX_FMT: Record<PlanarFormat, string> = { i420: "yuvj420p", i422: "yuvj422p", i444: "yuvj444p", gray: "gray" };

  /** The test pattern at any size (testsrc2 itself refuses the tiniest), full range. */
  function pattern(format: PlanarFormat, width: number, height: number): RawFrame {
    const y4m = ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=320x240",
      "-frames:v",
      "1",
      "-vf",
      `scale=${width}:${height}:out_range=full,format=${Y4M_PIX_FMT[format]}`,
      "-f",
      "yuv4mpegpipe",
      "-strict",
      "-1",
      "pipe:1",
    ]);
    const [frame] = new Y4mReader().push(y4m);
    expect(frame).toMatchObject({ format, width, height });
    return frame!;
  }

  let files = 0;
  function ffmpegDecode(jpeg: Uint8Array, format: PlanarFormat): Uint8Array {
    const path = join(dir, `${files++}.jpg`);
    writeFileSync(path, jpeg);
    return ffmpeg(["-i", path, "-f", "rawvideo", "-pix_fmt", DECODED_PIX_FMT[format], "pipe:1"]);
  }

  /** Mean absolute difference of the samples at the given indices. */
  function meanError(a: Uint8Array, b: Uint8Array, indices: Iterable<number>): number {
    let sum = 0,
      n = 0;
    for (const i of indices) {
      sum += Math.abs(a[i]! - b[i]!);
      n++;
    }
    return sum / n;
  }
  function* range(from: number, to: number, step = 1): Generator<number> {
    for (let i = from; i < to; i += step) yield i;
  }

  // Quality 100, so that what is left of the difference is the layout, not the compression.
  const sizes = [
    [63, 47],
    [161, 91],
    [1, 1],
    [2, 1],
    [17, 2],
    [1, 9],
    [64, 48],
    [640, 360],
  ] as const;
  for (const [width, height] of sizes) {
    for (const format of ["i420", "i422", "i444", "gray"] as const) {
      test(`${format} ${width}x${height}: the JPEG shows the picture, luma and chroma, up to its last row and column`, () => {
        const frame = pattern(format, width, height);
        const jpeg = encode(frame, { quality: 100 });
        expect(header.readHeader(jpeg)).toEqual({ width, height, subsampling: SUBSAMPLING[format] });
        const decoded = ffmpegDecode(jpeg, format);
        const size = rawFrameSize(format, width, height);
        expect(decoded.length).toBe(size);
        const luma = width * height;
        expect(meanError(decoded, frame.data, range(0, luma))).toBeLessThan(3);
        if (format !== "gray") expect(meanError(decoded, frame.data, range(luma, size))).toBeLessThan(3);
        expect(meanError(decoded, frame.data, range(width - 1, luma, width))).toBeLessThan(3);
        expect(meanError(decoded, frame.data, range(luma - width, luma))).toBeLessThan(3);
      });
    }
  }

  // libjpeg pads the last blocks of a plane by repeating its last column and
  // row, and codes the luma the same whatever the chroma: so the same luma
  // samples give the same decoded luma in every layout, edges included, unless
  // something else went into the padding of a 4:2:0 / 4:2:2 picture's luma.
  for (const [width, height] of sizes) {
    test(`${width}x${height}: i420 and i422 JPEGs have the very luma of the i444 one (default settings)`, () => {
      const luma = width * height;
      const lumaOf = (format: PlanarFormat) => {
        const frame = pattern(format, width, height);
        return { source: frame.data.subarray(0, luma), decoded: ffmpegDecode(encode(frame), format).subarray(0, luma) };
      };
      const i444 = lumaOf("i444");
      for (const format of ["i420", "i422"] as const) {
        const other = lumaOf(format);
        expect(Buffer.from(other.source).equals(Buffer.from(i444.source))).toBe(true);
        expect(Buffer.from(other.decoded).equals(Buffer.from(i444.decoded))).toBe(true);
      }
    });
  }

  test("a picture's data may be a view into a larger buffer", () => {
    const frame = pattern("i420", 63, 47);
    const inside = new Uint8Array(frame.data.length + 100);
    inside.set(frame.data, 37);
    const view: RawFrame = { ...frame, data: inside.subarray(37, 37 + frame.data.length) };
    expect(Buffer.from(encode(view)).equals(Buffer.from(encode(frame)))).toBe(true);
  });

  test("a picture whose data is too short for its size is a clear error", () => {
    const frame = pattern("i420", 63, 47);
    const short: RawFrame = { ...frame, data: frame.data.subarray(0, frame.data.length - 1) };
    expect(() => encode(short)).toThrow(/63x47 420 picture needs 4497 bytes, got 4496/);
  });
});
