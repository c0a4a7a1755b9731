/**
 * Idle benchmark: what a stream costs with no viewer, and how soon its first
 * viewer gets a picture. A glasscast server with default options (capture on
 * demand) and one with --always-on, each on the test pattern (testsrc,
 * 1280x720 at 30 fps by default), and the floor: ffmpeg alone running the
 * always-on server's own capture command, writing to /dev/null. Runs are
 * interleaved (the order rotates each run) so that both servers and the
 * floor see the same machine load.
 *
 *   bun run scripts/bench/idle.ts [--runs 3] [--seconds 10] [--samples 3] [--width 1280] [--height 720] [--fps 30]
 *
 * Per run: each server's CPU (itself and its children, % of one core) over
 * --seconds with no viewer, once it has settled (3 s, and for the default
 * server once its capture has stopped); then --samples times each: the first
 * picture of a new viewer from idle (default server; nothing runs) and with
 * the stream running (--always-on server: a snapshot, an MJPEG /video
 * viewer's first JPEG, a werift WebRTC peer's first whole access unit, with
 * the H.264 encoder stopped and with it running for another peer). Prints a
 * Markdown table (medians, min–max over every sample) and this process's CPU.
 */
import { cpus } from "node:os";
import { connectPeer, type BenchPeer } from "../../src/bench/webrtc-peer.ts";
import { cli, num } from "./lib/cli.ts";
import { installExitHandlers, ownChild, runBenchmark, stopTree } from "./lib/children.ts";
import { cmdline, cpuPercent, processTree, readStat, sampleCpu } from "./lib/proc-stats.ts";
import { fixed as f, median } from "./lib/stats.ts";
import { startServer, type RunningServer } from "./lib/server-process.ts";

const {
  runs: RUNS,
  seconds: SECONDS,
  samples: SAMPLES,
  width: WIDTH,
  height: HEIGHT,
  fps: FPS,
} = cli("idle", {
  runs: num({ flag: "runs", default: 3, max: 50, whole: true, help: "interleaved runs" }),
  seconds: num({ flag: "seconds", default: 10, max: 3600, help: "CPU window per server and run, seconds" }),
  samples: num({ flag: "samples", default: 3, max: 100, whole: true, help: "first pictures of each kind per run" }),
  width: num({ flag: "width", default: 1280, max: 3840, whole: true, arg: "W", help: "the test pattern's width" }),
  height: num({ flag: "height", default: 720, max: 2160, whole: true, arg: "H", help: "its height" }),
  fps: num({ flag: "fps", default: 30, max: 60, whole: true, arg: "F", help: "its frame rate" }),
}).parseOrExit();
const log = (m: string) => process.stderr.write(`${m}\n`);
const out = (m: string) => process.stdout.write(`${m}\n`);

type Key = "cpuDefault" | "cpuAlways" | "cpuFloor" | "snapIdle" | "mjpegIdle" | "webrtcIdle" | "snapRunning" | "mjpegRunning" | "webrtcCold" | "webrtcWarm";
const figures: Record<Key, number[]> = {
  cpuDefault: [],
  cpuAlways: [],
  cpuFloor: [],
  snapIdle: [],
  mjpegIdle: [],
  webrtcIdle: [],
  snapRunning: [],
  mjpegRunning: [],
  webrtcCold: [],
  webrtcWarm: [],
};
const failures: string[] = [];

/** % of one core used by `pid` and its descendants over `seconds`. */
async function treeCpu(pid: number, seconds: number): Promise<number> {
  const begin = sampleCpu(processTree(pid));
  await Bun.sleep(seconds * 1000);
  return cpuPercent(begin, sampleCpu(processTree(pid)));
}

const children = (pid: number) => processTree(pid).slice(1);

/** Waits until the server runs no child process (its capture and encoder stopped), up to `ms`. */
async function waitIdle(pid: number, ms = 30_000): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (children(pid).length === 0) return true;
    await Bun.sleep(100);
  }
  return false;
}

async function snapshotMs(port: number): Promise<number | null> {
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/snapshot.jpg`, { signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  return res.status === 200 ? performance.now() - started : null;
}

/** ms from the request to the end of the first JPEG of /video. */
async function mjpegMs(port: number): Promise<number | null> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 10_000);
  const started = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${port}/video`, { signal: ctl.signal });
    const reader = res.body!.getReader();
    let seenStart = false;
    let prev = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return null;
      for (let i = 0; i < value.length; i++) {
        const b = value[i]!;
        if (prev === 0xff && b === 0xd8) seenStart = true;
        if (seenStart && prev === 0xff && b === 0xd9) return performance.now() - started;
        prev = b;
      }
    }
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
}

async function webrtcMs(base: string): Promise<{ ms: number | null; peer: BenchPeer }> {
  const peer = await connectPeer(base);
  const deadline = performance.now() + 10_000;
  while (peer.counts.frames === 0 && peer.counts.error === null && performance.now() < deadline) await Bun.sleep(5);
  if (peer.counts.error) failures.push(`WebRTC: ${peer.counts.error}`);
  return { ms: peer.counts.firstFrameMs, peer };
}

function note(key: Key, ms: number | null, label: string): void {
  if (ms === null) failures.push(`${label}: no picture within 10 s`);
  else figures[key].push(ms);
}

const common = ["--webrtc-candidate", "127.0.0.1", "--rtsp-port", "0"];

async function measureDefault(): Promise<void> {
  const server = await startServer({
    binary: null,
    width: WIDTH,
    height: HEIGHT,
    fps: FPS,
    args: [...common, "--on-demand-linger", "1"],
    readyPath: "/healthz",
    defaultCapture: true,
  });
  try {
    // --on-demand-linger 1 only shortens the waits between the samples below; with no viewer, nothing runs either way.
    if (!(await waitIdle(server.proc.pid))) failures.push("default server: a child process still ran with no viewer");
    await Bun.sleep(3000);
    figures.cpuDefault.push(await treeCpu(server.proc.pid, SECONDS));
    for (let i = 0; i < SAMPLES; i++) {
      await waitIdle(server.proc.pid);
      note("snapIdle", await snapshotMs(server.port), "snapshot from idle");
      await waitIdle(server.proc.pid);
      note("mjpegIdle", await mjpegMs(server.port), "MJPEG from idle");
      await waitIdle(server.proc.pid);
      const { ms, peer } = await webrtcMs(`http://127.0.0.1:${server.port}`);
      note("webrtcIdle", ms, "WebRTC from idle");
      await peer.close();
    }
  } finally {
    await stopTree(server.proc);
  }
}

/** Returns the capture's command line, for the floor. */
async function measureAlwaysOn(): Promise<string[] | null> {
  const server: RunningServer = await startServer({ binary: null, width: WIDTH, height: HEIGHT, fps: FPS, args: [...common, "--always-on"] });
  const base = `http://127.0.0.1:${server.port}`;
  let capture: string[] | null = null;
  try {
    await Bun.sleep(3000);
    const child = children(server.proc.pid).find((c) => c.comm.startsWith("ffmpeg"));
    if (child) capture = readArgv(child.pid);
    figures.cpuAlways.push(await treeCpu(server.proc.pid, SECONDS));
    for (let i = 0; i < SAMPLES; i++) {
      note("snapRunning", await snapshotMs(server.port), "snapshot, running");
      note("mjpegRunning", await mjpegMs(server.port), "MJPEG, running");
      // The encoder stops 5 s after its last peer: wait until only the capture runs.
      const deadline = performance.now() + 20_000;
      while (children(server.proc.pid).length > 1 && performance.now() < deadline) await Bun.sleep(100);
      const cold = await webrtcMs(base);
      note("webrtcCold", cold.ms, "WebRTC, running, encoder stopped");
      const warm = await webrtcMs(base);
      note("webrtcWarm", warm.ms, "WebRTC, running, encoder running");
      await warm.peer.close();
      await cold.peer.close();
    }
  } finally {
    await stopTree(server.proc);
  }
  return capture;
}

function readArgv(pid: number): string[] | null {
  try {
    return require("node:fs").readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").slice(0, -1);
  } catch {
    return null;
  }
}

/** The capture alone: the server's own ffmpeg command, its output (the FIFO, last) sent to /dev/null. */
async function measureFloor(capture: string[]): Promise<void> {
  const argv = [...capture.slice(0, -1), "-y", "/dev/null"];
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  ownChild(proc);
  try {
    await Bun.sleep(3000);
    if (proc.exitCode !== null) {
      failures.push(`the floor's ffmpeg exited (${proc.exitCode}): ${cmdline(proc.pid) || argv.join(" ")}`);
      return;
    }
    figures.cpuFloor.push(await treeCpu(proc.pid, SECONDS));
  } finally {
    await stopTree(proc);
  }
}

async function main(): Promise<void> {
  installExitHandlers();
  const self = readStat(process.pid);
  const selfBegin = sampleCpu(self ? [self] : []);
  const startedAt = performance.now();
  let capture: string[] | null = null;
  for (let run = 0; run < RUNS; run++) {
    const steps = ["default", "always", "floor"];
    for (let k = 0; k < run % 3; k++) steps.push(steps.shift()!);
    for (const step of steps) {
      log(`run ${run + 1}/${RUNS}: ${step}…`);
      if (step === "default") await measureDefault();
      else if (step === "always") capture = (await measureAlwaysOn()) ?? capture;
      else if (capture) await measureFloor(capture);
    }
    if (!capture) {
      // the floor needs the capture command: take it now, measure the floor at the end of this run
      const late = await measureAlwaysOn();
      if (late) {
        capture = late;
        await measureFloor(late);
      }
    }
  }
  const selfNow = readStat(process.pid);
  const clientCpu = cpuPercent(selfBegin, sampleCpu(selfNow ? [selfNow] : []));

  const row = (label: string, values: number[], unit: string, digits = 0) =>
    `| ${label} | ${values.length ? `${f(median(values), digits)} ${unit}` : "—"} | ${values.length ? `${f(Math.min(...values), digits)}–${f(Math.max(...values), digits)}` : "—"} | ${values.length} |`;
  out(`## Idle: ${WIDTH}x${HEIGHT} at ${FPS} fps test pattern, no viewer; first pictures`);
  out("");
  out(
    `${new Date().toISOString().slice(0, 10)} · ${cpus().length} cores (${cpus()[0]?.model ?? "?"}) · Bun ${Bun.version} · ${RUNS} interleaved runs · ` +
      `CPU over ${SECONDS} s per run · ${SAMPLES} first pictures of each kind per run · server: \`bun run src/cli.ts --source testsrc --width ${WIDTH} --height ${HEIGHT} --fps ${FPS} ${common.join(" ")}\` ` +
      "(default: `--on-demand-linger 1` to shorten the waits; with --always-on)",
  );
  out("");
  out("| figure | median | min–max | n |");
  out("|---|---|---|---|");
  out(row("idle CPU, default options (capture on demand): server + children, % of one core", figures.cpuDefault, "%", 2));
  out(row("idle CPU, --always-on: server + its capture", figures.cpuAlways, "%", 1));
  out(row("floor: the same capture command alone (ffmpeg → /dev/null)", figures.cpuFloor, "%", 1));
  out(row("first picture from idle (default): snapshot", figures.snapIdle, "ms"));
  out(row("first picture from idle (default): MJPEG /video, first JPEG", figures.mjpegIdle, "ms"));
  out(row("first picture from idle (default): WebRTC, first access unit (capture and encoder start)", figures.webrtcIdle, "ms"));
  out(row("stream running (--always-on): snapshot", figures.snapRunning, "ms"));
  out(row("stream running (--always-on): MJPEG /video, first JPEG", figures.mjpegRunning, "ms"));
  out(row("stream running (--always-on): WebRTC, encoder stopped (it starts)", figures.webrtcCold, "ms"));
  out(row("stream running (--always-on): WebRTC, encoder running for another peer", figures.webrtcWarm, "ms"));
  out("");
  out(`This benchmark's own CPU (the clients: fetch, werift peers): ${f(clientCpu, 1)} % of one core over ${f((performance.now() - startedAt) / 1000, 0)} s.`);
  out("Targets: idle stream with default options ≤ 1 % of a core; WebRTC first picture ≤ 700 ms from idle, ≤ 150 ms when the stream runs.");
  if (failures.length) out(["", "Failures:", ...[...new Set(failures)].map((m) => `- ${m} (${failures.filter((x) => x === m).length}×)`)].join("\n"));
}

await runBenchmark("idle", main);
