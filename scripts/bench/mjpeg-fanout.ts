/**
 * MJPEG fan-out benchmark: one glasscast server (testsrc 1280x720 at 30 fps)
 * and 1, 10, 50, 100, 200 viewers of GET /video, plus the JPEG encode time
 * next to the library's own speed. Prints a Markdown report on stdout
 * (progress goes to stderr); exits 0 whether targets pass or fail.
 *
 *   bun run scripts/bench/mjpeg-fanout.ts [--duration 10] [--viewers 1,10,50,100,200] [--binary PATH]
 *
 * A round: the viewer processes (lib/mjpeg-viewers.ts, raw TCP) open every
 * connection at once; when each viewer has its first frame (or after
 * --settle s) the measuring window starts for everyone and lasts --duration s.
 * fps, server CPU, the load generator's CPU and bytes delivered are measured
 * over that window; RSS at its end; first-frame times from each connect.
 */
import { cpus } from "node:os";
import { runOptions } from "./lib/args.ts";
import { cli, list, num, toggle } from "./lib/cli.ts";
import { installExitHandlers, runBenchmark, stopTree } from "./lib/children.ts";
import { benchEncode, type EncodeResult } from "./lib/encode-bench.ts";
import { cpuPercent } from "./lib/proc-stats.ts";
import { busyPct } from "./lib/sampling.ts";
import { COMPARISON, encodeTable, fanoutTable, median, plural, targetsTable, type RoundFigures } from "./lib/report.ts";
import { startServer, type RunningServer } from "./lib/server-process.ts";
import { sampledRound } from "./lib/viewer-pool.ts";

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;

const CLI = cli("mjpeg-fanout", {
  ...runOptions(),
  viewers: list({ flag: "viewers", default: [1, 10, 50, 100, 200], max: 5000, help: "viewer counts, comma-separated" }),
  encodeIterations: num({ flag: "encode-iterations", default: 300, max: 100_000, whole: true, help: "frames per timed encode loop" }),
  skipEncode: toggle({ flag: "skip-encode", help: "leave out the encode comparison" }),
});
type BenchOptions = ReturnType<typeof CLI.parse>;

const log = (message: string) => process.stderr.write(`${message}\n`);

function serverAlive(server: RunningServer): boolean {
  return server.proc.exitCode === null && server.proc.signalCode === null;
}

async function measureRound(server: RunningServer, viewers: number, o: BenchOptions, notes: string[]): Promise<RoundFigures> {
  // Wakes an on-demand capture, so the round measures a running stream.
  await fetch(`http://127.0.0.1:${server.port}/snapshot.jpg`, { signal: AbortSignal.timeout(5000) })
    .then((r) => r.arrayBuffer())
    .catch(() => undefined);
  const round = await sampledRound(server.proc.pid, server.port, viewers, o.clients, { settleMs: o.settle * 1000, windowMs: o.duration * 1000 });
  if (!serverAlive(server)) throw new Error(`the server exited during the ${viewers}-viewer round`);
  const { begin: b, end: e } = round;
  const serverRss = round.rss.get(server.proc.pid) ?? null;
  const ffmpeg = e.tree.filter((s) => s.comm === "ffmpeg").map((s) => round.rss.get(s.pid) ?? 0);
  const ffmpegRss = ffmpeg.length ? ffmpeg.reduce((a, b) => a + b, 0) : null;
  const fps = round.viewers.map((v) => v.fps);
  const firstFrames = round.viewers.map((v) => v.firstFrameMs).filter((t): t is number => t !== null);
  const failed = round.viewers.filter((v) => v.error !== null || v.firstFrameMs === null);
  for (const message of new Set(failed.map((v) => v.error ?? "no frame"))) {
    notes.push(`${plural(viewers)}: ${failed.filter((v) => (v.error ?? "no frame") === message).length} × ${message}`);
  }
  if (!round.settled) notes.push(`${plural(viewers)}: not every viewer had a frame after ${o.settle} s; the window started anyway`);
  const head = round.viewers.find((v) => v.head)?.head;
  if (head && (!head.chunked || !/boundary=frame\b/.test(head.contentType))) {
    notes.push(`${plural(viewers)}: response head differs from the contract (Content-Type "${head.contentType}", chunked: ${head.chunked})`);
  }
  return {
    viewers,
    fpsMin: Math.min(...fps),
    fpsMedian: median(fps),
    firstFrameMedianMs: firstFrames.length ? median(firstFrames) : null,
    firstFrameMaxMs: firstFrames.length === round.viewers.length ? Math.max(...firstFrames) : null,
    failed: failed.length,
    badParts: round.viewers.reduce((sum, v) => sum + v.badParts, 0),
    serverCpuPct: cpuPercent(b.server, e.server),
    serverRssMb: serverRss,
    ffmpegRssMb: ffmpegRss,
    deliveredMBps: round.viewers.reduce((sum, v) => sum + v.bytesPerSecond, 0) / 1e6,
    clientCpuPct: cpuPercent(b.client, e.client),
    machineBusyPct: busyPct(b, e),
  };
}

async function main(): Promise<void> {
  const o = CLI.parseOrExit();
  installExitHandlers();
  const viewerCounts = [...new Set(o.viewers)].sort((a, b) => a - b);
  const notes: string[] = [];

  let encode: EncodeResult | null = null;
  if (!o.skipEncode) {
    log("encode: timing TurboJpegEncoder against the plain TurboJPEG loop…");
    try {
      encode = await benchEncode(o.encodeIterations);
    } catch (err) {
      notes.push(`encode benchmark failed: ${(err as Error).message}`);
    }
  }

  log("starting the server…");
  const server = await startServer({ binary: o.binary, width: WIDTH, height: HEIGHT, fps: FPS });
  log(`server ready on 127.0.0.1:${server.port} (pid ${server.proc.pid})`);
  const rounds: RoundFigures[] = [];
  try {
    for (const n of viewerCounts) {
      log(`round: ${n} viewer(s), ${o.duration} s window…`);
      const r = await measureRound(server, n, o, notes);
      rounds.push(r);
      if (r.badParts) notes.push(`${plural(n)}: ${r.badParts} parts without JPEG start/end markers`);
      log(`  fps min ${r.fpsMin.toFixed(1)}, median ${r.fpsMedian.toFixed(1)}, server CPU ${r.serverCpuPct.toFixed(1)} %`);
      await Bun.sleep(1000); // all connections are closed; let the server settle
    }
  } finally {
    const leftovers = await stopTree(server.proc);
    if (leftovers.length) notes.push(`the server left ${leftovers.map((s) => `${s.comm} (pid ${s.pid})`).join(", ")} running after it exited; killed`);
  }

  const cpuModel = cpus()[0]?.model ?? "unknown CPU";
  const out = [
    `## MJPEG fan-out: ${WIDTH}x${HEIGHT} at ${FPS} fps (testsrc)`,
    "",
    `${new Date().toISOString().slice(0, 10)} · ${cpus().length} cores (${cpuModel}) · Bun ${Bun.version} · ` +
      `server: \`${server.command.slice(0, o.binary ? 1 : 3).join(" ")}\` · window ${o.duration} s per round · ` +
      `viewers in ${o.clients} separate process(es), raw TCP`,
    "",
    fanoutTable(rounds),
    "",
    "fps: complete JPEG parts per viewer inside the window, which starts once every viewer has its first frame. " +
      "Server CPU: the server and all its child processes (utime+stime), % of one core; " +
      "per added viewer: (CPU_n − CPU_1) / (n − 1), within noise at small n (a 1 % swing over 9 added viewers is 0.11). " +
      "First frame: from the connect call to the last byte of the first part. " +
      "Machine busy: both cores together = 100 %. MB = 10^6 bytes.",
    "",
  ];
  if (encode) out.push(encodeTable(encode), "");
  out.push("### Targets", "", targetsTable(rounds, encode), "", ...COMPARISON);
  if (notes.length) out.push("", "Notes:", ...notes.map((n) => `- ${n}`));
  console.log(out.join("\n"));
}

await runBenchmark("mjpeg-fanout", main);
