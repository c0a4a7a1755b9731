/**
 * The latency benchmark's clock stamp (scripts/bench/lib/clock-stamp.ts):
 * drawn into real 720p test-pattern pictures, it reads back to the time
 * written after libjpeg-turbo's JPEG at glasscast's settings, and after
 * ffmpeg's libx264 with glasscast's own encoder arguments (h264Args) and
 * ffmpeg's decoder. A damaged stamp reads as nothing, never as a wrong time.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { JpegDecoder } from "../src/encoders/jpeg-decoder.ts";
import { defaultJpegSettings } from "../src/encoders/jpeg-settings.ts";
import { h264Args } from "../src/encoders/h264-ffmpeg.ts";
import { TurboJpegEncoder } from "../src/encoders/turbojpeg-encoder.ts";
import type { RawFrame } from "../src/stream/frame.ts";
import { drawStamp, readStampLuma, readStampRgba, readStampRgbaSource, stampArea, stampBlock } from "../scripts/bench/lib/clock-stamp.ts";
import { ffmpeg } from "./helpers/ffmpeg.ts";

setDefaultTimeout(60_000);

const W = 1280;
const H = 720;
const FRAMES = 30;
const T0 = Math.round(Date.now()) - 5000;
/** The stamp holds 0.1 ms units. */
const within = (ms: number | null, expected: number) => expect(Math.abs(ms! - expected)).toBeLessThan(0.051);

/** `FRAMES` pictures of the moving test pattern, full-range I420, each stamped 33.3 ms after the last. */
function stampedPictures(): RawFrame[] {
  const raw = ffmpeg([
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${W}x${H}:rate=30`,
    "-frames:v",
    String(FRAMES),
    "-vf",
    "scale=out_range=full,format=yuv420p",
    "-f",
    "rawvideo",
    "pipe:1",
  ]);
  const size = (W * H * 3) / 2;
  expect(raw.length).toBe(size * FRAMES);
  return Array.from({ length: FRAMES }, (_, i) => {
    const frame: RawFrame = { kind: "raw", format: "i420", width: W, height: H, data: raw.slice(i * size, (i + 1) * size) };
    drawStamp(frame, T0 + i * 33.3);
    return frame;
  });
}

describe("clock stamp", () => {
  test("a 720p picture gets 32-pixel blocks; a narrow one is refused with a message", () => {
    expect(stampBlock(1280)).toBe(32);
    expect(stampBlock(640)).toBe(24);
    expect(stampArea(1280)).toEqual({ width: 768, height: 64 });
    expect(() => stampBlock(100)).toThrow(/too narrow for the clock stamp/);
  });

  test("reads back exactly from the raw picture, and from RGBA by the page's own source", () => {
    const [frame] = stampedPictures();
    within(readStampLuma(W, frame!.data), T0);
    const rgba = new Uint8ClampedArray(W * H * 4);
    for (let i = 0; i < W * H; i++) rgba.fill(frame!.data[i]!, i * 4, i * 4 + 3);
    within(readStampRgba(W, rgba), T0);
    const pageReader = new Function("w", "rgba", "now", `${readStampRgbaSource()}\nreturn readStamp(w, rgba, now);`);
    within(pageReader(W, rgba, Date.now()) as number, T0);
  });

  test("a damaged stamp or a flipped bit reads as nothing", () => {
    const [frame] = stampedPictures();
    const grey = frame!.data.slice();
    for (let y = 0; y < 32; y++) grey.fill(128, y * W + 64, y * W + 96); // block 2 turned grey
    expect(readStampLuma(W, grey)).toBeNull();
    const flipped = frame!.data.slice();
    for (let y = 32; y < 64; y++) for (let x = 0; x < 32; x++) flipped[y * W + x] = 255 - flipped[y * W + x]!; // one bit flipped
    expect(readStampLuma(W, flipped)).toBeNull();
    expect(readStampLuma(W, new Uint8Array(W * H).fill(0))).toBeNull(); // all black: the CRC is inverted
    expect(readStampLuma(W, new Uint8Array(W * H).fill(255))).toBeNull();
  });

  test("survives libjpeg-turbo at glasscast's settings (q 90, 4:2:0): every picture reads its own time", () => {
    const encoder = new TurboJpegEncoder(defaultJpegSettings);
    const decoder = new JpegDecoder();
    try {
      stampedPictures().forEach((frame, i) => {
        const decoded = decoder.decode(encoder.encode(frame));
        within(readStampLuma(W, decoded.data), T0 + i * 33.3);
      });
    } finally {
      encoder.close();
      decoder.close();
    }
  });

  test("survives ffmpeg's libx264 with glasscast's encoder arguments (2500 kbit/s) and ffmpeg's decoder", () => {
    const frames = stampedPictures();
    const [bin, ...args] = h264Args("ffmpeg", { kind: "raw", format: "i420", width: W, height: H }, { encoder: "libx264", bitrateKbps: 2500, keyint: 30 }, 30);
    const input = new Uint8Array(frames.reduce((n, f) => n + f.data.length, 0));
    frames.reduce((at, f) => {
      input.set(f.data, at);
      return at + f.data.length;
    }, 0);
    const encoded = Bun.spawnSync([bin!, ...args], { stdin: input, timeout: 60_000 });
    expect(encoded.exitCode).toBe(0);
    const decoded = Bun.spawnSync(
      ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "h264", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"],
      { stdin: new Uint8Array(encoded.stdout), timeout: 60_000 },
    );
    expect(decoded.exitCode).toBe(0);
    const out = new Uint8Array(decoded.stdout);
    // glasscast's encoder input (-fflags nobuffer while probing) drops the first picture: the others all come out.
    const count = out.length / (W * H);
    expect(count).toBeGreaterThanOrEqual(FRAMES - 1);
    const first = FRAMES - count;
    for (let i = 0; i < count; i++) within(readStampLuma(W, out.subarray(i * W * H, (i + 1) * W * H)), T0 + (first + i) * 33.3);
  });
});
