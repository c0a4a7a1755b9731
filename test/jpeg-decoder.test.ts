/**
 * Decoding JPEGs to raw pictures with libjpeg-turbo: JPEGs made by ffmpeg and
 * by glasscast's own encoder, in every subsampling and at odd sizes, come out
 * in the JPEG's own planar layout with the samples ffmpeg's decoder finds in
 * the same file (within ±2: the two inverse DCTs differ in rounding).
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { JpegDecoder } from "../src/encoders/jpeg-decoder.ts";
import { defaultJpegSettings } from "../src/encoders/jpeg-settings.ts";
import { TurboJpegEncoder } from "../src/encoders/turbojpeg-encoder.ts";
import { rawFrameSize, type PlanarFormat, type RawFrame } from "../src/media/frame.ts";
import { Y4mReader } from "../src/media/y4m-reader.ts";
import { ffmpeg, tempDir, y4mTestPattern } from "./helpers/ffmpeg.ts";

setDefaultTimeout(60_000);

const dir = tempDir("glasscast-jpegdec-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const Y4M_PIX_FMT: Record<PlanarFormat, string> = { i420: "yuv420p", i422: "yuv422p", i444: "yuv444p", gray: "gray" };
/** What ffmpeg's mjpeg decoder gives for each layout, unconverted. */
const DECODED_PIX_FMT: Record<PlanarFormat, string> = { i420: "yuvj420p", i422: "yuvj422p", i444: "yuvj444p", gray: "gray" };

/** A JPEG of the test pattern from ffmpeg's mjpeg encoder (it makes no gray JPEGs). */
function ffmpegJpeg(format: Exclude<PlanarFormat, "gray">, width: number, height: number): Uint8Array {
  return ffmpeg([
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${width}x${height}`,
    "-frames:v",
    "1",
    "-vf",
    `scale=${width}:${height},format=${DECODED_PIX_FMT[format]}`,
    "-c:v",
    "mjpeg",
    "-q:v",
    "3",
    "-f",
    "mjpeg",
    "pipe:1",
  ]);
}

/** A JPEG of the test pattern from glasscast's libjpeg-turbo encoder. */
function glasscastJpeg(format: PlanarFormat, width: number, height: number): Uint8Array {
  const [frame] = new Y4mReader().push(y4mTestPattern(width, height, 1, Y4M_PIX_FMT[format]));
  const encoder = new TurboJpegEncoder(defaultJpegSettings);
  try {
    return encoder.encode(frame!).slice();
  } finally {
    encoder.close();
  }
}

/** ffmpeg's own decode of a JPEG, as raw planes in the JPEG's layout. */
let files = 0;
function ffmpegDecode(jpeg: Uint8Array, format: PlanarFormat): Uint8Array {
  const path = join(dir, `${files++}.jpg`);
  writeFileSync(path, jpeg);
  return ffmpeg(["-i", path, "-f", "rawvideo", "-pix_fmt", DECODED_PIX_FMT[format], "pipe:1"]);
}

function maxDifference(a: Uint8Array, b: Uint8Array, from: number, to: number): number {
  let max = 0;
  for (let i = from; i < to; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function expectLikeFfmpeg(frame: RawFrame, jpeg: Uint8Array, format: PlanarFormat, width: number, height: number): void {
  expect(frame).toMatchObject({ kind: "raw", format, width, height });
  expect(frame.data.length).toBe(rawFrameSize(format, width, height));
  const reference = ffmpegDecode(jpeg, format);
  expect(reference.length).toBe(frame.data.length);
  const luma = width * height;
  expect(maxDifference(frame.data, reference, 0, luma)).toBeLessThanOrEqual(2);
  expect(maxDifference(frame.data, reference, luma, reference.length)).toBeLessThanOrEqual(2);
}

describe("JpegDecoder", () => {
  const decoder = new JpegDecoder();
  afterAll(() => decoder.close());

  for (const [width, height] of [
    [640, 360],
    [63, 47],
    [161, 91],
  ] as const) {
    for (const format of ["i420", "i422", "i444"] as const) {
      test(`ffmpeg's ${format} JPEG ${width}x${height}: right layout, samples as ffmpeg decodes them`, () => {
        const jpeg = ffmpegJpeg(format, width, height);
        expectLikeFfmpeg(decoder.decode(jpeg), jpeg, format, width, height);
      });
    }
    for (const format of ["i420", "i422", "i444", "gray"] as const) {
      test(`glasscast's ${format} JPEG ${width}x${height}: right layout, samples as ffmpeg decodes them`, () => {
        const jpeg = glasscastJpeg(format, width, height);
        expectLikeFfmpeg(decoder.decode(jpeg), jpeg, format, width, height);
      });
    }
  }

  test("the decoded picture is the picture that was encoded", () => {
    const [source] = new Y4mReader().push(y4mTestPattern(640, 360, 1, "yuv420p"));
    const encoder = new TurboJpegEncoder({ ...defaultJpegSettings, quality: 95 });
    const frame = decoder.decode(encoder.encode(source!));
    encoder.close();
    let sum = 0;
    for (let i = 0; i < 640 * 360; i++) sum += Math.abs(frame.data[i]! - source!.data[i]!);
    expect(sum / (640 * 360)).toBeLessThan(2);
  });

  test("one buffer is reused: no allocation per frame", () => {
    const a = glasscastJpeg("i420", 320, 240);
    const b = ffmpegJpeg("i420", 320, 240);
    const first = decoder.decode(a);
    const second = decoder.decode(b);
    expect(second.data.buffer).toBe(first.data.buffer);
    const third = decoder.decode(glasscastJpeg("gray", 160, 120)); // smaller: still the same buffer
    expect(third.data.buffer).toBe(first.data.buffer);
  });

  test("a damaged or foreign JPEG is a clear Error, and the decoder goes on working", () => {
    const good = ffmpegJpeg("i420", 64, 48);
    expect(() => decoder.decode(new TextEncoder().encode("this is not a JPEG"))).toThrow(/JPEG header cannot be read: .*JPEG/);
    expect(() => decoder.decode(new Uint8Array(0))).toThrow(/no data/);
    expect(() => decoder.decode(good.subarray(0, 40))).toThrow(Error);
    const twelveBit = good.slice();
    twelveBit[good.findIndex((b, i) => b === 0xff && good[i + 1] === 0xc0) + 4] = 12; // SOF0 sample precision
    expect(() => decoder.decode(twelveBit)).toThrow(/JPEG header cannot be read: .*precision 12/);
    expect(decoder.decode(good)).toMatchObject({ format: "i420", width: 64, height: 48 });
  });

  test("a JPEG cut short or with damaged picture data is decoded with a warning counted (cameras send such frames)", () => {
    const good = ffmpegJpeg("i420", 320, 240);
    const before = decoder.warnings;
    const cut = decoder.decode(good.subarray(0, Math.floor(good.length / 2)));
    expect(cut).toMatchObject({ format: "i420", width: 320, height: 240 });
    expect(decoder.warnings).toBe(before + 1);
    expect(decoder.lastWarning).toMatch(/Premature end of JPEG file/);
    const scrambled = good.slice();
    for (let i = scrambled.length - 300; i < scrambled.length - 2; i++) scrambled[i] = 0xff;
    expect(decoder.decode(scrambled)).toMatchObject({ format: "i420", width: 320, height: 240 });
    expect(decoder.warnings).toBe(before + 2);
    expect(decoder.lastWarning).toMatch(/Corrupt JPEG data/);
  });

  test("4:4:0 and 4:1:1 JPEGs are refused by name", () => {
    const jpeg = ffmpegJpeg("i444", 64, 48);
    const sof = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xc0);
    expect(sof).toBeGreaterThan(0);
    // SOF0: marker, length(2), precision, height(2), width(2), count, then id + sampling factors per component.
    const sampling = (component: number) => sof + 2 + 2 + 1 + 4 + 1 + 3 * component + 1;
    for (const [factors, name] of [
      [0x12, "4:4:0"],
      [0x41, "4:1:1"],
    ] as const) {
      const odd = jpeg.slice();
      odd[sampling(0)] = factors; // luma: horizontal and vertical sampling factors
      odd[sampling(1)] = odd[sampling(2)] = 0x11;
      expect(() => decoder.decode(odd)).toThrow(new RegExp(`subsampling ${name} cannot be decoded.*only 4:2:0, 4:2:2, 4:4:4 and gray`));
    }
  });

  test("after close() a decode is an Error, not a crash", () => {
    const d = new JpegDecoder();
    d.close();
    d.close();
    expect(() => d.decode(ffmpegJpeg("i420", 64, 48))).toThrow(/after close/);
  });
});
