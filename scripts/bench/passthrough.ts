/**
 * Camera passthrough benchmark: the same 1280x720 30 fps MJPEG camera (the
 * fake V4L2 ffmpeg, test/fakes/ffmpeg, as an MJPEG-only webcam on
 * /dev/video7) to 50 MJPEG viewers, once with passthrough (the camera's JPEGs
 * go to the viewers untouched) and once with --no-passthrough (ffmpeg decodes
 * them to raw pictures, glasscast encodes those with libjpeg-turbo at
 * quality 90). Measures the CPU of the server process and of its capture
 * child separately, each viewer's fps and the RSS, and holds the total CPU of
 * passthrough to at most a fifth of the re-encode path's. Prints a Markdown
 * report on stdout (progress on stderr); exits 0 whether the target is met or
 * missed, 1 when the benchmark could not run.
 *
 *   bun run scripts/bench/passthrough.ts [--duration 10] [--viewers 50] [--warmup 3] [--rounds 3] [--binary PATH]
 *
 * First the fake camera's recording is made (once, then reused), so that no
 * window pays for it. Then --rounds rounds of each path, alternating which
 * goes first. A round: a fresh server; the viewer processes
 * (lib/mjpeg-viewers.ts, raw TCP) open every connection at once; once each
 * has its first frame, --warmup s pass, then the window of --duration s. CPU
 * from /proc over the window, RSS at its end. Each path is reported by its
 * median round (total CPU), with every round's total beside it.
 */
import { cpus } from "node:os";
import { runOptions } from "./lib/args.ts";
import { cli, num } from "./lib/cli.ts";
import { describeCapture, otherChildren } from "./lib/capture-child.ts";
import { installExitHandlers, runBenchmark, stopTree } from "./lib/children.ts";
import { FAKE_CAMERA_ENV, FAKE_DEVICE, FAKE_FFMPEG, prepareFakeCamera } from "./lib/fake-camera.ts";
import { cpuPercent } from "./lib/proc-stats.ts";
import { busyPct } from "./lib/sampling.ts";
import { cpuRatio, medianRound, pathsTable, targetMet, targetTable, TARGET_RATIO, type PathFigures } from "./lib/passthrough-report.ts";
import { median, plural } from "./lib/report.ts";
import { pictureArgs, startServer, type RunningServer } from "./lib/server-process.ts";
import { sampledRound } from "./lib/viewer-pool.ts";

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const DEVICE = FAKE_DEVICE;
/** An MJPEG-only webcam, so that both paths capture the same JPEGs. */
const CAMERA_ENV = FAKE_CAMERA_ENV;

interface PathSpec {
  label: string;
  options: string[];
  /** What the capture child must do on this path. */
  capture: "copy" | "decode";
}

const PATHS: PathSpec[] = [
  { label: "passthrough", options: [], capture: "copy" },
  { label: "decode + re-encode", options: ["--no-passthrough", "--jpeg-quality", "90"], capture: "decode" },
];

const CLI = cli("passthrough", {
  ...runOptions(),
  duration: num({ flag: "duration", default: 10, max: 3600, help: "measuring window per path, seconds" }),
  viewers: num({ flag: "viewers", default: 50, max: 5000, whole: true, help: "MJPEG viewers of each path" }),
  warmup: num({ flag: "warmup", default: 3, max: 120, help: "wait after every viewer has its first frame, before the window" }),
  rounds: num({ flag: "rounds", default: 3, max: 20, whole: true, help: "rounds of each path, alternating which goes first" }),
});
type PassthroughOptions = ReturnType<typeof CLI.parse>;

const log = (message: string) => process.stderr.write(`${message}\n`);

function serverAlive(server: RunningServer): boolean {
  return server.proc.exitCode === null && server.proc.signalCode === null;
}

/** One round of one path: a fresh server, its viewers, the window; `label` names the round in notes. */
async function measurePath(spec: PathSpec, label: string, o: PassthroughOptions, notes: string[]): Promise<PathFigures> {
  const server = await startServer({
    binary: o.binary,
    width: WIDTH,
    height: HEIGHT,
    fps: FPS,
    source: DEVICE,
    env: CAMERA_ENV,
    args: ["--ffmpeg", FAKE_FFMPEG, "--no-webrtc", ...spec.options],
  });
  log(`  server ready on 127.0.0.1:${server.port} (pid ${server.proc.pid})`);
  try {
    const round = await sampledRound(server.proc.pid, server.port, o.viewers, o.clients, {
      settleMs: o.settle * 1000,
      warmupMs: o.warmup * 1000,
      windowMs: o.duration * 1000,
    });
    if (!serverAlive(server)) throw new Error(`the server exited during the round "${label}"`);
    const { begin: b, end: e } = round;
    const serverRss = round.rss.get(server.proc.pid) ?? null;
    const children = e.tree.slice(1).map((s) => round.rss.get(s.pid) ?? 0);
    const captureRss = children.length ? children.reduce((x, y) => x + y, 0) : null;

    const capture = describeCapture(e.tree.slice(1));
    if (capture.mode !== spec.capture) {
      notes.push(
        `${label}: the capture child should ${spec.capture} the camera's JPEGs; found: ${capture.text}. ` + "This path did not measure what it is named for",
      );
    }
    const others = otherChildren(e.tree.slice(1));
    if (others) notes.push(`${label}: ${others}`);
    const failed = round.viewers.filter((v) => v.error !== null || v.firstFrameMs === null);
    for (const message of new Set(failed.map((v) => v.error ?? "no frame"))) {
      notes.push(`${label}: ${failed.filter((v) => (v.error ?? "no frame") === message).length} × ${message}`);
    }
    if (!round.settled) notes.push(`${label}: not every viewer had a frame after ${o.settle} s; the window started anyway`);
    const fps = round.viewers.map((v) => v.fps);
    const partBytes = round.viewers.filter((v) => v.fps > 0).map((v) => v.bytesPerSecond / v.fps);
    const serverCpuPct = cpuPercent(b.main, e.main);
    const captureCpuPct = cpuPercent(b.capture, e.capture);
    return {
      label: spec.label,
      options: spec.options,
      capture: capture.text,
      viewers: o.viewers,
      fpsMin: Math.min(...fps),
      fpsMedian: median(fps),
      failed: failed.length,
      badParts: round.viewers.reduce((sum, v) => sum + v.badParts, 0),
      jpegKb: partBytes.length ? median(partBytes) / 1000 : null,
      serverCpuPct,
      captureCpuPct,
      totalCpuPct: serverCpuPct + captureCpuPct,
      serverRssMb: serverRss,
      captureRssMb: captureRss,
      clientCpuPct: cpuPercent(b.client, e.client),
      machineBusyPct: busyPct(b, e),
    };
  } finally {
    const leftovers = await stopTree(server.proc);
    if (leftovers.length) {
      notes.push(`${label}: the server left ${leftovers.map((s) => `${s.comm} (pid ${s.pid})`).join(", ")} running after it exited; killed`);
    }
  }
}

async function main(): Promise<void> {
  const o = CLI.parseOrExit();
  installExitHandlers();
  const notes: string[] = [];

  log(`fake camera: making its ${WIDTH}x${HEIGHT} MJPEG recording (reused when it exists)…`);
  await prepareFakeCamera(WIDTH, HEIGHT, FPS);

  // Rounds alternate which path goes first (AB, BA, AB, …), so a drift in the machine's load hits both alike.
  const results: PathFigures[][] = PATHS.map(() => []);
  for (let round = 1; round <= o.rounds; round++) {
    const order = round % 2 ? [0, 1] : [1, 0];
    for (const i of order) {
      const spec = PATHS[i]!;
      const label = o.rounds > 1 ? `${spec.label}, round ${round}` : spec.label;
      log(`${label}: ${plural(o.viewers)}, warm-up ${o.warmup} s, window ${o.duration} s…`);
      const r = await measurePath(spec, label, o, notes);
      results[i]!.push(r);
      if (r.badParts) notes.push(`${label}: ${r.badParts} parts without JPEG start/end markers`);
      if (!(r.fpsMin >= FPS - 1)) {
        notes.push(`${label}: the slowest viewer got ${r.fpsMin.toFixed(1)} fps, not every frame; the CPU figures compare unequal work`);
      }
      log(
        `  fps min ${r.fpsMin.toFixed(1)}, median ${r.fpsMedian.toFixed(1)}; CPU server ${r.serverCpuPct.toFixed(1)} % + ` +
          `capture ${r.captureCpuPct.toFixed(1)} % = ${r.totalCpuPct.toFixed(1)} %`,
      );
    }
  }
  const [passthrough, reencode] = results as [PathFigures[], PathFigures[]];

  const head = o.binary ? [o.binary] : ["bun", "run", "src/cli.ts"];
  const common = [...head, "--ffmpeg", "test/fakes/ffmpeg", "--source", DEVICE, ...pictureArgs(WIDTH, HEIGHT, FPS), "--no-webrtc", "--always-on"];
  const cpuModel = cpus()[0]?.model ?? "unknown CPU";
  const met = targetMet(passthrough, reencode);
  const out = [
    `## Camera passthrough: ${WIDTH}x${HEIGHT} at ${FPS} fps MJPEG camera (fake), ${plural(o.viewers)}`,
    "",
    `${new Date().toISOString().slice(0, 10)} · ${cpus().length} cores (${cpuModel}) · Bun ${Bun.version} · ` +
      `server: \`FAKE_CAMERA_FORMATS=mjpeg ${common.join(" ")}\` plus each path's options · ` +
      `warm-up ${o.warmup} s, window ${o.duration} s, ${o.rounds} round(s) per path in alternating order · ` +
      `viewers in ${o.clients} separate process(es), raw TCP`,
    "",
    pathsTable(results),
    "",
    "Server CPU: the glasscast process alone; capture CPU: its child processes (the ffmpeg the fake camera runs: " +
      "on the passthrough path it copies the camera's JPEGs, on the other it decodes them to raw pictures that the " +
      "server encodes with libjpeg-turbo); both utime+stime over the window, % of one core. " +
      "fps: complete JPEG parts per viewer inside the window. JPEG: bytes per part a viewer received (median), kB = 10^3 bytes. " +
      "RSS at the end of the window, MB = 10^6 bytes. Machine busy: all cores together = 100 %. " +
      "Each row is the path's median round by total CPU; the rounds' totals show the spread.",
    "",
    "### Target",
    "",
    targetTable(passthrough, reencode),
    "",
    `${met ? "target met" : "target missed"}: passthrough costs ${cpuRatio(passthrough, reencode).toFixed(3)} of the re-encode path ` +
      `(goal ≤ ${TARGET_RATIO.toFixed(2)}); it saves ${(medianRound(reencode).totalCpuPct - medianRound(passthrough).totalCpuPct).toFixed(1)} % of one core.`,
  ];
  if (notes.length) out.push("", "Notes:", ...notes.map((n) => `- ${n}`));
  console.log(out.join("\n"));
}

await runBenchmark("passthrough", main);
