/** The Markdown report of mjpeg-fanout: figures, targets with PASS/FAIL, comparison. */
import type { EncodeResult } from "./encode-bench.ts";
import { fixed } from "./stats.ts";
import { plural, verdict } from "./table.ts";

export { plural };

export interface RoundFigures {
  viewers: number;
  fpsMin: number;
  fpsMedian: number;
  firstFrameMedianMs: number | null;
  firstFrameMaxMs: number | null;
  /** Viewers that never got a frame or whose stream broke. */
  failed: number;
  badParts: number;
  serverCpuPct: number;
  serverRssMb: number | null;
  ffmpegRssMb: number | null;
  deliveredMBps: number;
  clientCpuPct: number;
  machineBusyPct: number;
}

export const TARGETS = { fps: 29, cpuPerViewer: 0.2, rssMb: 150, firstFrameMs: 50, encodeOverheadPct: 10 };

export const COMPARISON = [
  "Compared with vidgear's WebGear (one producer per viewer), measured earlier on this machine with the same 720p30 source:",
  "- 1 viewer: 29.9 fps",
  "- 10 viewers: 2.9 fps each",
  "- 50 viewers: 0.5 fps each, first frame after 2.6 s",
  "- the server holds 230–370 MB",
];

export { fixed, median } from "./stats.ts";
const f = fixed;

/** CPU growth per added viewer against the smallest round (normally 1 viewer). */
function cpuPerViewer(rounds: RoundFigures[], r: RoundFigures): number | null {
  const base = rounds[0];
  if (!base || r.viewers <= base.viewers) return null;
  return (r.serverCpuPct - base.serverCpuPct) / (r.viewers - base.viewers);
}

function rowFailures(rounds: RoundFigures[], r: RoundFigures): string[] {
  const out: string[] = [];
  if (!(r.fpsMin >= TARGETS.fps) || r.failed > 0) out.push("fps");
  const growth = cpuPerViewer(rounds, r);
  if (growth !== null && growth > TARGETS.cpuPerViewer) out.push("CPU/viewer");
  if (r.serverRssMb === null || r.serverRssMb > TARGETS.rssMb) out.push("RSS");
  if (r.firstFrameMaxMs === null || r.firstFrameMaxMs > TARGETS.firstFrameMs) out.push("first frame");
  return out;
}

export function fanoutTable(rounds: RoundFigures[]): string {
  const lines = [
    "| Viewers | fps min | fps median | First frame median / max (ms) | Server CPU % | CPU % per added viewer | Server RSS (MB) | ffmpeg RSS (MB) | Delivered (MB/s) | Load generator CPU % | Machine busy % | Targets |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---|",
  ];
  for (const r of rounds) {
    const fails = rowFailures(rounds, r);
    const broken = r.failed > 0 ? ` (${r.failed} failed)` : "";
    lines.push(
      `| ${r.viewers} | ${f(r.fpsMin)}${broken} | ${f(r.fpsMedian)} | ${f(r.firstFrameMedianMs)} / ${f(r.firstFrameMaxMs)} | ` +
        `${f(r.serverCpuPct)} | ${f(cpuPerViewer(rounds, r), 3)} | ${f(r.serverRssMb)} | ${f(r.ffmpegRssMb)} | ` +
        `${f(r.deliveredMBps, 0)} | ${f(r.clientCpuPct)} | ${f(r.machineBusyPct)} | ` +
        `${fails.length ? `**FAIL** (${fails.join(", ")})` : "PASS"} |`,
    );
  }
  return lines.join("\n");
}

function worst<T>(items: T[], score: (t: T) => number): T | undefined {
  let best: T | undefined;
  for (const t of items) if (best === undefined || score(t) > score(best)) best = t;
  return best;
}

export function targetsTable(rounds: RoundFigures[], encode: EncodeResult | null): string {
  const lines = ["| Target | Goal | Measured | Result |", "|:---|:---|:---|:---|"];
  const upTo200 = rounds.filter((r) => r.viewers <= 200);
  const slowest = worst(upTo200, (r) => (r.failed > 0 ? Infinity : -r.fpsMin));
  if (slowest) {
    const ok = upTo200.every((r) => r.failed === 0 && r.fpsMin >= TARGETS.fps);
    lines.push(`| Every viewer's fps, up to 200 viewers | ≥ ${TARGETS.fps} | lowest ${f(slowest.fpsMin)} (at ${plural(slowest.viewers)}) | ${verdict(ok)} |`);
  }
  const growths = rounds.map((r) => ({ r, g: cpuPerViewer(rounds, r) })).filter((x) => x.g !== null);
  const steepest = worst(growths, (x) => x.g!);
  if (steepest) {
    lines.push(
      `| Server CPU growth per added viewer, (CPU_n − CPU_${rounds[0]!.viewers}) / (n − ${rounds[0]!.viewers}) | ≤ ${TARGETS.cpuPerViewer} % of one core | ` +
        `highest ${f(steepest.g, 3)} % (at ${plural(steepest.r.viewers)}) | ${verdict(steepest.g! <= TARGETS.cpuPerViewer)} |`,
    );
  }
  const largest = rounds.at(-1);
  if (largest) {
    const ok = largest.serverRssMb !== null && largest.serverRssMb <= TARGETS.rssMb;
    lines.push(
      `| Server RSS at ${plural(largest.viewers)} | ≤ ${TARGETS.rssMb} MB | ${f(largest.serverRssMb)} MB (ffmpeg child: ${largest.ffmpegRssMb === null ? "none found" : `${f(largest.ffmpegRssMb)} MB`}) | ${verdict(ok)} |`,
    );
  }
  const latest = worst(rounds, (r) => r.firstFrameMaxMs ?? Infinity);
  if (latest) {
    const ok = rounds.every((r) => r.firstFrameMaxMs !== null && r.firstFrameMaxMs <= TARGETS.firstFrameMs);
    lines.push(
      `| Time to first frame, every viewer | ≤ ${TARGETS.firstFrameMs} ms | longest ${latest.firstFrameMaxMs === null ? "never (a viewer got no frame)" : `${f(latest.firstFrameMaxMs)} ms`} (at ${plural(latest.viewers)}) | ${verdict(ok)} |`,
    );
  }
  if (encode) {
    const ok = encode.overheadPct <= TARGETS.encodeOverheadPct;
    lines.push(
      `| Encode time per 720p frame vs the library's own loop | within ${TARGETS.encodeOverheadPct} % | ` +
        `${f(encode.encoderMs, 3)} vs ${f(encode.libraryMs, 3)} ms (${encode.overheadPct >= 0 ? "+" : ""}${f(encode.overheadPct)} %) | ${verdict(ok)} |`,
    );
  }
  return lines.join("\n");
}

export function encodeTable(e: EncodeResult): string {
  return [
    "| 1280x720 I420 → JPEG (q 90, 4:2:0, fast DCT) | ms per frame |",
    "|:---|---:|",
    `| glasscast \`TurboJpegEncoder.encode\` | ${f(e.encoderMs, 3)} |`,
    `| plain loop of \`TurboJpeg.compressYuv\` (tjCompressFromYUV) | ${f(e.libraryMs, 3)} |`,
    `| overhead | ${e.overheadPct >= 0 ? "+" : ""}${f(e.overheadPct, 1)} % |`,
    "",
    `JPEG size ${(e.jpegBytes / 1000).toFixed(0)} kB; median of ${e.rounds} interleaved rounds of ${e.iterations} frames each, after a warm-up.`,
  ].join("\n");
}
