/**
 * RTSP push ingest benchmark: what it costs glasscast to take a publisher's
 * H.264 (ANNOUNCE/RECORD over TCP, 1280x720 at 30 fps, 2.5 Mbit/s, a
 * keyframe a second) on its own RTSP server and put it into the stream,
 * with no viewer and with one RTSP reader of the same path (the publisher's
 * bytes passed on untouched), next to its floor and peer in the same run:
 * an ffmpeg that only listens and copies the same push to /dev/null (what the
 * retired --rtsp-push-port listener ran, before glasscast read a byte).
 * The publisher is ffmpeg with `-c copy` from a clip encoded once, so its
 * cost is the same every round. Rounds are interleaved (glasscast, ffmpeg,
 * glasscast, …) on this shared machine; the report gives each round, the
 * median and the spread. Markdown on stdout, progress on stderr.
 *
 *   bun run scripts/bench/rtsp-ingest.ts [--duration 8] [--rounds 3] [--binary PATH]
 */
import { cpus } from "node:os";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { binary, duration } from "./lib/args.ts";
import { cli, num } from "./lib/cli.ts";
import { installExitHandlers, ownChild, runBenchmark, stopTree } from "./lib/children.ts";
import { cpuPercent, machineTicks, processTree, rssMb, sampleCpu } from "./lib/proc-stats.ts";
import { fixed, spread } from "./lib/stats.ts";
import { RtspClient } from "./lib/rtsp-client.ts";
import { testsrcInput } from "./lib/fake-camera.ts";
import { freePort, REPO_ROOT } from "./lib/server-process.ts";

const TOKEN = "bench-ingest-token-0123456789";
const CLI = cli("rtsp-ingest", {
  duration: duration(8, 600, "measuring window per case, seconds"),
  rounds: num({ flag: "rounds", default: 3, max: 50, whole: true, help: "interleaved rounds" }),
  binary: binary(),
});
type Options = ReturnType<typeof CLI.parse>;

function spawn(argv: string[], stdout: "ignore" | "pipe" = "ignore"): Subprocess {
  const proc = Bun.spawn(argv, { cwd: REPO_ROOT, stdin: "ignore", stdout, stderr: "ignore" });
  ownChild(proc);
  return proc;
}

async function until(what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await Bun.sleep(100);
  }
  throw new Error(`${what} did not happen within ${ms / 1000} s`);
}

/** The publisher: the clip, looped, copied (no encode) to `url`. */
const pusher = (clip: string, url: string) =>
  spawn([
    "ffmpeg",
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-re",
    "-stream_loop",
    "-1",
    "-i",
    clip,
    "-c",
    "copy",
    "-f",
    "rtsp",
    "-rtsp_transport",
    "tcp",
    url,
  ]);

/** CPU (% of one core) of each process tree over `seconds`, and the machine's busy % (both cores = 100). */
async function measure(roots: Record<string, Subprocess>, seconds: number): Promise<Record<string, number> & { machine: number }> {
  const begin = Object.fromEntries(Object.entries(roots).map(([k, p]) => [k, sampleCpu(processTree(p.pid))]));
  const m0 = machineTicks();
  await Bun.sleep(seconds * 1000);
  const m1 = machineTicks();
  const out: Record<string, number> = {};
  for (const [k, p] of Object.entries(roots)) out[k] = cpuPercent(begin[k]!, sampleCpu(processTree(p.pid)));
  return Object.assign(out, { machine: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total) });
}

interface GlasscastRound {
  idle: number;
  reader: number;
  pusher: number;
  fps: number;
  readerFps: number;
  rss: number | null;
  machine: number;
}
interface FfmpegRound {
  listener: number;
  pusher: number;
  machine: number;
}

async function glasscastRound(o: Options, clip: string): Promise<GlasscastRound> {
  const port = freePort();
  const rtspPort = freePort();
  const head = o.binary ? [o.binary] : [process.execPath, "run", "src/cli.ts"];
  const server = spawn([
    ...head,
    "--source",
    "door=rtsp-push:door",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--rtsp-port",
    String(rtspPort),
    "--ingest-token",
    TOKEN,
    "--log-level",
    "warn",
  ]);
  const state = async () => (await (await fetch(`http://127.0.0.1:${port}/state`)).json()) as { streams: { framesCaptured: number }[] };
  try {
    await until("glasscast serving", 20_000, async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok);
    const push = pusher(clip, `rtsp://bench:${TOKEN}@127.0.0.1:${rtspPort}/door`);
    try {
      await until("pictures from the publisher", 20_000, async () => (await state()).streams[0]!.framesCaptured > 30);
      await Bun.sleep(1000);
      const f0 = (await state()).streams[0]!.framesCaptured;
      const idle = await measure({ server, push }, o.duration);
      const fps = ((await state()).streams[0]!.framesCaptured - f0) / o.duration;
      const reader = await RtspClient.connect("127.0.0.1", rtspPort);
      try {
        await reader.play(`rtsp://127.0.0.1:${rtspPort}/door`, { Authorization: `Basic ${Buffer.from(`bench:${TOKEN}`).toString("base64")}` });
        await until("the reader's first pictures", 10_000, () => reader.counts.accessUnits > 30);
        const a0 = reader.counts.accessUnits;
        const withReader = await measure({ server, push }, o.duration);
        const readerFps = (reader.counts.accessUnits - a0) / o.duration;
        return {
          idle: idle.server!,
          reader: withReader.server!,
          pusher: (idle.push! + withReader.push!) / 2,
          fps,
          readerFps,
          rss: rssMb(server.pid),
          machine: (idle.machine + withReader.machine) / 2,
        };
      } finally {
        reader.close();
      }
    } finally {
      await stopTree(push);
    }
  } finally {
    await stopTree(server);
  }
}

async function ffmpegRound(o: Options, clip: string): Promise<FfmpegRound> {
  const port = freePort();
  const listener = spawn([
    "ffmpeg",
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-rtsp_flags",
    "listen",
    "-i",
    `rtsp://127.0.0.1:${port}/door`,
    "-c",
    "copy",
    "-f",
    "h264",
    "-y",
    "/dev/null",
  ]);
  try {
    // The listener takes one connection: it cannot be probed, so the publisher tries again until it stays connected.
    let push = pusher(clip, `rtsp://127.0.0.1:${port}/door`);
    for (let tries = 1; ; tries++) {
      await Bun.sleep(3000);
      if (push.exitCode === null) break;
      if (tries === 8 || listener.exitCode !== null) throw new Error("the publisher could not push to ffmpeg's listener");
      push = pusher(clip, `rtsp://127.0.0.1:${port}/door`);
    }
    try {
      const m = await measure({ listener, push }, o.duration);
      return { listener: m.listener!, pusher: m.push!, machine: m.machine };
    } finally {
      await stopTree(push);
    }
  } finally {
    await stopTree(listener);
  }
}

await runBenchmark("rtsp-ingest", async () => {
  const o = CLI.parseOrExit();
  installExitHandlers();
  const dir = mkdtempSync(join(tmpdir(), "glasscast-bench-ingest-"));
  try {
    const clip = join(dir, "clip.mp4");
    console.error("encoding the 1280x720 30 fps clip once…");
    const enc = Bun.spawnSync([
      ...testsrcInput(1280, 720, 30),
      "-t",
      "10",
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-tune",
      "zerolatency",
      "-b:v",
      "2500k",
      "-g",
      "30",
      "-pix_fmt",
      "yuv420p",
      "-y",
      clip,
    ]);
    if (enc.exitCode !== 0) throw new Error("ffmpeg could not encode the clip");
    const g: GlasscastRound[] = [];
    const f: FfmpegRound[] = [];
    for (let r = 1; r <= o.rounds; r++) {
      console.error(`round ${r}/${o.rounds}: glasscast…`);
      g.push(await glasscastRound(o, clip));
      console.error(`round ${r}/${o.rounds}: ffmpeg's listener…`);
      f.push(await ffmpegRound(o, clip));
    }
    const rows = g.map(
      (x, i) =>
        `| ${i + 1} | ${fixed(x.idle)} | ${fixed(x.reader)} | ${fixed(f[i]!.listener)} | ${fixed(x.fps)} | ${fixed(x.readerFps)} | ${fixed((x.pusher + f[i]!.pusher) / 2)} | ${fixed((x.machine + f[i]!.machine) / 2)} |`,
    );
    console.log(
      [
        `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC · ${cpus().length} cores (${cpus()[0]?.model.trim() ?? "?"}) · Bun ${Bun.version} · ${o.rounds} interleaved rounds, ${o.duration} s per case`,
        "",
        "Publisher: ffmpeg `-re -stream_loop -1 -c copy -f rtsp -rtsp_transport tcp`, 1280x720 at 30 fps, 2.5 Mbit/s, a keyframe a second.",
        "",
        "| Round | glasscast, no viewer: CPU % | glasscast, 1 RTSP reader: CPU % | floor: ffmpeg listener copying to /dev/null: CPU % | pictures/s into the stream | pictures/s at the reader | publisher CPU % | machine busy % |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...rows,
        `| median (min–max) | ${spread(g.map((x) => x.idle))} | ${spread(g.map((x) => x.reader))} | ${spread(f.map((x) => x.listener))} | ${spread(g.map((x) => x.fps))} | ${spread(g.map((x) => x.readerFps))} | | |`,
        "",
        `glasscast RSS at the end of each round (MB): ${g.map((x) => fixed(x.rss)).join(", ")}. CPU: % of one core from /proc (utime+stime) of the process and its children (glasscast runs none here: no encoder, no decoder without an MJPEG viewer). The reader runs in the benchmark's process. Machine busy: both cores = 100.`,
      ].join("\n"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
