/** Figures of one webrtc-peers round, and the Markdown that reports them. */
import type { PageFigures } from "./webrtc-page.ts";
import type { FloorFigures } from "./webrtc-floor.ts";
import type { JanusRound } from "./webrtc-janus.ts";
import type { ReceiverKind } from "./webrtc-pool.ts";
import { fixed, median } from "./stats.ts";
import { type Column, plural as pluralOf, table, type Target, targetsTable as sharedTargetsTable } from "./table.ts";

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

const f = fixed;
export const plural = (n: number): string => pluralOf(n, "peer");

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

/** Right-aligned columns from [title, value] pairs (every webrtc table but its last column of verdicts). */
const right = (...cols: [string, (r: WebRtcRound) => string | number | null][]): Column<WebRtcRound>[] =>
  cols.map(([title, value]) => ({ title, align: "r", value }));

const who = (r: WebRtcRound): string => `${r.peers}${r.page ? " + page" : ""}`;

/** The server process's extra CPU for each extra RTP packet sent, µs, against the first round. */
function usPerAddedPacket(rounds: WebRtcRound[], r: WebRtcRound): number | null {
  const base = rounds[0];
  return base && r !== base && r.packetsPerSecond > base.packetsPerSecond
    ? ((r.cpu.server - base.cpu.server) * 1e4) / (r.packetsPerSecond - base.packetsPerSecond)
    : null;
}

export function mainTable(rounds: WebRtcRound[]): string {
  const page = (r: WebRtcRound): string =>
    !r.page
      ? "—"
      : r.page.error
        ? "no picture"
        : `${f(r.page.fps)} (worst second ${f(r.page.worstSecondFps, 0)}${r.page.droppedInWindow ? `, ${r.page.droppedInWindow} dropped` : ""})`;
  const ffmpeg = (r: WebRtcRound) => (r.rssMb.capture === null && r.rssMb.encoder === null ? null : (r.rssMb.capture ?? 0) + (r.rssMb.encoder ?? 0));
  return table(
    [
      ...right(
        ["Peers", (r) => `${r.peers}${r.page ? " + page" : ""}`],
        ["fps min", (r) => `${f(r.fpsMin)}${r.failed ? ` (${r.failed} failed)` : ""}`],
        ["fps median", (r) => r.fpsMedian],
        ["First frame median / max (ms)", (r) => `${f(r.firstFrameMedianMs, 0)} / ${f(r.firstFrameMaxMs, 0)}`],
        ["Server CPU %", (r) => r.cpu.total],
        ["Server RSS (MB)", (r) => r.rssMb.server],
        ["ffmpeg RSS (MB)", ffmpeg],
        ["H.264 encoders", (r) => (r.encoders.min === r.encoders.max ? String(r.encoders.max) : `${r.encoders.min}–${r.encoders.max}`)],
        ["Chromium page fps", page],
      ),
      {
        title: "Targets",
        align: "l",
        value: (r) => {
          const fails = roundFailures(rounds, r);
          return fails.length ? `**FAIL** (${fails.join(", ")})` : "PASS";
        },
      },
    ],
    rounds,
  );
}

export function detailTable(rounds: WebRtcRound[]): string {
  return table(
    right(
      ["Peers", who],
      [
        "First frame: cold start / joins median / joins max / late join (ms)",
        (r) => [r.coldMs, r.joinMedianMs, r.joinMaxMs, r.lateJoinMs].map((v) => f(v, 0)).join(" / "),
      ],
      ["Page: open → picture (ms), onto the cold peer", (r) => (r.page ? (r.page.pictureMs === null ? "none" : f(r.page.pictureMs, 0)) : "—")],
      ["CPU %: bun / capture / encoder", (r) => `${f(r.cpu.server)} / ${f(r.cpu.capture)} / ${f(r.cpu.encoder)}`],
      ["RSS MB: bun / capture / encoder", (r) => `${f(r.rssMb.server)} / ${f(r.rssMb.capture)} / ${f(r.rssMb.encoder)}`],
      ["RTP packets/s (all peers)", (r) => f(r.packetsPerSecond, 0)],
      ["bun CPU µs per added packet", (r) => f(usPerAddedPacket(rounds, r), 0)],
      ["Receivers CPU %", (r) => r.receiversCpuPct],
      ["Chromium CPU %", (r) => r.chromiumCpuPct],
      ["Machine busy %", (r) => r.machineBusyPct],
      ["Others' CPU %", (r) => r.otherCpuPct],
      ["RTP gaps in window", (r) => String(r.windowGaps)],
      ["Encoder stopped after (s)", (r) => r.encoderStopS],
      ["bun RSS after (MB)", (r) => r.idleRssMb],
    ),
    rounds,
  );
}

/** --janus: each round beside Janus + its ffmpeg, the same receivers, measured right after it. */
export function janusTable(rounds: WebRtcRound[]): string {
  const both = (r: WebRtcRound) => r.janus!.janusPct + r.janus!.feederPct;
  return table(
    right(
      ["Peers", (r) => String(r.peers)],
      ["glasscast: fps min / median", (r) => `${f(r.fpsMin)} / ${f(r.fpsMedian)}`],
      ["glasscast server CPU % (bun + capture + encoder)", (r) => r.cpu.total],
      ["Janus: fps min / median", (r) => `${f(r.janus!.fpsMin)}${r.janus!.failed ? ` (${r.janus!.failed} failed)` : ""} / ${f(r.janus!.fpsMedian)}`],
      ["Janus CPU %", (r) => r.janus!.janusPct],
      ["its ffmpeg (capture + encode + RTP) CPU %", (r) => r.janus!.feederPct],
      ["Janus + ffmpeg CPU %", both],
      ["glasscast ÷ (Janus + ffmpeg)", (r) => f(both(r) > 0 ? r.cpu.total / both(r) : null, 2)],
      ["Receivers CPU %: glasscast / Janus", (r) => `${f(r.receiversCpuPct)} / ${f(r.janus!.receiversPct)}`],
      ["Machine busy %: glasscast / Janus", (r) => `${f(r.machineBusyPct, 0)} / ${f(r.janus!.machineBusyPct, 0)}`],
    ),
    rounds.filter((r) => r.janus),
  );
}

/** Each round beside its floors: the server's CPU over ffmpeg alone, and the RTP sending over the bare UDP send. */
export function floorTable(rounds: WebRtcRound[]): string {
  return table(
    right(
      ["Peers", who],
      ["Server CPU % (bun + capture + encoder)", (r) => r.cpu.total],
      [
        "ffmpeg alone, capture + encode to -f null: CPU % (its fps)",
        ({ floors }) => (floors?.ffmpeg ? (floors.ffmpeg.error ? "failed" : `${f(floors.ffmpeg.cpuPct)} (${f(floors.ffmpeg.fps)})`) : "—"),
      ],
      ["Server ÷ ffmpeg alone", (r) => f(floorRatio(r), 2)],
      ["RTP packets/s (all peers)", (r) => f(r.packetsPerSecond, 0)],
      [
        "Bare UDP send of those packets: CPU % / µs per packet",
        ({ floors }) => (floors?.send ? (floors.send.error ? "failed" : `${f(floors.send.cpuPct)} / ${f(floors.send.usPerPacket, 1)}`) : "—"),
      ],
      ["bun CPU µs per added packet (against the first round)", (r) => f(usPerAddedPacket(rounds, r), 0)],
      ["Receivers CPU %", (r) => r.receiversCpuPct],
      [
        "Machine busy %: round / ffmpeg floor / send floor",
        (r) => `${f(r.machineBusyPct, 0)} / ${f(r.floors?.ffmpeg?.machineBusyPct, 0)} / ${f(r.floors?.send?.machineBusyPct, 0)}`,
      ],
    ),
    rounds,
  );
}

export function phasesTable(rounds: WebRtcRound[]): string {
  type Row = { r: WebRtcRound; who: string; p: Phases };
  const rows: Row[] = rounds.flatMap((r) =>
    (
      [
        ["cold start (1 peer)", r.phases.cold],
        [`joins (${r.phases.joins?.peers ?? 0} at once)`, r.phases.joins],
        ["late join (1 peer, alone)", r.phases.late],
      ] as const
    ).flatMap(([who, p]) => (p ? [{ r, who, p }] : [])),
  );
  const ms = (v: number | null) => f(v, 0);
  return table<Row>(
    [
      { title: "Peers", align: "r", value: ({ r }) => who(r) },
      { title: "Who", align: "l", value: (row) => row.who },
      { title: "Client makes its offer", align: "r", value: ({ p }) => ms(p.offer) },
      { title: "Server answers POST /offer", align: "r", value: ({ p }) => ms(p.answer) },
      { title: "ICE + DTLS connected", align: "r", value: ({ p }) => ms(p.connect) },
      { title: "First complete frame after that", align: "r", value: ({ p }) => ms(p.media) },
      {
        title: "While they join: seconds / bun CPU % / bun CPU ms per joining peer / receivers CPU % / machine busy %",
        align: "r",
        value: ({ r, p }) =>
          p === r.phases.joins && r.join
            ? `${f(r.join.seconds, 2)} / ${f(r.join.serverPct, 0)} / ${f(r.join.serverCpuMsPerPeer, 0)} / ${f(r.join.receiversPct, 0)} / ${f(r.join.machineBusyPct, 0)}`
            : "",
      },
    ],
    rows,
  );
}

export function targetsTable(rounds: WebRtcRound[]): string {
  if (!rounds.length) return sharedTargetsTable([]);
  const out: Target[] = [];
  const slowest = rounds.reduce((a, b) => ((b.failed ? -1 : b.fpsMin) < (a.failed ? -1 : a.fpsMin) ? b : a));
  out.push({
    target: `Every ${rounds[0]!.receiver} peer's fps, every round`,
    goal: `≥ ${TARGETS.fps}`,
    measured: `lowest ${f(slowest.fpsMin)}${slowest.failed ? ` and ${slowest.failed} without frames` : ""} (at ${plural(slowest.peers)})`,
    ok: rounds.every((r) => r.failed === 0 && r.fpsMin >= TARGETS.fps),
  });
  const pages = rounds.filter((r) => r.page);
  if (pages.length) {
    const low = pages.reduce((a, b) => ((b.page!.fps ?? -1) < (a.page!.fps ?? -1) ? b : a));
    out.push({
      target: "The Chromium page's decoded fps, every round",
      goal: `≥ ${TARGETS.fps}`,
      measured: `lowest ${low.page!.fps === null ? "no picture" : f(low.page!.fps)} (beside ${plural(low.peers)})`,
      ok: pages.every((r) => r.page!.fps !== null && r.page!.fps >= TARGETS.fps),
    });
  }
  const base = rounds[0]!;
  const top = rounds.at(-1)!;
  const overFloor = floorRatio(base);
  const floorTarget = `Server CPU at ${plural(base.peers)} vs ffmpeg alone doing the same capture + encode (measured after the round)`;
  const floorGoal = `≤ ${TARGETS.floorRatio} ×`;
  out.push(
    overFloor === null
      ? {
          target: floorTarget,
          goal: floorGoal,
          measured: `not measured${base.floors?.ffmpeg?.error ? ` (${base.floors.ffmpeg.error})` : ""}`,
          ok: true,
          result: "—",
        }
      : {
          target: floorTarget,
          goal: floorGoal,
          measured: `${f(base.cpu.total)} % vs ${f(base.floors?.ffmpeg?.cpuPct)} % = ${f(overFloor, 2)} ×`,
          ok: overFloor <= TARGETS.floorRatio,
        },
  );
  if (top !== base) {
    const ratio = base.cpu.total > 0 ? top.cpu.total / base.cpu.total : Infinity;
    out.push({
      target: `Server CPU (server + capture + encoder) at ${plural(top.peers)} vs ${plural(base.peers)}`,
      goal: `≤ ${TARGETS.cpuRatio} ×`,
      measured: `${f(top.cpu.total)} % vs ${f(base.cpu.total)} % = ${f(ratio, 2)} ×`,
      ok: ratio <= TARGETS.cpuRatio,
    });
  }
  const latest = rounds.reduce((a, b) => ((b.firstFrameMedianMs ?? Infinity) > (a.firstFrameMedianMs ?? Infinity) ? b : a));
  out.push({
    target: "Offer → first frame, median of each round",
    goal: `≤ ${TARGETS.firstFrameMedianMs} ms`,
    measured: `highest ${f(latest.firstFrameMedianMs, 0)} ms (at ${plural(latest.peers)}; max there ${f(latest.firstFrameMaxMs, 0)} ms)`,
    ok: rounds.every((r) => r.firstFrameMedianMs !== null && r.firstFrameMedianMs <= TARGETS.firstFrameMedianMs),
  });
  const alone = rounds.flatMap((r) => [r.coldMs, r.lateJoinMs]);
  const aloneKnown = alone.filter((v): v is number => v !== null);
  out.push({
    target: "Offer → first frame of a peer joining alone (each round's cold start and late join)",
    goal: `≤ ${TARGETS.firstFrameMedianMs} ms`,
    measured: `${aloneKnown.length ? `${f(Math.min(...aloneKnown), 0)}–${f(Math.max(...aloneKnown), 0)} ms` : "—"}${aloneKnown.length < alone.length ? ", some never" : ""}`,
    ok: aloneKnown.length === alone.length && aloneKnown.every((v) => v <= TARGETS.firstFrameMedianMs),
  });
  const seen = [...new Set(rounds.flatMap((r) => [r.encoders.min, r.encoders.max]))].sort((a, b) => a - b);
  out.push({
    target: "H.264 encoder processes while peers are connected",
    goal: "exactly 1",
    measured: seen.join(", "),
    ok: seen.length === 1 && seen[0] === 1,
  });
  const stops = rounds.map((r) => r.encoderStopS);
  out.push({
    target: `Encoder stops ${TARGETS.lingerS} s after the last peer leaves`,
    goal: `${TARGETS.lingerS} s (+ up to 2 s)`,
    measured: stops.map((s) => (s === null ? "did not stop" : `${f(s)} s`)).join(", "),
    ok: stops.every((s) => s !== null && s >= TARGETS.lingerS - 0.5 && s <= TARGETS.lingerS + 2),
  });
  return sharedTargetsTable(out);
}
