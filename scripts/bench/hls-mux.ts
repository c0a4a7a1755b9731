/**
 * What HLS muxing costs: 1280x720 libx264 H.264 at 30 fps (2.5 Mbit/s, a
 * keyframe a second, as the feed makes it) cut into fMP4 segments and LL-HLS
 * parts by src/outputs/hls/segmenter.ts. Prints ms per segment and per
 * picture, and the floor it compares with: copying the same bytes once.
 *   bun scripts/bench/hls-mux.ts
 */
import { AnnexBParser } from "../../src/media/h264/annexb.ts";
import { Segmenter } from "../../src/outputs/hls/segmenter.ts";
import { cli } from "./lib/cli.ts";
import { testsrcInput } from "./lib/fake-camera.ts";
import { table } from "./lib/table.ts";

cli("hls-mux", {}).parseOrExit();

const SECONDS = 20;
const FPS = 30;
const h264 = Bun.spawnSync([
  ...testsrcInput(1280, 720, FPS),
  "-t",
  String(SECONDS),
  "-c:v",
  "libx264",
  "-preset",
  "ultrafast",
  "-tune",
  "zerolatency",
  "-profile:v",
  "baseline",
  "-x264-params",
  "repeat-headers=1:aud=1",
  "-g",
  String(FPS),
  "-b:v",
  "2500k",
  "-f",
  "h264",
  "pipe:1",
]).stdout;
const parser = new AnnexBParser();
const aus = [...parser.push(new Uint8Array(h264)), ...parser.flush()].map((au, i) => ({ ...au, timestamp: (i * 3000) >>> 0 }));
const bytes = h264.length;

function run(): { ms: number; segments: number; parts: number } {
  const seg = new Segmenter({ partTargetS: 0.23, framesPerPart: 6, maxSegmentS: 2, keepSegments: 6, keepPartSegments: 3 });
  let segments = 0;
  let parts = 0;
  seg.onChange(() => {
    parts++;
  });
  const t0 = performance.now();
  for (const au of aus) seg.push(au);
  const ms = performance.now() - t0;
  segments = (seg.segments.at(-1)?.msn ?? 0) + 1;
  return { ms, segments, parts };
}
for (let i = 0; i < 3; i++) run(); // warm up
const runs = Array.from({ length: 5 }, run).sort((a, b) => a.ms - b.ms);
const best = runs[0]!;
const copy = () => {
  const t0 = performance.now();
  for (const au of aus) for (const n of au.nals) n.slice();
  return performance.now() - t0;
};
const copyMs = Math.min(...Array.from({ length: 5 }, copy));
const rows = [
  { what: "segmenter (fMP4 parts + segment)", ms: best.ms },
  { what: "floor: one copy of the NAL units", ms: copyMs },
];
console.log(
  table<(typeof rows)[number]>(
    [
      { title: "what", value: (r) => r.what },
      { title: "ms per segment (1 s, 30 pictures)", value: (r) => r.ms / best.segments, digits: 3 },
      { title: "ms per picture", value: (r) => r.ms / aus.length, digits: 4 },
    ],
    rows,
  ),
);
console.log(`${aus.length} pictures, ${(bytes / 1e6).toFixed(1)} MB of H.264, ${best.segments} segments`);
