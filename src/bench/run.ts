/**
 * `glasscast bench`: a short self-benchmark a user runs on their own board.
 * It starts this very program as a child server on 127.0.0.1 with the test
 * pattern (at the --width, --height and --fps given), waits for its first
 * picture, then runs each scenario in turn: N MJPEG viewers (raw HTTP
 * readers in this process) and N WebRTC peers (werift, in this process).
 * A scenario's window starts once every viewer has its first frame; over it
 * are measured each viewer's frames, the server's CPU (its own process and
 * its children, read from /proc), the JPEG encode time (from its /state), and
 * this process's own CPU (the viewers', reported apart). The server and every
 * process under it are stopped at the end, whatever happened.
 */
import { join } from "node:path";
import type { BenchCommand } from "../config/parse-args.ts";
import { log } from "../log.ts";
import { spawnOwned, type OwnedChild } from "../process/child.ts";
import { isCompiled } from "../service/self.ts";
import { TESTSRC_DEFAULT } from "../sources/ffmpeg/args.ts";
import type { StatsSnapshot } from "../stats/collect.ts";
import { commit, VERSION } from "../version.ts";
import { machineInfo } from "./machine.ts";
import { connectMjpeg } from "./mjpeg-connection.ts";
import { MjpegCounter } from "./mjpeg-counter.ts";
import { cpuPercent, processTree, readStat, rssMb, sampleCpu, type CpuSample, type ProcStat } from "./proc-stats.ts";
import { formatReport, type BenchReport, type ScenarioFigures, type ScenarioKind } from "./report.ts";
import { connectPeer, type BenchPeer } from "./webrtc-peer.ts";

/** How long the child server may take to print its address, and to show its first picture. */
const START_TIMEOUT_MS = 30_000;
/** A scenario's viewers must each have a first frame within this, else the window starts without them. */
const SETTLE_TIMEOUT_MS = 15_000;
/** After the last viewer's first frame, before the window: what was queued while they joined arrives first. */
const WARMUP_MS = 500;

const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** This program: the compiled binary itself, or bun running src/cli.ts. */
function selfArgv(): string[] {
  return isCompiled() ? [process.execPath] : [process.execPath, "run", join(import.meta.dir, "..", "cli.ts")];
}

interface Server {
  readonly child: OwnedChild;
  readonly port: number;
  readonly jpegBy: string;
  readonly base: string;
  /** Every process seen under the server, to check at the end that none is left. */
  readonly seen: Map<number, ProcStat>;
}

async function startServer(c: BenchCommand): Promise<Server> {
  const given = (flag: string) => c.serverArgs.some((a) => a === flag || a.startsWith(`${flag}=`));
  const argv = [
    ...selfArgv(),
    ...c.serverArgs,
    "--source",
    "testsrc",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--webrtc-candidate",
    "127.0.0.1",
    ...(given("--log-level") ? [] : ["--log-level", "warn"]),
    // The bench measures viewers of a running stream (their first frames too), not a capture starting for them.
    ...(given("--always-on") ? [] : ["--always-on"]),
  ];
  const child = spawnOwned(argv, { label: "bench server", stderrLevel: "warn" });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  const deadline = Date.now() + START_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), START_TIMEOUT_MS);
  });
  try {
    while (Date.now() < deadline) {
      const read = await Promise.race([reader.read(), timeout]);
      if (read === "timeout") throw new Error(`the server printed no address within ${START_TIMEOUT_MS / 1000} s`);
      if (read.done) throw new Error(`the server exited before listening (status ${await child.exited}); see its messages above`);
      out += decoder.decode(read.value, { stream: true });
      const m = /→ http:\/\/[^:]+:(\d+)\/ \(JPEG by ([^)]+)\)/.exec(out);
      if (m) {
        // Keep reading (and dropping) its stdout, so that it never blocks on a full pipe.
        void (async () => {
          try {
            while (!(await reader.read()).done) {
              /* drop */
            }
          } catch {
            /* closed */
          }
        })();
        const port = Number(m[1]);
        return { child, port, jpegBy: m[2]!, base: `http://127.0.0.1:${port}`, seen: new Map() };
      }
    }
    throw new Error(`the server printed no address within ${START_TIMEOUT_MS / 1000} s`);
  } catch (err) {
    await child.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function state(server: Server): Promise<StatsSnapshot> {
  const res = await fetch(`${server.base}/state`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`/state answered ${res.status}`);
  return (await res.json()) as StatsSnapshot;
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await Bun.sleep(50);
  }
  return check();
}

interface Sample {
  at: number;
  tree: CpuSample;
  own: CpuSample;
  bench: number;
  jpeg: { encoded: number; msTotal: number };
  frames: number[];
}

async function sample(server: Server, frames: () => number[]): Promise<Sample> {
  const s = await state(server);
  const tree = processTree(server.child.pid);
  for (const p of tree) if (p.pid !== server.child.pid) server.seen.set(p.pid, p);
  const own = tree.filter((p) => p.pid === server.child.pid);
  const { user, system } = process.cpuUsage();
  const jpeg = s.streams[0]?.encoders.jpeg ?? { encoded: 0, msTotal: 0 };
  return {
    at: performance.now(),
    tree: sampleCpu(tree),
    own: sampleCpu(own),
    bench: user + system,
    jpeg: { encoded: jpeg.encoded, msTotal: jpeg.msTotal },
    frames: frames(),
  };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Viewers {
  frames(): number[];
  firstFrameMs(): (number | null)[];
  errors(): string[];
  close(): Promise<void>;
}

function mjpegViewers(server: Server, n: number): Viewers {
  const counters: MjpegCounter[] = [];
  const first: (number | null)[] = [];
  const errors: string[] = [];
  const sockets: { end(): void }[] = [];
  let closing = false;
  for (let i = 0; i < n; i++) {
    const counter = new MjpegCounter();
    const started = performance.now();
    first.push(null);
    counter.onPart = () => {
      first[i] ??= performance.now() - started;
    };
    counters.push(counter);
    connectMjpeg(server.port, counter, {
      opened: (socket) => sockets.push(socket),
      failed: (message) => {
        if (!closing) errors.push(message);
      },
      closing: () => closing,
    });
  }
  return {
    frames: () => counters.map((c) => c.parts),
    firstFrameMs: () => [...first],
    errors: () => errors,
    async close() {
      closing = true;
      for (const s of sockets) s.end();
    },
  };
}

async function webrtcViewers(server: Server, n: number): Promise<Viewers> {
  const peers: BenchPeer[] = await Promise.all(Array.from({ length: n }, () => connectPeer(server.base)));
  return {
    frames: () => peers.map((p) => p.counts.frames),
    firstFrameMs: () => peers.map((p) => p.counts.firstFrameMs),
    errors: () => peers.flatMap((p) => (p.counts.error ? [p.counts.error] : [])),
    async close() {
      await Promise.all(peers.map((p) => p.close()));
    },
  };
}

async function runScenario(server: Server, kind: ScenarioKind, n: number, seconds: number): Promise<ScenarioFigures> {
  progress(`${kind === "mjpeg" ? "MJPEG" : "WebRTC"}, ${n} viewer${n > 1 ? "s" : ""}: ${seconds} s…`);
  const viewers = kind === "mjpeg" ? mjpegViewers(server, n) : await webrtcViewers(server, n);
  try {
    // Every viewer has its first frame, or has failed (a failed one never will).
    const ready = () => viewers.frames().filter((f) => f > 0).length + viewers.errors().length >= n;
    const settled = await waitUntil(ready, SETTLE_TIMEOUT_MS);
    await Bun.sleep(WARMUP_MS);
    const begin = await sample(server, viewers.frames);
    await Bun.sleep(seconds * 1000);
    const end = await sample(server, viewers.frames);
    const elapsed = (end.at - begin.at) / 1000;
    const frames = end.frames.map((f, i) => f - begin.frames[i]!);
    const fps = frames.map((f) => f / elapsed);
    const firsts = viewers.firstFrameMs().filter((t): t is number => t !== null);
    const encoded = end.jpeg.encoded - begin.jpeg.encoded;
    const tree = processTree(server.child.pid);
    const children = tree.filter((p) => p.pid !== server.child.pid);
    for (const p of children) server.seen.set(p.pid, p);
    const childRss = children.map((p) => rssMb(p.pid) ?? 0);
    const notes = [...new Set(viewers.errors())];
    if (!settled) notes.push(`not every viewer had a frame after ${SETTLE_TIMEOUT_MS / 1000} s; measured anyway`);
    return {
      kind,
      viewers: n,
      seconds: round(elapsed, 2),
      framesReceived: frames,
      fpsMin: round(Math.min(...fps), 1),
      fpsMedian: round(median(fps), 1),
      firstFrameMedianMs: firsts.length ? round(median(firsts), 1) : null,
      firstFrameMaxMs: firsts.length ? round(Math.max(...firsts), 1) : null,
      serverCpuPct: round(cpuPercent(begin.tree, end.tree), 1),
      glasscastCpuPct: round(cpuPercent(begin.own, end.own), 1),
      serverRssMb: round(rssMb(server.child.pid) ?? 0, 1),
      childrenRssMb: round(
        childRss.reduce((a, b) => a + b, 0),
        1,
      ),
      children: children.map((p) => p.comm),
      jpegEncoded: encoded,
      jpegEncodeMs: encoded > 0 ? round((end.jpeg.msTotal - begin.jpeg.msTotal) / encoded, 3) : null,
      benchCpuPct: round((end.bench - begin.bench) / 1e4 / elapsed, 1),
      notes,
    };
  } finally {
    await viewers.close();
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function isAlive(pid: number, start: number): boolean {
  const s = readStat(pid);
  return s !== null && s.start === start && s.state !== "Z";
}

export async function runBench(c: BenchCommand): Promise<number> {
  const machine = await machineInfo(c.options.ffmpeg);
  progress(`starting a server with the test pattern on 127.0.0.1…`);
  const server = await startServer(c);
  const scenarios: ScenarioFigures[] = [];
  const notes: string[] = [];
  let size = { width: 0, height: 0, fps: 0 };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.child.stop();
  };
  const onSignal = () => void stop().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const live = await waitUntil(async () => ((await state(server).catch(() => null))?.streams[0]?.framesCaptured ?? 0) > 0, START_TIMEOUT_MS);
    if (!live) throw new Error(`the server showed no picture within ${START_TIMEOUT_MS / 1000} s`);
    const first = (await state(server)).streams[0]!;
    size = { width: first.width, height: first.height, fps: c.options.fps ?? TESTSRC_DEFAULT.fps };
    const plan: [ScenarioKind, number][] = [
      ...c.mjpeg.map((n) => ["mjpeg", n] as [ScenarioKind, number]),
      ...c.webrtc.map((n) => ["webrtc", n] as [ScenarioKind, number]),
    ];
    if (!c.options.webrtc && c.webrtc.length > 0) notes.push("--no-webrtc: the WebRTC scenarios were left out");
    for (const [kind, n] of plan) {
      if (kind === "webrtc" && !c.options.webrtc) continue;
      scenarios.push(await runScenario(server, kind, n, c.seconds));
      await Bun.sleep(300);
    }
  } finally {
    await stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  // The server reaps its own children; anything left under it is killed and said.
  const left = [...server.seen.values()].filter((p) => isAlive(p.pid, p.start));
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      /* gone meanwhile */
    }
  }
  if (left.length) notes.push(`the server left ${left.map((p) => `${p.comm} (pid ${p.pid})`).join(", ")} running; killed`);
  const report: BenchReport = {
    glasscast: { version: VERSION, commit: commit() },
    date: new Date().toISOString(),
    machine,
    picture: { ...size, source: "testsrc", jpegBy: server.jpegBy, h264Encoder: c.options.h264Encoder },
    secondsPerScenario: c.seconds,
    server: { pid: server.child.pid, children: [...server.seen.values()].map((p) => ({ pid: p.pid, comm: p.comm })), leftRunning: left.length },
    scenarios,
    notes,
  };
  log.debug(`bench: done`);
  process.stdout.write(c.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return 0;
}
