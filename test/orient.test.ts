/**
 * Turning and mirroring raw pictures (for cameras that can't): every result
 * is byte for byte what ffmpeg's own transpose/hflip/vflip filters make of
 * the same test pattern, in every planar layout, odd sizes too. Flips come
 * before the rotation, as with rpicam-vid's --hflip/--vflip and --rotation.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Orienter, type Orientation } from "../src/media/orient.ts";
import type { PlanarFormat, RawFrame } from "../src/media/frame.ts";
import { Y4mReader } from "../src/media/y4m-reader.ts";
import { ffmpeg, tempDir, y4mTestPattern } from "./helpers/ffmpeg.ts";

setDefaultTimeout(60_000);

const PIX_FMT: Record<PlanarFormat, string> = { i420: "yuv420p", i422: "yuv422p", i444: "yuv444p", gray: "gray" };
const dir = tempDir("glasscast-orient-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const made = new Map<string, Uint8Array>();

/** The test pattern's first picture, and ffmpeg's filter chain applied to that same picture. */
function pictures(format: PlanarFormat, width: number, height: number, filters: string): { source: RawFrame; expected: RawFrame } {
  const path = join(dir, `${format}-${width}x${height}.y4m`);
  let y4m = made.get(path);
  if (!y4m) {
    y4m = y4mTestPattern(width, height, 1, PIX_FMT[format]);
    writeFileSync(path, y4m);
    made.set(path, y4m);
  }
  const turned = ffmpeg(["-i", path, "-vf", filters, "-f", "yuv4mpegpipe", "-strict", "-1", "pipe:1"]);
  const [source] = new Y4mReader().push(y4m);
  const [expected] = new Y4mReader().push(turned);
  return { source: source!, expected: expected! };
}

const none = { rotate: 0, hflip: false, vflip: false } as const;
/** Each orientation and the ffmpeg filters that do the same: mirror first, then rotate clockwise. */
const CASES: [Partial<Orientation>, string][] = [
  [{ rotate: 90 }, "transpose=clock"],
  [{ rotate: 270 }, "transpose=cclock"],
  [{ rotate: 180 }, "hflip,vflip"],
  [{ hflip: true }, "hflip"],
  [{ vflip: true }, "vflip"],
  [{ hflip: true, vflip: true }, "hflip,vflip"],
  [{ rotate: 90, hflip: true }, "hflip,transpose=clock"],
  [{ rotate: 270, vflip: true }, "vflip,transpose=cclock"],
  [{ rotate: 90, hflip: true, vflip: true }, "hflip,vflip,transpose=clock"],
  [{ rotate: 180, hflip: true }, "vflip"],
];

function label(o: Partial<Orientation>): string {
  return JSON.stringify(o).replace(/"/g, "");
}

describe("Orienter matches ffmpeg's filters byte for byte", () => {
  for (const format of ["i420", "i444", "gray", "i422"] as const) {
    for (const [width, height] of [
      [64, 48],
      [63, 47],
    ] as const) {
      for (const [o, filters] of CASES) {
        const turns = o.rotate === 90 || o.rotate === 270;
        if (format === "i422" && turns) continue;
        test(`${format} ${width}x${height} ${label(o)} = ${filters}`, () => {
          const { source, expected } = pictures(format, width, height, filters);
          const out = new Orienter({ ...none, ...o }).apply(source);
          expect(out).toMatchObject({ kind: "raw", format, width: expected.width, height: expected.height });
          expect(out.width).toBe(turns ? height : width);
          expect(Buffer.from(out.data).equals(Buffer.from(expected.data))).toBe(true);
        });
      }
    }
  }
});

describe("Orienter", () => {
  const [frame] = new Y4mReader().push(y4mTestPattern(64, 48, 1, "yuv420p"));

  test("reuses one output buffer from frame to frame", () => {
    const o = new Orienter({ rotate: 90, hflip: false, vflip: false });
    const a = o.apply(frame!);
    const b = o.apply(frame!);
    expect(b.data).toBe(a.data);
    expect(a.data).not.toBe(frame!.data);
  });

  test("no rotation and no flips returns the frame itself; so do placeholders with their own JPEG", () => {
    expect(new Orienter(none).apply(frame!)).toBe(frame!);
    const placeholder: RawFrame = { ...frame!, jpeg: new Uint8Array([0xff, 0xd8]) };
    expect(new Orienter({ ...none, rotate: 90 }).apply(placeholder)).toBe(placeholder);
  });

  test("four quarter turns give the picture back", () => {
    const turns = [0, 1, 2, 3].map(() => new Orienter({ ...none, rotate: 90 }));
    const back = turns.reduce((f, o) => o.apply(f), frame!);
    expect(back).toMatchObject({ width: 64, height: 48 });
    expect(Buffer.from(back.data).equals(Buffer.from(frame!.data))).toBe(true);
  });

  test("what cannot be done is a clear error", () => {
    const [i422] = new Y4mReader().push(y4mTestPattern(64, 48, 1, "yuv422p"));
    expect(() => new Orienter({ ...none, rotate: 90 }).apply(i422!)).toThrow(/i422 pictures by 90 degrees/);
    expect(() => new Orienter({ ...none, rotate: 45 as 90 })).toThrow(/0, 90, 180 or 270.*got 45/);
    const rgb: RawFrame = { kind: "raw", format: "rgb", width: 2, height: 2, data: new Uint8Array(12) };
    expect(() => new Orienter({ ...none, hflip: true }).apply(rgb)).toThrow(/cannot rotate or flip rgb/);
    const short: RawFrame = { ...frame!, data: frame!.data.subarray(0, 100) };
    expect(() => new Orienter({ ...none, vflip: true }).apply(short)).toThrow(/needs 4608 bytes, got 100/);
  });

  test("1280x720 i420 too, with the time per frame printed (informative)", () => {
    const rows: string[] = [];
    for (const [o, filters] of CASES.slice(0, 6)) {
      const { source: big, expected } = pictures("i420", 1280, 720, filters);
      const orienter = new Orienter({ ...none, ...o });
      expect(Buffer.from(orienter.apply(big).data).equals(Buffer.from(expected.data))).toBe(true);
      for (let i = 0; i < 20; i++) orienter.apply(big); // warm up the JIT
      const n = 100;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) orienter.apply(big);
      rows.push(`  ${label(o).padEnd(28)} ${((performance.now() - t0) / n).toFixed(2)} ms  (ffmpeg: ${filters})`);
    }
    console.log(`Orienter, 1280x720 i420, per frame:\n${rows.join("\n")}`);
  });
});
