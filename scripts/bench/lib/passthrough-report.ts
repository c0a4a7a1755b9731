/** The Markdown report of passthrough.ts: both paths side by side, and the CPU target. */
import { fixed as f } from "./stats.ts";
import { MET, targetsTable } from "./table.ts";

/** What one path (a glasscast server and its viewers) measured over the window. */
export interface PathFigures {
  label: string;
  /** The path's own glasscast options (beyond the shared ones). */
  options: string[];
  /** What the capture child does, read from its command line. */
  capture: string;
  viewers: number;
  fpsMin: number;
  fpsMedian: number;
  /** Viewers that never got a frame or whose stream broke. */
  failed: number;
  badParts: number;
  /** Median over viewers of bytes per part received, kB (10^3 bytes). */
  jpegKb: number | null;
  /** The server process alone, % of one core. */
  serverCpuPct: number;
  /** Its child processes (the capture ffmpeg), % of one core. */
  captureCpuPct: number;
  totalCpuPct: number;
  serverRssMb: number | null;
  captureRssMb: number | null;
  clientCpuPct: number;
  machineBusyPct: number;
}

/** The target: passthrough costs at most a fifth of the decode + re-encode path. */
export const TARGET_RATIO = 0.2;

/** The round with the median total CPU (the lower middle one for an even count); every figure of a path is from it. */
export function medianRound(rounds: PathFigures[]): PathFigures {
  if (rounds.length === 0) throw new Error("a path without rounds");
  const sorted = [...rounds].sort((a, b) => a.totalCpuPct - b.totalCpuPct);
  return sorted[(sorted.length - 1) >> 1]!;
}

function ratio(passthrough: PathFigures, reencode: PathFigures): number {
  return reencode.totalCpuPct > 0 ? passthrough.totalCpuPct / reencode.totalCpuPct : Infinity;
}

/** Total CPU of passthrough's median round / that of the re-encode path's. */
export function cpuRatio(passthrough: PathFigures[], reencode: PathFigures[]): number {
  return ratio(medianRound(passthrough), medianRound(reencode));
}

export function targetMet(passthrough: PathFigures[], reencode: PathFigures[]): boolean {
  return cpuRatio(passthrough, reencode) <= TARGET_RATIO;
}

/** One row per path (its median round), with the total CPU of every round. */
export function pathsTable(paths: PathFigures[][]): string {
  const lines = [
    "| Path | Options | Capture child | fps min | fps median | JPEG (kB) | Server CPU % | Capture CPU % | Total CPU % | Total CPU % of each round | Server RSS (MB) | Capture RSS (MB) | Load generator CPU % | Machine busy % |",
    "|:---|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const rounds of paths) {
    const p = medianRound(rounds);
    const broken = p.failed > 0 ? ` (${p.failed} failed)` : "";
    const options = p.options.length ? `\`${p.options.join(" ")}\`` : "—";
    lines.push(
      `| ${p.label} | ${options} | ${p.capture} | ${f(p.fpsMin)}${broken} | ${f(p.fpsMedian)} | ${f(p.jpegKb, 0)} | ` +
        `${f(p.serverCpuPct)} | ${f(p.captureCpuPct)} | **${f(p.totalCpuPct)}** | ${rounds.map((r) => f(r.totalCpuPct)).join(", ")} | ` +
        `${f(p.serverRssMb)} | ${f(p.captureRssMb)} | ${f(p.clientCpuPct)} | ${f(p.machineBusyPct)} |`,
    );
  }
  return lines.join("\n");
}

export function targetTable(passthrough: PathFigures[], reencode: PathFigures[]): string {
  const a = medianRound(passthrough);
  const b = medianRound(reencode);
  const perRound = passthrough.map((p, i) => (reencode[i] ? f(ratio(p, reencode[i]), 3) : "—"));
  const measured =
    `${f(a.totalCpuPct)} % vs ${f(b.totalCpuPct)} % = ${f(cpuRatio(passthrough, reencode), 3)} ` +
    `(server ${f(a.serverCpuPct)} vs ${f(b.serverCpuPct)}, capture ${f(a.captureCpuPct)} vs ${f(b.captureCpuPct)}; round by round ${perRound.join(", ")})`;
  const target = `Total CPU (server + capture) at ${a.viewers} viewers, passthrough / decode + re-encode`;
  return targetsTable([{ target, goal: `≤ ${TARGET_RATIO.toFixed(2)}`, measured, ok: targetMet(passthrough, reencode) }], MET);
}
