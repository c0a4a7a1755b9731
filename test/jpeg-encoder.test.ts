/**
 * The libjpeg-turbo encoder: each --jpeg-* option really changes the JPEG.
 * Checked with the library's own decoder side (tjDecompressHeader3).
 */
import { describe, expect, test } from "bun:test";
import { TurboJpeg } from "../ffi/turbojpeg.ts";
import { defaultJpegSettings, type JpegSettings } from "../src/encoders/jpeg-settings.ts";
import { TurboJpegEncoder } from "../src/encoders/turbojpeg-encoder.ts";
import type { RawFrame } from "../src/stream/frame.ts";
import { Y4mReader } from "../src/sources/y4m-reader.ts";
import { y4mTestPattern } from "./helpers/ffmpeg.ts";

const [i420] = new Y4mReader().push(y4mTestPattern(1280, 720, 1, "yuv420p"));
const [i444] = new Y4mReader().push(y4mTestPattern(1280, 720, 1, "yuv444p"));
const [gray] = new Y4mReader().push(y4mTestPattern(1280, 720, 1, "gray"));
const header = new TurboJpeg();

function encode(frame: RawFrame, s: Partial<JpegSettings> = {}): Uint8Array {
  const encoder = new TurboJpegEncoder({ ...defaultJpegSettings, ...s });
  try { return encoder.encode(frame).slice(); } finally { encoder.close(); }
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

  test("--jpeg-fastdct changes the DCT (different bytes, same picture size)", () => {
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
