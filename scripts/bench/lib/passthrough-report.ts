/** The Markdown report of passthrough.ts: both paths side by side, and the CPU target. */
import { fixed as f } from "./report.ts";

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

export function cpuRatio(passthrough: PathFigures, reencode: PathFigures): number {
  return reencode.totalCpuPct > 0 ? passthrough.totalCpuPct / reencode.totalCpuPct : Infinity;
}

export function targetMet(passthrough: PathFigures, reencode: PathFigures): boolean {
  return cpuRatio(passthrough, reencode) <= TARGET_RATIO;
}

export function pathsTable(paths: PathFigures[]): string {
  const lines = [
    "| Path | Options | Capture child | fps min | fps median | JPEG (kB) | Server CPU % | Capture CPU % | Total CPU % | Server RSS (MB) | Capture RSS (MB) | Load generator CPU % | Machine busy % |",
    "|:---|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const p of paths) {
    const broken = p.failed > 0 ? ` (${p.failed} failed)` : "";
    const options = p.options.length ? `\`${p.options.join(" ")}\`` : "—";
    lines.push(`| ${p.label} | ${options} | ${p.capture} | ${f(p.fpsMin)}${broken} | ${f(p.fpsMedian)} | ${f(p.jpegKb, 0)} | ` +
      `${f(p.serverCpuPct)} | ${f(p.captureCpuPct)} | **${f(p.totalCpuPct)}** | ${f(p.serverRssMb)} | ${f(p.captureRssMb)} | ` +
      `${f(p.clientCpuPct)} | ${f(p.machineBusyPct)} |`);
  }
  return lines.join("\n");
}

export function targetTable(passthrough: PathFigures, reencode: PathFigures): string {
  const ratio = cpuRatio(passthrough, reencode);
  return [
    "| Target | Goal | Measured | Result |",
    "|:---|:---|:---|:---|",
    `| Total CPU (server + capture) at ${passthrough.viewers} viewers, passthrough / decode + re-encode | ≤ ${TARGET_RATIO.toFixed(2)} | ` +
      `${f(passthrough.totalCpuPct)} % vs ${f(reencode.totalCpuPct)} % = ${f(ratio, 2)} ` +
      `(server ${f(passthrough.serverCpuPct)} vs ${f(reencode.serverCpuPct)}, capture ${f(passthrough.captureCpuPct)} vs ${f(reencode.captureCpuPct)}) | ` +
      `${targetMet(passthrough, reencode) ? "target met" : "**target missed**"} |`,
  ].join("\n");
}
