/**
 * RTSP fan-out benchmark: one glasscast server (testsrc 1280x720 at 30 fps,
 * one H.264 encoder) and 1, 10, 50 RTSP clients over TCP interleaved, then,
 * on the same server in the same run, 1, 10, 50 MJPEG viewers: the cost of
 * an added RTSP client next to the cost of an added MJPEG viewer. Prints a
 * Markdown report on stdout (progress on stderr); exits 0 whether the
 * targets pass or not.
 *
 *   bun run scripts/bench/rtsp-fanout.ts [--duration 10] [--clients-list 1,10,50] [--clients 2] [--settle 10] [--binary PATH]
 *
 * RTSP clients: lib/rtsp-readers.ts processes (raw TCP, parse the
 * interleaved RTP and count access units by the marker bit; nothing is
 * decoded), `--clients` processes sharing a round's clients. MJPEG viewers:
 * the mjpeg-fanout benchmark's viewer processes. A round's window starts
 * once every client has its first access unit (or after --settle s); fps,
 * server CPU (the server and its children: capture and encoder) and the load
 * generator's CPU are measured over the window, RSS at its end.
 */
import { cpus } from "node:os";
import { clients, runOptions } from "./lib/args.ts";
import { cli, list } from "./lib/cli.ts";
import { targetsTable } from "./lib/table.ts";
import { installExitHandlers, runBenchmark, stopTree } from "./lib/children.ts";
import { endAll, spawnShares } from "./lib/json-lines-child.ts";
import { cmdline, cpuPercent, processTree, rssMb } from "./lib/proc-stats.ts";
import { busyPct, type RoundSample, sampleRound } from "./lib/sampling.ts";
import { fixed, median } from "./lib/stats.ts";
import type { RtspReaderMessage } from "./lib/rtsp-readers.ts";
import { freePort, startServer, type RunningServer } from "./lib/server-process.ts";
import { sampledRound } from "./lib/viewer-pool.ts";

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
/** Same order of cost as an MJPEG viewer: at most this much of one core per added client. */
const TARGET_CPU_PER_CLIENT = 0.2;
const TARGET_FPS = 29;
const READERS_SCRIPT = new URL("./lib/rtsp-readers.ts", import.meta.url).pathname;

const CLI = cli("rtsp-fanout", {
  ...runOptions(),
  clients: clients("load-generator processes sharing a round's clients"),
  counts: list({ flag: "clients-list", default: [1, 10, 50], max: 1000, help: "RTSP clients (and MJPEG viewers) per round, comma-separated" }),
});
type Options = ReturnType<typeof CLI.parse>;

const log = (message: string) => process.stderr.write(`${message}\n`);

type Sample = RoundSample;
const sample = (server: RunningServer, clientPids: number[]): Sample => sampleRound(server.proc.pid, clientPids);

/** H.264 access units the first stream's feed has made so far (from /state). */
async function feedAccessUnits(server: RunningServer): Promise<number> {
  const state = (await (await fetch(`http://127.0.0.1:${server.port}/state`)).json()) as { streams: { encoders: { h264: { accessUnits: number } | null } }[] };
  return state.streams[0]?.encoders.h264?.accessUnits ?? 0;
}

/** Waits (at most 20 s) until the server has no H.264 encoder child: it lingers after the last client. */
async function encoderGone(server: RunningServer): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline && processTree(server.proc.pid).some((s) => s.comm === "ffmpeg" && cmdline(s.pid).includes("libx264"))) {
    await Bun.sleep(200);
  }
}

interface Round {
  clients: number;
  /** Access units per second the stream's H.264 feed made in the window (RTSP rounds; null for MJPEG). */
  feedFps: number | null;
  fpsMin: number;
  fpsMedian: number;
  firstFrameMedianMs: number | null;
  failed: number;
  gaps: number;
  serverCpuPct: number;
  /** The glasscast process alone (its children, the capture and the encoder, left out): where per-client work happens. */
  mainCpuPct: number;
  serverRssMb: number | null;
  clientCpuPct: number;
  machineBusyPct: number;
  deliveredMBps: number;
}

async function rtspRound(server: RunningServer, rtspPort: number, n: number, o: Options, notes: string[]): Promise<Round> {
  const maxSeconds = o.settle + o.duration + 60;
  const url = `rtsp://127.0.0.1:${rtspPort}/`;
  const procs = spawnShares<RtspReaderMessage>(READERS_SCRIPT, n, o.clients, ["--url", url, "--max-seconds", String(maxSeconds)]);
  try {
    const firstFrames: number[] = [];
    let failed = 0;
    const deadline = performance.now() + (o.settle + 25) * 1000;
    for (const r of procs) {
      const ready = await r.next("ready", Math.max(0, deadline - performance.now()));
      if (!ready) throw new Error("an RTSP reader process never got ready");
      firstFrames.push(...ready.firstFrameMs.filter((t): t is number => t !== null));
      failed += ready.errors.length;
      for (const e of new Set(ready.errors)) notes.push(`${n} RTSP clients: ${ready.errors.filter((x) => x === e).length} × ${e}`);
    }
    const pids = procs.map((r) => r.pid);
    const feedBefore = await feedAccessUnits(server);
    const begin = sample(server, pids);
    for (const r of procs) r.send("mark");
    for (const r of procs) await r.next("marked", 5000);
    await Bun.sleep(o.duration * 1000);
    const end = sample(server, pids);
    const feedAfter = await feedAccessUnits(server);
    const serverRss = rssMb(server.proc.pid);
    for (const r of procs) r.send("stop");
    const fps: number[] = [];
    let gaps = 0;
    let bytes = 0;
    let seconds = o.duration;
    for (const r of procs) {
      const result = await r.next("result", 10_000);
      if (!result) throw new Error("an RTSP reader process gave no result");
      seconds = result.seconds;
      for (const c of result.clients) {
        fps.push(c.accessUnits / result.seconds);
        gaps += c.gaps;
        bytes += c.bytes;
        if (c.error) failed++;
      }
    }
    return {
      clients: n,
      feedFps: (feedAfter - feedBefore) / ((end.server.at - begin.server.at) / 1000),
      fpsMin: Math.min(...fps),
      fpsMedian: median(fps),
      firstFrameMedianMs: firstFrames.length ? median(firstFrames) : null,
      failed,
      gaps,
      serverCpuPct: cpuPercent(begin.server, end.server),
      mainCpuPct: cpuPercent(begin.main, end.main),
      serverRssMb: serverRss,
      clientCpuPct: cpuPercent(begin.client, end.client),
      machineBusyPct: busyPct(begin, end),
      deliveredMBps: bytes / seconds / 1e6,
    };
  } finally {
    await endAll(procs);
  }
}

async function mjpegRound(server: RunningServer, n: number, o: Options): Promise<Round> {
  const round = await sampledRound(server.proc.pid, server.port, n, o.clients, { settleMs: o.settle * 1000, windowMs: o.duration * 1000 });
  const { begin: b, end: e } = round;
  const serverRss = round.rss.get(server.proc.pid) ?? null;
  const fps = round.viewers.map((v) => v.fps);
  const firstFrames = round.viewers.map((v) => v.firstFrameMs).filter((t): t is number => t !== null);
  return {
    clients: n,
    feedFps: null,
    fpsMin: Math.min(...fps),
    fpsMedian: median(fps),
    firstFrameMedianMs: firstFrames.length ? median(firstFrames) : null,
    failed: round.viewers.filter((v) => v.error !== null || v.firstFrameMs === null).length,
    gaps: 0,
    serverCpuPct: cpuPercent(b.server, e.server),
    mainCpuPct: cpuPercent(b.main, e.main),
    serverRssMb: serverRss,
    clientCpuPct: cpuPercent(b.client, e.client),
    machineBusyPct: busyPct(b, e),
    deliveredMBps: round.viewers.reduce((s, v) => s + v.bytesPerSecond, 0) / 1e6,
  };
}

/** (CPU_n − CPU_first) / (n − first): the cost of one more client, % of one core (of the whole tree, or of the glasscast process). */
function perAdded(rounds: Round[], r: Round, of: "serverCpuPct" | "mainCpuPct" = "serverCpuPct"): number | null {
  const base = rounds[0];
  return base && r.clients > base.clients ? (r[of] - base[of]) / (r.clients - base.clients) : null;
}

function table(rounds: Round[], what: string, unit: string): string {
  const lines = [
    `| ${what} | ${unit === "JPEG" ? "" : "H.264 made (fps) | "}fps min | fps median | First ${unit} median (ms) | Sequence gaps | Server CPU % (all) | per added | glasscast process CPU % | per added | Server RSS (MB) | Delivered (MB/s) | Load generator CPU % | Machine busy % |`,
    `|---:|${unit === "JPEG" ? "" : "---:|"}---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const r of rounds) {
    lines.push(
      `| ${r.clients}${r.failed ? ` (${r.failed} failed)` : ""} | ${r.feedFps === null ? "" : `${fixed(r.feedFps)} | `}${fixed(r.fpsMin)} | ${fixed(r.fpsMedian)} | ${fixed(r.firstFrameMedianMs)} | ` +
        `${r.gaps} | ${fixed(r.serverCpuPct)} | ${fixed(perAdded(rounds, r), 3)} | ${fixed(r.mainCpuPct)} | ${fixed(perAdded(rounds, r, "mainCpuPct"), 3)} | ${fixed(r.serverRssMb)} | ${fixed(r.deliveredMBps, 1)} | ` +
        `${fixed(r.clientCpuPct)} | ${fixed(r.machineBusyPct)} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const o = CLI.parseOrExit();
  installExitHandlers();
  const counts = [...new Set(o.counts)].sort((a, b) => a - b);
  const rtspPort = freePort();
  log("starting the server…");
  const server = await startServer({
    binary: o.binary,
    width: WIDTH,
    height: HEIGHT,
    fps: FPS,
    args: ["--rtsp-port", String(rtspPort), "--rtsp-max-clients", String(Math.max(50, ...counts))],
  });
  log(`server ready: http 127.0.0.1:${server.port}, rtsp ${rtspPort} (pid ${server.proc.pid})`);
  const notes: string[] = [];
  const rtsp: Round[] = [];
  const mjpeg: Round[] = [];
  try {
    for (const n of counts) {
      log(`RTSP round: ${n} client(s), ${o.duration} s window…`);
      const r = await rtspRound(server, rtspPort, n, o, notes);
      rtsp.push(r);
      log(`  fps min ${fixed(r.fpsMin)}, server CPU ${fixed(r.serverCpuPct)} %`);
      await Bun.sleep(1000);
    }
    log("waiting for the H.264 encoder to stop (it lingers after the last client)…");
    await encoderGone(server);
    for (const n of counts) {
      log(`MJPEG round: ${n} viewer(s), ${o.duration} s window…`);
      const r = await mjpegRound(server, n, o);
      mjpeg.push(r);
      log(`  fps min ${fixed(r.fpsMin)}, server CPU ${fixed(r.serverCpuPct)} %`);
      await Bun.sleep(1000);
    }
  } finally {
    const leftovers = await stopTree(server.proc);
    if (leftovers.length) notes.push(`the server left ${leftovers.map((s) => `${s.comm} (pid ${s.pid})`).join(", ")} running; killed`);
  }

  const growth = (rounds: Round[], of: "serverCpuPct" | "mainCpuPct") => Math.max(...rounds.map((r) => perAdded(rounds, r, of) ?? -Infinity));
  const rtspGrowth = growth(rtsp, "serverCpuPct");
  const mjpegGrowth = growth(mjpeg, "serverCpuPct");
  const rtspMain = growth(rtsp, "mainCpuPct");
  const mjpegMain = growth(mjpeg, "mainCpuPct");
  const slowest = Math.min(...rtsp.map((r) => (r.failed ? 0 : r.fpsMin)));
  const cpuModel = cpus()[0]?.model ?? "unknown CPU";
  console.log(
    [
      `## RTSP fan-out: ${WIDTH}x${HEIGHT} at ${FPS} fps (testsrc, one libx264 encoder)`,
      "",
      `${new Date().toISOString().slice(0, 10)} · ${cpus().length} cores (${cpuModel}) · Bun ${Bun.version} · ` +
        `server: \`${server.command.slice(0, o.binary ? 1 : 3).join(" ")}\` · window ${o.duration} s per round · ` +
        `clients in ${o.clients} separate process(es), raw TCP, RTP counted not decoded`,
      "",
      "### RTSP clients (TCP interleaved)",
      "",
      table(rtsp, "Clients", "access unit"),
      "",
      "### MJPEG viewers, same server, same run",
      "",
      table(mjpeg, "Viewers", "JPEG"),
      "",
      "H.264 made: access units the stream's one encoder put out per second in the window (what an RTSP client can get at most; below 30 when the machine starves the encoder). " +
        "fps: access units (RTSP) or JPEG parts (MJPEG) per client inside the window, which starts once every client has its first frame. " +
        "Server CPU (all): the server and its children (capture, H.264 encoder), % of one core; glasscast process: the server alone, where the per-client work is done " +
        "(the encoder's and capture's own swings on a shared machine left out); per added: (CPU_n − CPU_1) / (n − 1). " +
        "Load generator CPU: the client processes. Machine busy: both cores = 100 %. MB = 10^6 bytes.",
      "",
      "### Targets",
      "",
      targetsTable([
        { target: "Every RTSP client's fps", goal: `≥ ${TARGET_FPS}`, measured: `lowest ${fixed(slowest)}`, ok: slowest >= TARGET_FPS },
        {
          target: "Every RTSP client gets every access unit made",
          goal: "fps min ≥ 0.95 × H.264 made",
          measured: rtsp.map((r) => `${fixed(r.fpsMin)} of ${fixed(r.feedFps)}`).join(", "),
          ok: rtsp.every((r) => r.feedFps !== null && r.fpsMin >= 0.95 * r.feedFps),
        },
        {
          target: "Server CPU per added RTSP client, whole tree",
          goal: `≤ ${TARGET_CPU_PER_CLIENT} % of one core (MJPEG here: ${fixed(mjpegGrowth, 3)} %)`,
          measured: `highest ${fixed(rtspGrowth, 3)} %`,
          ok: rtspGrowth <= TARGET_CPU_PER_CLIENT,
        },
        {
          target: "Server CPU per added RTSP client, glasscast process",
          goal: `≤ ${TARGET_CPU_PER_CLIENT} % of one core (MJPEG here: ${fixed(mjpegMain, 3)} %)`,
          measured: `highest ${fixed(rtspMain, 3)} %`,
          ok: rtspMain <= TARGET_CPU_PER_CLIENT,
        },
        { target: "Sequence gaps (TCP loses nothing)", goal: "0", measured: String(rtsp.reduce((s, r) => s + r.gaps, 0)), ok: rtsp.every((r) => r.gaps === 0) },
      ]),
      ...(notes.length ? ["", "Notes:", ...notes.map((n) => `- ${n}`)] : []),
    ].join("\n"),
  );
}

await runBenchmark("rtsp-fanout", main);
