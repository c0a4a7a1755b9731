/** Reading ffmpeg's raw YUV4MPEG2 output into pictures, whatever the chunking. */
import { describe, expect, test } from "bun:test";
import { rawFrameSize } from "../src/media/frame.ts";
import { parseY4mHeader, Y4mError, Y4mReader } from "../src/media/y4m-reader.ts";
import { y4mTestPattern } from "./helpers/ffmpeg.ts";

function readAll(bytes: Uint8Array, chunk: number) {
  const reader = new Y4mReader(64); // large ring: keep every frame for comparison
  const frames = [];
  for (let i = 0; i < bytes.length; i += chunk) frames.push(...reader.push(bytes.subarray(i, i + chunk)));
  return { reader, frames };
}

describe("YUV4MPEG2 reader", () => {
  test("the header states size, rate, layout and full range", () => {
    expect(parseY4mHeader("YUV4MPEG2 W1280 H720 F30000:1001 Ip A1:1 C420jpeg XYSCSS=420JPEG XCOLORRANGE=FULL")).toEqual({
      width: 1280,
      height: 720,
      fps: 30000 / 1001,
      format: "i420",
      fullRange: true,
    });
    expect(() => parseY4mHeader("RIFF....")).toThrow(Y4mError);
    expect(() => parseY4mHeader("YUV4MPEG2 F30:1")).toThrow(/without a size/);
    expect(() => parseY4mHeader("YUV4MPEG2 W2 H2 C411")).toThrow(/unsupported/);
  });

  for (const [pixFmt, format] of [
    ["yuv420p", "i420"],
    ["yuv422p", "i422"],
    ["yuv444p", "i444"],
    ["gray", "gray"],
  ] as const) {
    test(`${pixFmt} from ffmpeg: every frame whole, in any chunking, odd sizes too`, () => {
      const width = 161,
        height = 91,
        count = 5;
      const bytes = y4mTestPattern(width, height, count, pixFmt);
      const whole = readAll(bytes, bytes.length).frames;
      expect(whole).toHaveLength(count);
      for (const f of whole) {
        expect(f).toMatchObject({ kind: "raw", format, width, height });
        expect(f.data.length).toBe(rawFrameSize(format, width, height));
      }
      for (const chunk of [1000, 4096, 65536, 7]) {
        const chunked = readAll(bytes, chunk).frames;
        expect(chunked.map((f) => Buffer.from(f.data).toString("base64"))).toEqual(whole.map((f) => Buffer.from(f.data).toString("base64")));
      }
    });
  }

  test("frames reuse a small ring of buffers: no allocation per frame", () => {
    const bytes = y4mTestPattern(64, 48, 7, "yuv420p");
    const reader = new Y4mReader(3);
    const frames = reader.push(bytes);
    expect(frames).toHaveLength(7);
    expect(new Set(frames.map((f) => f.data)).size).toBe(3);
  });

  test("a corrupt stream is an error, not a hang", () => {
    const reader = new Y4mReader();
    reader.push(new TextEncoder().encode("YUV4MPEG2 W4 H4 C420jpeg\n"));
    expect(() => reader.push(new TextEncoder().encode("GARBAGE\n"))).toThrow(/expected FRAME/);
  });
});
