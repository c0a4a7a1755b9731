/** Figures of one webrtc-peers round, and the Markdown that reports them. */
import type { PageFigures } from "./webrtc-page.ts";
import type { FloorFigures } from "./webrtc-floor.ts";
import type { JanusRound } from "./webrtc-janus.ts";
import type { ReceiverKind } from "./webrtc-pool.ts";
import { median } from "./report.ts";

export interface CpuByRole {
  total: number;
  server: number;
  capture: number;
  encoder: number;
  other: number;
}

/** The floors measured right after a round (webrtc-floor.ts), the server idle between rounds. */
export interface RoundFloors {
  /** One ffmpeg doing glasscast's capture + encode to -f null; null when the commands were not seen. */
  ffmpeg: FloorFigures | null;
  /** The round's RTP packets/s as bare UDP datagrams through Bun's UDP socket. */
  send: (FloorFigures & { usPerPacket: number; packetsPerSecond: number; bytes: number }) | null;
  /** The command the ffmpeg floor ran (for the report). */
  command: string[] | null;
}

export interface WebRtcRound {
  /** Receiver peers (the Chromium page, if any, comes on top). */
  peers: number;
  receiver: ReceiverKind;
  fpsMin: number;
  fpsMedian: number;
  /** werift peers that never had a frame, failed, or gave no result. */
  failed: number;
  /** Offer → first complete access unit, every werift peer that had one. */
  firstFrameMedianMs: number | null;
  /** null when a peer never had a frame. */
  firstFrameMaxMs: number | null;
  /** The round's first peer, alone: its offer starts the encoder. */
  coldMs: number | null;
  /** The other peers, which join a running encoder (all offers at once). */
  joinMedianMs: number | null;
  joinMaxMs: number | null;
  /** Peers whose first access unit was not a keyframe with SPS and PPS. */
  notClean: number;
  /** RTP sequence gaps inside the window, all peers together. */
  windowGaps: number;
  /** RTP packets per second received by all werift peers together in the window. */
  packetsPerSecond: number;
  cpu: CpuByRole;
  rssMb: { server: number | null; capture: number | null; encoder: number | null };
  /** H.264 encoder processes seen while the round's peers were connected (sampled every 0.5 s). */
  encoders: { min: number; max: number };
  page: PageFigures | null;
  receiversCpuPct: number;
  chromiumCpuPct: number | null;
  machineBusyPct: number;
  /** CPU the machine spent outside our processes in the window, % of one core (other users of the machine). */
  otherCpuPct: number;
  /**
   * From the joins' offers to the last werift peer's first frame: the server process's
   * CPU (% of one core; 100 = its event loop never idle) and per joining peer (ms), the receivers' CPU.
   */
  join: {
    peers: number;
    seconds: number;
    serverPct: number;
    serverCpuMsPerPeer: number;
    receiversPct: number;
    machineBusyPct: number;
    otherCpuPct: number;
  } | null;
  /** Where the time to the first frame went: the cold peer, and the joining ones. */
  phases: { cold: Phases | null; joins: Phases | null; late: Phases | null };
  /** One more peer joining alone after the window (onto the round's peers): offer → first frame. */
  lateJoinMs: number | null;
  floors: RoundFloors | null;
  /** --janus: the same number of aiortc peers watching Janus, right after the floors. */
  janus: JanusRound | null;
  /** The argv of the server's capture and H.264 encoder, read from /proc in the window. */
  commands: { capture: string[] | null; encoder: string[] | null };
  /** Seconds from the last peer's close to the encoder's exit; null if it did not stop in time. */
  encoderStopS: number | null;
  /** The server process's RSS after the round, its peers gone and the encoder stopped (MB). */
  idleRssMb: number | null;
}

/** Medians of the steps from connectViewer to the first frame, ms. */
export interface Phases {
  peers: number;
  offer: number | null;
  answer: number | null;
  connect: number | null;
  media: number | null;
}

/** Issue 17: 1 peer ≤ 1.3 × the ffmpeg-alone floor; the most peers ≤ 1.3 × 1 peer; every peer ≥ 29 fps. */
export const TARGETS = { fps: 29, cpuRatio: 1.3, floorRatio: 1.3, firstFrameMedianMs: 500, lingerS: 5 };

/** Server CPU (bun + capture + encoder) over the ffmpeg-alone floor measured after the round. */
export const floorRatio = (r: WebRtcRound): number | null =>
  r.floors?.ffmpeg && !r.floors.ffmpeg.error && r.floors.ffmpeg.cpuPct > 0 ? r.cpu.total / r.floors.ffmpeg.cpuPct : null;

export const comparison = (rounds: WebRtcRound[]): string[] => {
  const at = (n: number) => rounds.find((r) => r.peers === n);
  const here: string[] = [];
  for (const r of rounds) {
    here.push(
      `${plural(r.peers)}${r.page ? " + the page" : ""}: ${f(r.cpu.total)} % of a core, ${f(r.fpsMin)} fps or more each, ` +
        `server ${f((r.rssMb.server ?? 0) + (r.rssMb.capture ?? 0) + (r.rssMb.encoder ?? 0), 0)} MB with its ffmpeg children`,
    );
  }
  const five = at(5);
  const burst = rounds.filter((r) => r.peers > 1).at(-1);
  return [
    "### Compared with vidgear's WebGear_RTC",
    "",
    "Measured earlier on this machine (live broadcast, same 720p30 source): WebGear_RTC runs a VP8 encoder per peer, " +
      "about 24 % of a core each, so 5 peers take 122 % and 8 peers drop to 18.6 fps with 1.2 GB RSS; " +
      "its first frame arrives after 127 ms because each new encoder starts on a keyframe.",
    "",
    "glasscast here (one shared H.264 encoder; a new peer starts on the cached group of pictures):",
    ...here.map((h) => `- ${h}`),
    ...(five ? [`- at 5 peers: ${f(five.cpu.total)} % against WebGear_RTC's 122 %`] : []),
    `- first frame of a peer arriving alone: ${range(rounds.map((r) => r.coldMs))} ms when it starts the encoder (cold), ` +
      `${range(rounds.map((r) => r.lateJoinMs))} ms onto a running stream (late join), against WebGear_RTC's 127 ms`,
    ...(burst ? [`- ${burst.peers - 1} peers sending their offers at once: median ${f(burst.joinMedianMs, 0)} ms, last ${f(burst.joinMaxMs, 0)} ms`] : []),
  ];
};

const f = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(digits));
export const plural = (n: number): string => `${n} peer${n === 1 ? "" : "s"}`;
const verdict = (ok: boolean): string => (ok ? "PASS" : "**FAIL**");

function range(values: (number | null)[]): string {
  const known = values.filter((v): v is number => v !== null);
  if (!known.length) return "—";
  const lo = Math.min(...known);
  const hi = Math.max(...known);
  return lo.toFixed(0) === hi.toFixed(0) ? lo.toFixed(0) : `${lo.toFixed(0)}–${hi.toFixed(0)}`;
}

export const medianOrNull = (values: number[]): number | null => (values.length ? median(values) : null);

function roundFailures(rounds: WebRtcRound[], r: WebRtcRound): string[] {
  const out: string[] = [];
  if (r.failed > 0 || !(r.fpsMin >= TARGETS.fps)) out.push("fps");
  if (r.page && !(r.page.fps !== null && r.page.fps >= TARGETS.fps)) out.push("page fps");
  const base = rounds[0];
  if (base && r !== base && r === rounds.at(-1) && !(r.cpu.total <= TARGETS.cpuRatio * base.cpu.total)) out.push("CPU");
  const overFloor = floorRatio(r);
  if (r === base && overFloor !== null && overFloor > TARGETS.floorRatio) out.push("CPU vs floor");
  if (r.firstFrameMedianMs === null || r.firstFrameMedianMs > TARGETS.firstFrameMedianMs) out.push("first frame");
  if (r.encoders.max !== 1 || r.encoders.min !== 1) out.push("encoders");
  return out;
}

export function mainTable(rounds: WebRtcRound[]): string {
  const lines = [
    "| Peers | fps min | fps median | First frame median / max (ms) | Server CPU % | Server RSS (MB) | ffmpeg RSS (MB) | H.264 encoders | Chromium page fps | Targets |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---|",
  ];
  for (const r of rounds) {
    const fails = roundFailures(rounds, r);
    const broken = r.failed ? ` (${r.failed} failed)` : "";
    const ffmpeg = r.rssMb.capture === null && r.rssMb.encoder === null ? null : (r.rssMb.capture ?? 0) + (r.rssMb.encoder ?? 0);
    const encoders = r.encoders.min === r.encoders.max ? String(r.encoders.max) : `${r.encoders.min}–${r.encoders.max}`;
    const page = !r.page
      ? "—"
      : r.page.error
        ? "no picture"
        : `${f(r.page.fps)} (worst second ${f(r.page.worstSecondFps, 0)}${r.page.droppedInWindow ? `, ${r.page.droppedInWindow} dropped` : ""})`;
    lines.push(
      `| ${r.peers}${r.page ? " + page" : ""} | ${f(r.fpsMin)}${broken} | ${f(r.fpsMedian)} | ${f(r.firstFrameMedianMs, 0)} / ${f(r.firstFrameMaxMs, 0)} | ` +
        `${f(r.cpu.total)} | ${f(r.rssMb.server)} | ${f(ffmpeg)} | ${encoders} | ${page} | ${fails.length ? `**FAIL** (${fails.join(", ")})` : "PASS"} |`,
    );
  }
  return lines.join("\n");
}

export function detailTable(rounds: WebRtcRound[]): string {
  const lines = [
    "| Peers | First frame: cold start / joins median / joins max / late join (ms) | Page: open → picture (ms), onto the cold peer | CPU %: bun / capture / encoder | RSS MB: bun / capture / encoder | RTP packets/s (all peers) | bun CPU µs per added packet | Receivers CPU % | Chromium CPU % | Machine busy % | Others' CPU % | RTP gaps in window | Encoder stopped after (s) | bun RSS after (MB) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rounds) {
    const page = r.page ? (r.page.pictureMs === null ? "none" : f(r.page.pictureMs, 0)) : "—";
    // The server process's extra CPU for each extra RTP packet sent, against the first round.
    const base = rounds[0]!;
    const perPacket =
      r !== base && r.packetsPerSecond > base.packetsPerSecond ? ((r.cpu.server - base.cpu.server) * 1e4) / (r.packetsPerSecond - base.packetsPerSecond) : null;
    lines.push(
      `| ${r.peers}${r.page ? " + page" : ""} | ${f(r.coldMs, 0)} / ${f(r.joinMedianMs, 0)} / ${f(r.joinMaxMs, 0)} / ${f(r.lateJoinMs, 0)} | ${page} | ` +
        `${f(r.cpu.server)} / ${f(r.cpu.capture)} / ${f(r.cpu.encoder)} | ${f(r.rssMb.server)} / ${f(r.rssMb.capture)} / ${f(r.rssMb.encoder)} | ` +
        `${f(r.packetsPerSecond, 0)} | ${f(perPacket, 0)} | ${f(r.receiversCpuPct)} | ${f(r.chromiumCpuPct)} | ${f(r.machineBusyPct)} | ${f(r.otherCpuPct)} | ${r.windowGaps} | ${f(r.encoderStopS)} | ${f(r.idleRssMb)} |`,
    );
  }
  return lines.join("\n");
}

/** --janus: each round beside Janus + its ffmpeg, the same receivers, measured right after it. */
export function janusTable(rounds: WebRtcRound[]): string {
  const lines = [
    "| Peers | glasscast: fps min / median | glasscast server CPU % (bun + capture + encoder) | Janus: fps min / median | Janus CPU % | its ffmpeg (capture + encode + RTP) CPU % | Janus + ffmpeg CPU % | glasscast ÷ (Janus + ffmpeg) | Receivers CPU %: glasscast / Janus | Machine busy %: glasscast / Janus |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rounds) {
    const j = r.janus;
    if (!j) continue;
    const both = j.janusPct + j.feederPct;
    lines.push(
      `| ${r.peers} | ${f(r.fpsMin)} / ${f(r.fpsMedian)} | ${f(r.cpu.total)} | ${f(j.fpsMin)}${j.failed ? ` (${j.failed} failed)` : ""} / ${f(j.fpsMedian)} | ` +
        `${f(j.janusPct)} | ${f(j.feederPct)} | ${f(both)} | ${f(both > 0 ? r.cpu.total / both : null, 2)} | ${f(r.receiversCpuPct)} / ${f(j.receiversPct)} | ${f(r.machineBusyPct, 0)} / ${f(j.machineBusyPct, 0)} |`,
    );
  }
  return lines.join("\n");
}

const base0 = (rounds: WebRtcRound[]): WebRtcRound => rounds[0]!;

/** Each round beside its floors: the server's CPU over ffmpeg alone, and the RTP sending over the bare UDP send. */
export function floorTable(rounds: WebRtcRound[]): string {
  const lines = [
    "| Peers | Server CPU % (bun + capture + encoder) | ffmpeg alone, capture + encode to -f null: CPU % (its fps) | Server ÷ ffmpeg alone | RTP packets/s (all peers) | Bare UDP send of those packets: CPU % / µs per packet | bun CPU µs per added packet (against the first round) | Receivers CPU % | Machine busy %: round / ffmpeg floor / send floor |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const base = rounds[0];
  for (const r of rounds) {
    const ff = r.floors?.ffmpeg;
    const send = r.floors?.send;
    const perPacket =
      base && r !== base && r.packetsPerSecond > base.packetsPerSecond
        ? ((r.cpu.server - base.cpu.server) * 1e4) / (r.packetsPerSecond - base.packetsPerSecond)
        : null;
    lines.push(
      `| ${r.peers}${r.page ? " + page" : ""} | ${f(r.cpu.total)} | ${ff ? (ff.error ? "failed" : `${f(ff.cpuPct)} (${f(ff.fps)})`) : "—"} | ${f(floorRatio(r), 2)} | ` +
        `${f(r.packetsPerSecond, 0)} | ${send ? (send.error ? "failed" : `${f(send.cpuPct)} / ${f(send.usPerPacket, 1)}`) : "—"} | ${f(perPacket, 0)} | ` +
        `${f(r.receiversCpuPct)} | ${f(r.machineBusyPct, 0)} / ${f(ff?.machineBusyPct, 0)} / ${f(send?.machineBusyPct, 0)} |`,
    );
  }
  return lines.join("\n");
}

export function phasesTable(rounds: WebRtcRound[]): string {
  const lines = [
    "| Peers | Who | Client makes its offer | Server answers POST /offer | ICE + DTLS connected | First complete frame after that | While they join: seconds / bun CPU % / bun CPU ms per joining peer / receivers CPU % / machine busy % |",
    "|---:|:---|---:|---:|---:|---:|---:|",
  ];
  for (const r of rounds) {
    for (const [who, p] of [
      ["cold start (1 peer)", r.phases.cold],
      [`joins (${r.phases.joins?.peers ?? 0} at once)`, r.phases.joins],
      ["late join (1 peer, alone)", r.phases.late],
    ] as const) {
      if (!p) continue;
      const j =
        p === r.phases.joins && r.join
          ? `${f(r.join.seconds, 2)} / ${f(r.join.serverPct, 0)} / ${f(r.join.serverCpuMsPerPeer, 0)} / ${f(r.join.receiversPct, 0)} / ${f(r.join.machineBusyPct, 0)}`
          : "";
      lines.push(`| ${r.peers}${r.page ? " + page" : ""} | ${who} | ${f(p.offer, 0)} | ${f(p.answer, 0)} | ${f(p.connect, 0)} | ${f(p.media, 0)} | ${j} |`);
    }
  }
  return lines.join("\n");
}

export function targetsTable(rounds: WebRtcRound[]): string {
  const lines = ["| Target | Goal | Measured | Result |", "|:---|:---|:---|:---|"];
  if (!rounds.length) return lines.join("\n");
  const slowest = rounds.reduce((a, b) => ((b.failed ? -1 : b.fpsMin) < (a.failed ? -1 : a.fpsMin) ? b : a));
  lines.push(
    `| Every ${base0(rounds).receiver} peer's fps, every round | ≥ ${TARGETS.fps} | lowest ${f(slowest.fpsMin)}${slowest.failed ? ` and ${slowest.failed} without frames` : ""} (at ${plural(slowest.peers)}) | ` +
      `${verdict(rounds.every((r) => r.failed === 0 && r.fpsMin >= TARGETS.fps))} |`,
  );
  const pages = rounds.filter((r) => r.page);
  if (pages.length) {
    const low = pages.reduce((a, b) => ((b.page!.fps ?? -1) < (a.page!.fps ?? -1) ? b : a));
    lines.push(
      `| The Chromium page's decoded fps, every round | ≥ ${TARGETS.fps} | lowest ${low.page!.fps === null ? "no picture" : f(low.page!.fps)} (beside ${plural(low.peers)}) | ` +
        `${verdict(pages.every((r) => r.page!.fps !== null && r.page!.fps >= TARGETS.fps))} |`,
    );
  }
  const base = rounds[0]!;
  const top = rounds.at(-1)!;
  const overFloor = floorRatio(base);
  const floorCpu = base.floors?.ffmpeg?.cpuPct;
  lines.push(
    `| Server CPU at ${plural(base.peers)} vs ffmpeg alone doing the same capture + encode (measured after the round) | ≤ ${TARGETS.floorRatio} × | ` +
      (overFloor === null
        ? `not measured${base.floors?.ffmpeg?.error ? ` (${base.floors.ffmpeg.error})` : ""} | — |`
        : `${f(base.cpu.total)} % vs ${f(floorCpu)} % = ${f(overFloor, 2)} × | ${verdict(overFloor <= TARGETS.floorRatio)} |`),
  );
  if (top !== base) {
    const ratio = base.cpu.total > 0 ? top.cpu.total / base.cpu.total : Infinity;
    lines.push(
      `| Server CPU (server + capture + encoder) at ${plural(top.peers)} vs ${plural(base.peers)} | ≤ ${TARGETS.cpuRatio} × | ` +
        `${f(top.cpu.total)} % vs ${f(base.cpu.total)} % = ${f(ratio, 2)} × | ${verdict(ratio <= TARGETS.cpuRatio)} |`,
    );
  }
  const latest = rounds.reduce((a, b) => ((b.firstFrameMedianMs ?? Infinity) > (a.firstFrameMedianMs ?? Infinity) ? b : a));
  lines.push(
    `| Offer → first frame, median of each round | ≤ ${TARGETS.firstFrameMedianMs} ms | highest ${f(latest.firstFrameMedianMs, 0)} ms (at ${plural(latest.peers)}; max there ${f(latest.firstFrameMaxMs, 0)} ms) | ` +
      `${verdict(rounds.every((r) => r.firstFrameMedianMs !== null && r.firstFrameMedianMs <= TARGETS.firstFrameMedianMs))} |`,
  );
  const alone = rounds.flatMap((r) => [r.coldMs, r.lateJoinMs]);
  const aloneKnown = alone.filter((v): v is number => v !== null);
  lines.push(
    `| Offer → first frame of a peer joining alone (each round's cold start and late join) | ≤ ${TARGETS.firstFrameMedianMs} ms | ` +
      `${aloneKnown.length ? `${f(Math.min(...aloneKnown), 0)}–${f(Math.max(...aloneKnown), 0)} ms` : "—"}${aloneKnown.length < alone.length ? ", some never" : ""} | ` +
      `${verdict(aloneKnown.length === alone.length && aloneKnown.every((v) => v <= TARGETS.firstFrameMedianMs))} |`,
  );
  const seen = [...new Set(rounds.flatMap((r) => [r.encoders.min, r.encoders.max]))].sort((a, b) => a - b);
  lines.push(`| H.264 encoder processes while peers are connected | exactly 1 | ${seen.join(", ")} | ${verdict(seen.length === 1 && seen[0] === 1)} |`);
  const stops = rounds.map((r) => r.encoderStopS);
  const okStop = stops.every((s) => s !== null && s >= TARGETS.lingerS - 0.5 && s <= TARGETS.lingerS + 2);
  lines.push(
    `| Encoder stops ${TARGETS.lingerS} s after the last peer leaves | ${TARGETS.lingerS} s (+ up to 2 s) | ` +
      `${stops.map((s) => (s === null ? "did not stop" : `${f(s)} s`)).join(", ")} | ${verdict(okStop)} |`,
  );
  return lines.join("\n");
}
