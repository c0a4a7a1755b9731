/**
 * The H.264 encoder's output framing (src/media/flv/flv-avc.ts): ffmpeg's
 * FLV of libx264, run with glasscast's own encoder arguments, gives the same
 * access units as the same encoder's raw Annex B stream read by AnnexBParser,
 * whatever the chunking; and the encoder hands each picture on before the
 * next one is written (the Annex B stream could not: its picture's end is
 * the next one's start). A stream that is not FLV, or a tag over the limit,
 * is an error.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { H264Encoder, h264Args, outputOf, type H264Settings } from "../src/encoders/h264-ffmpeg.ts";
import { FlvAvcReader, type FlvAccessUnit } from "../src/media/flv/flv-avc.ts";
import { AnnexBParser, nalType, type AccessUnit } from "../src/media/h264/annexb.ts";
import type { RawFrame } from "../src/stream/frame.ts";
import { ffmpeg } from "./helpers/ffmpeg.ts";

setDefaultTimeout(60_000);

const W = 320;
const H = 240;
const X264: H264Settings = { encoder: "libx264", bitrateKbps: 1000, keyint: 10 };
const INPUT = { kind: "raw", format: "i420", width: W, height: H } as const;
const pictures = ffmpeg([
  "-f",
  "lavfi",
  "-i",
  `testsrc2=size=${W}x${H}:rate=30`,
  "-frames:v",
  "25",
  "-vf",
  "scale=out_range=full,format=yuv420p",
  "-f",
  "rawvideo",
  "pipe:1",
]);

/** The encoder's command line on the pictures, on one thread: two runs then make the same bytes (threads make rate control vary). */
function encode(output: "flv" | "annexb"): Uint8Array {
  const [bin, ...args] = h264Args("ffmpeg", INPUT, X264, 30, output);
  const r = Bun.spawnSync([bin!, ...args.slice(0, -1), "-threads", "1", args.at(-1)!], { stdin: pictures, timeout: 60_000 });
  expect(r.exitCode).toBe(0);
  return new Uint8Array(r.stdout);
}

const types = (aus: AccessUnit[]) => aus.map((au) => au.nals.map(nalType));

describe("FLV access units", () => {
  test("libx264 runs with FLV output; other encoders keep Annex B", () => {
    expect(outputOf(X264)).toBe("flv");
    expect(outputOf({ ...X264, encoder: "h264_v4l2m2m" })).toBe("annexb");
    const args = h264Args("ffmpeg", INPUT, X264, 30, "flv");
    expect(args.slice(-7)).toEqual(["-f", "flv", "-flvflags", "no_duration_filesize", "-flush_packets", "1", "pipe:1"]);
  });

  test("the same access units as the Annex B stream, in one piece or a byte at a time", () => {
    const parser = new AnnexBParser();
    const annexB = [...parser.push(encode("annexb")), ...parser.flush()];
    const flv = encode("flv");
    const whole = new FlvAvcReader().push(flv);
    const reader = new FlvAvcReader();
    const bytewise: FlvAccessUnit[] = [];
    for (let i = 0; i < flv.length; i += 997) bytewise.push(...reader.push(flv.subarray(i, i + 997)));
    expect(whole.length).toBe(annexB.length);
    expect(types(whole)).toEqual(types(annexB));
    expect(types(bytewise)).toEqual(types(annexB));
    expect(whole.map((au) => au.keyframe)).toEqual(annexB.map((au) => au.keyframe));
    // Slices are byte for byte the same (the first picture's leading SEI, ffmpeg's addition, is dropped).
    whole.forEach((au, i) =>
      au.nals.forEach((nal, j) => {
        if (nalType(nal) <= 5) expect(nal).toEqual(annexB[i]!.nals[j]!);
      }),
    );
    expect(whole[0]!.nals.map(nalType).slice(0, 3)).toEqual([9, 7, 8]); // the delimiter first, then SPS and PPS
    // Each tag's time names its input picture (picture n at n/30 s): consecutive pictures, one access unit each.
    const index = whole.map((au) => Math.round((au.ms * 30) / 1000));
    expect(index).toEqual(index.map((_, i) => index[0]! + i));
    expect(bytewise.map((au) => au.ms)).toEqual(whole.map((au) => au.ms));
  });

  test("each picture is handed on before the next one is written", async () => {
    const size = (W * H * 3) / 2;
    const frame = (i: number): RawFrame => ({ kind: "raw", format: "i420", width: W, height: H, data: pictures.slice(i * size, (i + 1) * size) });
    let units = 0;
    const encoder = new H264Encoder(
      "ffmpeg",
      INPUT,
      X264,
      30,
      () => {
        units++;
      },
      "test-h264",
    );
    try {
      // The encoder's input skips the first picture while it probes (-fflags nobuffer): one picture is written first.
      encoder.write(frame(0));
      await Bun.sleep(200);
      for (let i = 1; i <= 5; i++) {
        const before = units;
        encoder.write(frame(i));
        const deadline = performance.now() + 10_000;
        while (units === before && performance.now() < deadline) await Bun.sleep(5);
        expect(units).toBeGreaterThan(before);
      }
    } finally {
      await encoder.stop();
    }
  });

  test("a stream that is not FLV, or a tag over the limit, is an error", () => {
    expect(() => new FlvAvcReader().push(new Uint8Array([0, 0, 0, 1, 9, 0xf0, 0, 0, 0, 0, 0, 0, 0]))).toThrow("not FLV");
    const flv = encode("flv");
    expect(() => new FlvAvcReader(1000).push(flv)).toThrow(/over the 1000-byte limit/);
  });
});
