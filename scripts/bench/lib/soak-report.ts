/** The soak benchmark's Markdown: one row per sample (printed as it is taken), the kills, the targets. */
import type { Recovery } from "./recovery.ts";
import { fixed as f, median } from "./stats.ts";
import { MET, type Target, targetsTable as targets } from "./table.ts";
import type { StalledState } from "./stalled-viewer.ts";

export const TARGETS = { growthPct: 5, backS: 3, serverRestarts: 0 };

export interface SampleRow {
  elapsedS: number;
  /** The baseline (after warm-up) and the final sample are taken with every viewer connected. */
  checkpoint: "baseline" | "final" | null;
  pid: number;
  /** The server process is alive and is still the one started (same pid, same /api/streams instance). */
  sameServer: boolean;
  rssMb: number | null;
  fds: { total: number; sockets: number } | null;
  /** % of one core since the previous sample: the glasscast process, and its child processes. */
  serverCpuPct: number;
  childrenCpuPct: number;
  /** The whole machine, all cores = 100 %. */
  machineBusyPct: number;
  /** Connected as the load generators count them / as the server counts them (/api/streams; MJPEG includes the stalled viewer). */
  mjpeg: { ours: number | null; server: number | null; stuck: number };
  webrtc: { ours: number | null; server: number | null };
  /** Since the start: real camera frames received by all MJPEG viewers, access units by all WebRTC peers. */
  mjpegFrames: number | null;
  webrtcFrames: number | null;
  kills: number;
  stalled: StalledState | null;
  /** Stalled viewers the server has dropped so far (each replaced by a new one). */
  stalledDrops: number;
}

export interface KillResult {
  index: number;
  elapsedS: number;
  capturePid: number;
  /** Seconds from the kill until a new capture process was seen (polled every 0.1 s), or null. */
  captureBackS: number | null;
  mjpeg: Recovery[] | null;
  webrtc: Recovery[] | null;
}

export function clock(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

export function sampleHeader(): string {
  return [
    "| Elapsed | Server pid | Same server, alive | RSS (MB) | Open fds (sockets) | CPU % glasscast | CPU % children | Machine busy % | MJPEG viewers (server count) | WebRTC peers (server count) | MJPEG frames | WebRTC access units | Kills | Stalled viewer |",
    "|---:|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---|",
  ].join("\n");
}

function stalledText(s: StalledState | null, drops: number): string {
  const dropped = drops ? `; ${drops} dropped so far` : "";
  if (!s) return `gone${dropped}`;
  const server = s.serverState === null ? "server's end gone" : `server's end ${s.serverState}, ${mb(s.serverQueued ?? 0)} MB queued`;
  return `${mb(s.unread)} MB unread; ${server}${dropped}`;
}

const orDash = (v: number | null) => (v === null ? "—" : String(v));

export function sampleRow(r: SampleRow): string {
  const mark = r.checkpoint ? ` (${r.checkpoint})` : "";
  return (
    `| ${clock(r.elapsedS)}${mark} | ${r.pid} | ${r.sameServer ? "yes" : "**no**"} | ${f(r.rssMb)} | ` +
    `${r.fds ? `${r.fds.total} (${r.fds.sockets})` : "—"} | ${f(r.serverCpuPct)} | ${f(r.childrenCpuPct)} | ${f(r.machineBusyPct)} | ` +
    `${orDash(r.mjpeg.ours)} (${orDash(r.mjpeg.server)})${r.mjpeg.stuck ? `, **${r.mjpeg.stuck} stuck**` : ""} | ${orDash(r.webrtc.ours)} (${orDash(r.webrtc.server)}) | ` +
    `${orDash(r.mjpegFrames)} | ${orDash(r.webrtcFrames)} | ${r.kills} | ${stalledText(r.stalled, r.stalledDrops)} |`
  );
}

export interface RecoverySummary {
  /** Viewers that were watching at the kill and stayed until their picture came back, or until the end of the watch. */
  watched: number;
  /** Their times back, seconds. */
  back: number[];
  /** Still without a picture at the end of the watch. */
  notBack: number;
  /** Left (churn) before their picture came back: not counted. */
  left: number;
  /** Never lost their picture (no pause after the kill). */
  noOutage: number;
}

export function summarize(recoveries: Recovery[]): RecoverySummary {
  const back = recoveries.flatMap((r) => (r.kind === "back" ? [r.ms / 1000] : []));
  const notBack = recoveries.filter((r) => r.kind === "waiting").length;
  const noOutage = recoveries.filter((r) => r.kind === "no-outage").length;
  return { watched: back.length + notBack + noOutage, back, notBack, left: recoveries.filter((r) => r.kind === "left").length, noOutage };
}

/** The worst time back of a summary: ∞ when a viewer was not back at all, null when nobody was watched. */
export function worstBack(s: RecoverySummary): number | null {
  if (s.notBack > 0) return Infinity;
  return s.back.length ? Math.max(...s.back) : null;
}

function recoveryCell(list: Recovery[] | null): string {
  if (list === null) return "no answer";
  const s = summarize(list);
  if (s.watched === 0) return `— (nobody watching${s.left ? `; ${s.left} left` : ""})`;
  const parts = [s.back.length ? `${f(median(s.back), 2)} / ${f(Math.max(...s.back), 2)}` : "—", `${s.watched} watched`];
  if (s.notBack) parts.push(`**${s.notBack} not back**`);
  if (s.noOutage) parts.push(`${s.noOutage} without a pause`);
  if (s.left) parts.push(`${s.left} left first`);
  return parts.join(", ");
}

export function killsTable(kills: KillResult[], withMjpeg: boolean, withWebrtc: boolean, windowS: number): string {
  const lines = [
    `| Kill | At | Capture pid killed | New capture after (s) |${withMjpeg ? " MJPEG back median / max (s) |" : ""}${withWebrtc ? " WebRTC back median / max (s) |" : ""}`,
    `|---:|---:|---:|---:|${withMjpeg ? ":---|" : ""}${withWebrtc ? ":---|" : ""}`,
  ];
  for (const k of kills) {
    lines.push(
      `| ${k.index} | ${clock(k.elapsedS)} | ${k.capturePid} | ${f(k.captureBackS)} |` +
        `${withMjpeg ? ` ${recoveryCell(k.mjpeg)} |` : ""}${withWebrtc ? ` ${recoveryCell(k.webrtc)} |` : ""}`,
    );
  }
  lines.push(
    "",
    `"Back": from the SIGKILL to a viewer's first real camera frame after the pause (MJPEG), or to the first of 5 access units ` +
      `in a row at ≥ 7 fps (WebRTC: the NO SIGNAL picture comes once a second); viewers that were watching at the kill, watched for ${windowS} s.`,
  );
  return lines.join("\n");
}

export interface TargetInputs {
  baseline: SampleRow | null;
  final: SampleRow | null;
  kills: KillResult[];
  withMjpeg: boolean;
  withWebrtc: boolean;
  serverRestarts: number;
  /** Why the server counts as restarted, if it does. */
  restartText: string;
}

function growth(
  label: string,
  a: number | null | undefined,
  b: number | null | undefined,
  unit: string,
  base: SampleRow | null,
  last: SampleRow | null,
): Target {
  const goal = `≤ ${TARGETS.growthPct} %`;
  if (a === null || a === undefined || b === null || b === undefined || !base || !last)
    return { target: `${label} growth`, goal, measured: "not measured", ok: false };
  const pct = (100 * (b - a)) / a;
  return {
    target: `${label} growth, ${clock(base.elapsedS)} → ${clock(last.elapsedS)}`,
    goal,
    measured: `${unit === "MB" ? f(a) : a} → ${unit === "MB" ? f(b) : b} ${unit}: ${pct >= 0 ? "+" : ""}${f(pct)} %`,
    ok: pct <= TARGETS.growthPct,
  };
}

function recoveryLine(label: string, lists: (Recovery[] | null)[]): Target {
  const answered = lists.filter((l): l is Recovery[] => l !== null);
  const all = summarize(answered.flat());
  const worst = worstBack(all);
  const lost = lists.length - answered.length;
  const measured =
    worst === null
      ? "nobody was watching at a kill"
      : worst === Infinity
        ? `${all.notBack} time(s) a viewer was not back within the watch`
        : `longest ${f(worst, 2)} s, median ${f(median(all.back), 2)} s over ${all.back.length} returns, ${lists.length} kills`;
  const ok = worst !== null && worst <= TARGETS.backS && lost === 0;
  return {
    target: `${label} back after each kill (every viewer)`,
    goal: `≤ ${TARGETS.backS} s`,
    measured: `${measured}${lost ? `; ${lost} kill(s) without an answer` : ""}`,
    ok,
  };
}

export function targetsTable(t: TargetInputs): string {
  const lines = [
    growth("Server RSS", t.baseline?.rssMb, t.final?.rssMb, "MB", t.baseline, t.final),
    growth("Server open fds", t.baseline?.fds?.total, t.final?.fds?.total, "fds", t.baseline, t.final),
  ];
  if (t.withMjpeg)
    lines.push(
      recoveryLine(
        "MJPEG picture",
        t.kills.map((k) => k.mjpeg),
      ),
    );
  if (t.withWebrtc)
    lines.push(
      recoveryLine(
        "WebRTC picture",
        t.kills.map((k) => k.webrtc),
      ),
    );
  const restarts = `${t.serverRestarts}${t.restartText ? ` (${t.restartText})` : ""}`;
  lines.push({ target: "Server restarts", goal: String(TARGETS.serverRestarts), measured: restarts, ok: t.serverRestarts <= TARGETS.serverRestarts });
  return targets(lines, MET);
}
