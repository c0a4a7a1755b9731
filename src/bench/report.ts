/**
 * The `glasscast bench` report: its JSON document (`--json`), and the same
 * figures as a Markdown table a user can paste into an issue as it is.
 */
import type { MachineInfo } from "./machine.ts";

export type ScenarioKind = "mjpeg" | "webrtc";

export interface ScenarioFigures {
  readonly kind: ScenarioKind;
  readonly viewers: number;
  /** The measuring window, which starts once every viewer has its first frame. */
  readonly seconds: number;
  /** Frames each viewer received in the window: whole JPEGs (MJPEG), whole H.264 access units (WebRTC). */
  readonly framesReceived: readonly number[];
  readonly fpsMin: number;
  readonly fpsMedian: number;
  /** From the connect (MJPEG) or the offer (WebRTC) to the first whole frame. */
  readonly firstFrameMedianMs: number | null;
  readonly firstFrameMaxMs: number | null;
  /** The server and every process under it (capture, H.264 encoder), % of one core. */
  readonly serverCpuPct: number;
  /** The server's own process alone, % of one core. */
  readonly glasscastCpuPct: number;
  readonly serverRssMb: number;
  /** Resident memory of the processes under the server, together. */
  readonly childrenRssMb: number;
  readonly children: readonly string[];
  readonly jpegEncoded: number;
  /** Mean ms per JPEG the server encoded in the window (null: none encoded, e.g. WebRTC only). */
  readonly jpegEncodeMs: number | null;
  /** This process (the viewers: HTTP readers or werift peers), % of one core: not part of the server's figure. */
  readonly benchCpuPct: number;
  readonly notes: readonly string[];
}

export interface BenchReport {
  readonly glasscast: { readonly version: string; readonly commit: string };
  readonly date: string;
  readonly machine: MachineInfo;
  readonly picture: {
    readonly width: number;
    readonly height: number;
    readonly fps: number;
    readonly source: string;
    readonly jpegBy: string;
    readonly h264Encoder: string;
  };
  readonly secondsPerScenario: number;
  readonly server: { readonly pid: number; readonly children: readonly { pid: number; comm: string }[]; readonly leftRunning: number };
  readonly scenarios: readonly ScenarioFigures[];
  readonly notes: readonly string[];
}

const fixed = (n: number | null, digits = 1) => (n === null ? "—" : n.toFixed(digits));

export function formatReport(r: BenchReport): string {
  const m = r.machine;
  const p = r.picture;
  const rows = r.scenarios.map(
    (s) =>
      `| ${s.kind === "mjpeg" ? "MJPEG" : "WebRTC"} | ${s.viewers} | ${fixed(s.fpsMin)} | ${fixed(s.fpsMedian)} | ` +
      `${fixed(s.firstFrameMedianMs, 0)} / ${fixed(s.firstFrameMaxMs, 0)} | ${fixed(s.serverCpuPct)} (${fixed(s.glasscastCpuPct)} + ${fixed(round1(s.serverCpuPct - s.glasscastCpuPct))}) | ` +
      `${fixed(s.serverRssMb)} + ${fixed(s.childrenRssMb)} | ${fixed(s.jpegEncodeMs, 2)} | ${fixed(s.benchCpuPct)} |`,
  );
  const notes = [...r.notes, ...r.scenarios.flatMap((s) => s.notes.map((n) => `${s.kind === "mjpeg" ? "MJPEG" : "WebRTC"} ${s.viewers}: ${n}`))];
  return [
    `### glasscast bench: ${m.model}`,
    "",
    `glasscast ${r.glasscast.version} (${r.glasscast.commit}) · ${r.date.slice(0, 16).replace("T", " ")} UTC`,
    `${m.model === m.cpu ? "" : `${m.model} · `}${m.cores} cores (${m.cpu}) · ${m.arch} · page size ${m.pageSize ?? "?"} · ${m.memoryMb} MB RAM · Linux ${m.kernel} · Bun ${m.bun}`,
    `${m.ffmpeg}`,
    `test pattern ${p.width}x${p.height} at ${fixed(p.fps)} fps · JPEG by ${p.jpegBy} · H.264 by ${p.h264Encoder} · ${r.secondsPerScenario} s per row`,
    "",
    "| Output | Viewers | fps min | fps median | First frame median / max (ms) | Server CPU % (glasscast + children) | Server RSS + children (MB) | JPEG encode (ms) | Viewers' CPU % |",
    "|:---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
    "fps: whole frames each viewer received (JPEGs; H.264 access units) over the window, which starts once every viewer has its first. " +
      "First frame: from the connect (MJPEG) or the offer (WebRTC). CPU: % of one core, from /proc; children are the capture and the H.264 encoder. " +
      "The viewers run in the bench's own process: their CPU is the last column, not in the server's. MB = 10^6 bytes.",
    ...(notes.length ? ["", "Notes:", ...notes.map((n) => `- ${n}`)] : []),
    "",
    "To share these figures: open an issue on glasscast's tracker titled \"bench: " + m.model + '" and paste everything above',
    'from the "### glasscast bench" line (or attach the output of `glasscast bench --json`).',
    "",
  ].join("\n");
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
