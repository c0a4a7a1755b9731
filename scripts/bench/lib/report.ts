/** The Markdown report of mjpeg-fanout: figures, targets with PASS/FAIL, comparison. */
import type { EncodeResult } from "./encode-bench.ts";
import { fixed } from "./stats.ts";
import { plural, type Target, table, targetsTable as targets } from "./table.ts";

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
  const fails = (r: RoundFigures) => rowFailures(rounds, r);
  return table<RoundFigures>(
    [
      { title: "Viewers", align: "r", value: (r) => String(r.viewers) },
      { title: "fps min", align: "r", value: (r) => `${f(r.fpsMin)}${r.failed > 0 ? ` (${r.failed} failed)` : ""}` },
      { title: "fps median", align: "r", value: (r) => r.fpsMedian },
      { title: "First frame median / max (ms)", align: "r", value: (r) => `${f(r.firstFrameMedianMs)} / ${f(r.firstFrameMaxMs)}` },
      { title: "Server CPU %", align: "r", value: (r) => r.serverCpuPct },
      { title: "CPU % per added viewer", align: "r", value: (r) => cpuPerViewer(rounds, r), digits: 3 },
      { title: "Server RSS (MB)", align: "r", value: (r) => r.serverRssMb },
      { title: "ffmpeg RSS (MB)", align: "r", value: (r) => r.ffmpegRssMb },
      { title: "Delivered (MB/s)", align: "r", value: (r) => r.deliveredMBps, digits: 0 },
      { title: "Load generator CPU %", align: "r", value: (r) => r.clientCpuPct },
      { title: "Machine busy %", align: "r", value: (r) => r.machineBusyPct },
      { title: "Targets", align: "l", value: (r) => (fails(r).length ? `**FAIL** (${fails(r).join(", ")})` : "PASS") },
    ],
    rounds,
  );
}

function worst<T>(items: T[], score: (t: T) => number): T | undefined {
  let best: T | undefined;
  for (const t of items) if (best === undefined || score(t) > score(best)) best = t;
  return best;
}

export function targetsTable(rounds: RoundFigures[], encode: EncodeResult | null): string {
  const out: Target[] = [];
  const upTo200 = rounds.filter((r) => r.viewers <= 200);
  const slowest = worst(upTo200, (r) => (r.failed > 0 ? Infinity : -r.fpsMin));
  if (slowest) {
    const ok = upTo200.every((r) => r.failed === 0 && r.fpsMin >= TARGETS.fps);
    out.push({
      target: "Every viewer's fps, up to 200 viewers",
      goal: `≥ ${TARGETS.fps}`,
      measured: `lowest ${f(slowest.fpsMin)} (at ${plural(slowest.viewers)})`,
      ok,
    });
  }
  const growths = rounds.map((r) => ({ r, g: cpuPerViewer(rounds, r) })).filter((x) => x.g !== null);
  const steepest = worst(growths, (x) => x.g!);
  if (steepest) {
    const base = rounds[0]!.viewers;
    out.push({
      target: `Server CPU growth per added viewer, (CPU_n − CPU_${base}) / (n − ${base})`,
      goal: `≤ ${TARGETS.cpuPerViewer} % of one core`,
      measured: `highest ${f(steepest.g, 3)} % (at ${plural(steepest.r.viewers)})`,
      ok: steepest.g! <= TARGETS.cpuPerViewer,
    });
  }
  const largest = rounds.at(-1);
  if (largest) {
    const ffmpeg = largest.ffmpegRssMb === null ? "none found" : `${f(largest.ffmpegRssMb)} MB`;
    out.push({
      target: `Server RSS at ${plural(largest.viewers)}`,
      goal: `≤ ${TARGETS.rssMb} MB`,
      measured: `${f(largest.serverRssMb)} MB (ffmpeg child: ${ffmpeg})`,
      ok: largest.serverRssMb !== null && largest.serverRssMb <= TARGETS.rssMb,
    });
  }
  const latest = worst(rounds, (r) => r.firstFrameMaxMs ?? Infinity);
  if (latest) {
    const longest = latest.firstFrameMaxMs === null ? "never (a viewer got no frame)" : `${f(latest.firstFrameMaxMs)} ms`;
    out.push({
      target: "Time to first frame, every viewer",
      goal: `≤ ${TARGETS.firstFrameMs} ms`,
      measured: `longest ${longest} (at ${plural(latest.viewers)})`,
      ok: rounds.every((r) => r.firstFrameMaxMs !== null && r.firstFrameMaxMs <= TARGETS.firstFrameMs),
    });
  }
  if (encode) {
    out.push({
      target: "Encode time per 720p frame vs the library's own loop",
      goal: `within ${TARGETS.encodeOverheadPct} %`,
      measured: `${f(encode.encoderMs, 3)} vs ${f(encode.libraryMs, 3)} ms (${encode.overheadPct >= 0 ? "+" : ""}${f(encode.overheadPct)} %)`,
      ok: encode.overheadPct <= TARGETS.encodeOverheadPct,
    });
  }
  return targets(out);
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
