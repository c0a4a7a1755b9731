/**
 * Decoding a camera's H.264 back into pictures for MJPEG viewers: a real
 * libx264 stream (baseline, a keyframe every 30 pictures, parameter sets
 * repeated, as a camera sends it) is cut into access units with the WebRTC
 * output's parser and written to the decoder process at the camera's pace.
 * Judged against ffmpeg's own decode of the same stream and against the test
 * pattern it was made from.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { H264Decoder } from "../src/encoders/h264-decoder.ts";
import type { JpegSubsampling } from "../src/encoders/jpeg-settings.ts";
import { AnnexBParser } from "../src/media/h264/annexb.ts";
import { Y4mReader } from "../src/media/y4m-reader.ts";
import type { RawFrame } from "../src/media/frame.ts";
import { ffmpeg, tempDir, y4mTestPattern } from "./helpers/ffmpeg.ts";

setDefaultTimeout(60_000);

const W = 640,
  H = 360,
  COUNT = 60,
  LUMA = W * H,
  I420 = (LUMA * 3) / 2;
const dir = tempDir("glasscast-h264dec-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// --- fixtures ---------------------------------------------------------------

const stream = ffmpeg([
  "-f",
  "lavfi",
  "-i",
  `testsrc2=size=${W}x${H}:rate=30`,
  "-frames:v",
  String(COUNT),
  "-c:v",
  "libx264",
  "-preset",
  "ultrafast",
  "-profile:v",
  "baseline",
  "-bf",
  "0",
  "-g",
  "30",
  "-keyint_min",
  "30",
  "-sc_threshold",
  "0",
  "-x264-params",
  "repeat-headers=1",
  "-f",
  "h264",
  "pipe:1",
]);
const streamPath = join(dir, "stream.h264");
writeFileSync(streamPath, stream);

/** The stream's access units, each as the Annex B bytes a camera source hands over. */
const parser = new AnnexBParser();
const units = [...parser.push(stream), ...parser.flush()].map((au) => {
  const bytes = new Uint8Array(au.nals.reduce((n, nal) => n + 4 + nal.length, 0));
  let at = 0;
  for (const nal of au.nals) {
    bytes.set([0, 0, 0, 1], at);
    bytes.set(nal, at + 4);
    at += 4 + nal.length;
  }
  return { bytes, keyframe: au.keyframe };
});

/** ffmpeg's own decode of the stream, converted as the decoder converts it. */
const reference = ffmpeg(["-f", "h264", "-i", streamPath, "-vf", "scale=out_range=full:flags=fast_bilinear,format=yuv420p", "-f", "rawvideo", "pipe:1"]);
const referenceFrame = (n: number) => reference.subarray(n * I420, (n + 1) * I420);

/** The test pattern the stream was made from, full range. */
const truth = new Y4mReader(COUNT).push(y4mTestPattern(W, H, COUNT, "yuv420p"));

// --- helpers ----------------------------------------------------------------

/** A decoder that keeps a copy of every picture and, for each, how many access units had been written by then. */
function start(subsampling: JpegSubsampling = "420") {
  const pictures: RawFrame[] = [];
  const lateness: number[] = [];
  const decoder: H264Decoder = new H264Decoder(
    "ffmpeg",
    subsampling,
    (frame) => {
      pictures.push({ ...frame, data: frame.data.slice() });
      lateness.push(decoder.written - decoder.pictures);
    },
    "test-decoder",
  );
  return { decoder, pictures, lateness };
}

/** Waits (at most 10 s) until the decoder has put out `n` pictures. */
async function picturesOut(decoder: H264Decoder, n: number): Promise<void> {
  for (const until = Date.now() + 10_000; decoder.pictures < n; ) {
    if (Date.now() > until) throw new Error(`${decoder.pictures} pictures after 10 s, expected ${n}`);
    await Bun.sleep(2);
  }
}

function maxDifference(a: Uint8Array, b: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function lumaPsnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < LUMA; i++) sum += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (sum / LUMA));
}

/** Bytes that no decoder reads: a filler NAL unit (type 12) of about `size` bytes. */
function filler(size: number): Uint8Array {
  const bytes = new Uint8Array(size).fill(0xff);
  bytes.set([0, 0, 0, 1, 0x0c]);
  bytes[size - 1] = 0x80;
  return bytes;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// --- tests ------------------------------------------------------------------

describe("H264Decoder", () => {
  test("the fixture is a camera-like stream: 60 pictures, keyframes at 0 and 30", () => {
    expect(units).toHaveLength(COUNT);
    expect(units.flatMap((u, i) => (u.keyframe ? [i] : []))).toEqual([0, 30]);
  });

  test("one picture per access unit, out before the next access unit is written, as ffmpeg decodes it", async () => {
    const { decoder, pictures, lateness } = start();
    // The first ten one at a time: each picture must come out with no further input.
    for (let i = 0; i < 10; i++) {
      decoder.write(units[i]!.bytes, units[i]!.keyframe);
      await picturesOut(decoder, i + 1);
    }
    // The rest at a camera's 30 per second.
    for (let i = 10; i < COUNT; i++) {
      decoder.write(units[i]!.bytes, units[i]!.keyframe);
      await Bun.sleep(33);
    }
    await picturesOut(decoder, COUNT);
    expect(decoder.skipped).toBe(0);
    expect(decoder.pictures).toBe(COUNT);
    for (const [n, picture] of pictures.entries()) {
      expect(picture).toMatchObject({ kind: "raw", format: "i420", width: W, height: H });
      expect(maxDifference(picture.data, referenceFrame(n))).toBeLessThanOrEqual(1);
    }
    const psnr = lumaPsnr(pictures[45]!.data, truth[45]!.data);
    expect(psnr).toBeGreaterThan(30);
    const late = lateness.slice(10).reduce<Record<number, number>>((h, l) => ({ ...h, [l]: (h[l] ?? 0) + 1 }), {});
    console.log(
      `H264Decoder: picture 45 vs the test pattern: luma PSNR ${psnr.toFixed(1)} dB; ` +
        `access units still waiting when a picture came out, at 30/s: ${JSON.stringify(late)}`,
    );
    await decoder.stop();
  });

  for (const [subsampling, format] of [
    ["422", "i422"],
    ["444", "i444"],
    ["gray", "gray"],
  ] as const) {
    test(`--jpeg-subsampling ${subsampling} gives ${format} pictures`, async () => {
      const { decoder, pictures } = start(subsampling);
      for (let i = 0; i < 3; i++) {
        decoder.write(units[i]!.bytes, units[i]!.keyframe);
        await picturesOut(decoder, i + 1);
      }
      expect(pictures.map((p) => [p.format, p.width, p.height])).toEqual(Array(3).fill([format, W, H]));
      // Same luma as in 4:2:0: only the chroma layout differs.
      expect(maxDifference(pictures[2]!.data.subarray(0, LUMA), referenceFrame(2).subarray(0, LUMA))).toBeLessThanOrEqual(1);
      await decoder.stop();
    });
  }

  test("started in the middle of a GOP, it waits for the next keyframe", async () => {
    const { decoder, pictures } = start();
    expect(decoder.waitingForKeyframe).toBe(true);
    for (let i = 10; i < COUNT; i++) {
      const before = decoder.written;
      decoder.write(units[i]!.bytes, units[i]!.keyframe);
      if (i < 30) expect(decoder.waitingForKeyframe).toBe(true);
      if (decoder.written > before) await picturesOut(decoder, decoder.written);
    }
    expect(decoder.skipped).toBe(20);
    expect(decoder.pictures).toBe(30);
    expect(maxDifference(pictures[0]!.data, referenceFrame(30))).toBeLessThanOrEqual(1);
    await decoder.stop();
  });

  test("an access unit that comes while the last is still being written is skipped, then it waits for a keyframe", async () => {
    const { decoder, pictures } = start();
    // 4 MiB more than any pipe holds: the write cannot finish at once.
    decoder.write(concat(units[0]!.bytes, filler(4 << 20)), true);
    decoder.write(units[1]!.bytes, false);
    expect(decoder.skipped).toBe(1);
    expect(decoder.waitingForKeyframe).toBe(true);
    await picturesOut(decoder, 1);
    await Bun.sleep(50);
    decoder.write(units[2]!.bytes, false); // would show corruption: skipped
    expect(decoder.skipped).toBe(2);
    decoder.write(units[30]!.bytes, true);
    expect(decoder.waitingForKeyframe).toBe(false);
    await picturesOut(decoder, 2);
    expect(maxDifference(pictures[0]!.data, referenceFrame(0))).toBeLessThanOrEqual(1);
    expect(maxDifference(pictures[1]!.data, referenceFrame(30))).toBeLessThanOrEqual(1);
    await decoder.stop();
  });

  test("stop() ends and reaps the ffmpeg process", async () => {
    const { decoder } = start();
    decoder.write(units[0]!.bytes, true);
    await picturesOut(decoder, 1);
    const pid = decoder.pid;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await decoder.stop();
    await decoder.exited;
    expect(() => process.kill(pid, 0)).toThrow();
    decoder.write(units[1]!.bytes, false); // after stop: ignored, no error
  });

  test("a subsampling it does not know is a clear error", () => {
    expect(() => new H264Decoder("ffmpeg", "411" as JpegSubsampling, () => {}, "bad")).toThrow(/420, 422, 444 or gray, got 411/);
  });
});
