/**
 * Wrong logins must never slow the video. A server with an argon2 --auth
 * hash streams 640x360 at --fps to MJPEG viewers (who hold a viewer token);
 * first a window without logins (the baseline, same run), then a flood of
 * --logins wrong logins, each from an address of its own (127.1.x.1), every
 * one asked again after a 503 until its password has been checked. Each
 * viewer's frame rate in the flood is compared with its own baseline.
 *
 *   bun run scripts/bench/login-flood.ts [--duration 10] [--logins 200] [--viewers 3] [--fps 30] [--binary PATH]
 */
import { binary, duration, settle } from "./lib/args.ts";
import { cli, num } from "./lib/cli.ts";
import { runBenchmark } from "./lib/children.ts";
import { floodAddresses, floodLogins, type FloodFigures } from "./lib/login-flood.ts";
import { connectMjpeg } from "../../src/bench/mjpeg-connection.ts";
import { MjpegCounter } from "../../src/bench/mjpeg-counter.ts";
import { cpuPercent, processTree, sampleCpu } from "./lib/proc-stats.ts";
import { fixed } from "./lib/stats.ts";
import { targetsTable } from "./lib/table.ts";
import { startServer, type RunningServer } from "./lib/server-process.ts";

const TARGET_SHARE = 0.95;
const TOKEN = "login-flood-viewer-token-0123456789";
const PASSWORD = "the right password";

const CLI = cli("login-flood", {
  duration: duration(10, 3600, "the baseline window, seconds"),
  binary: binary(),
  settle: settle(),
  logins: num({ flag: "logins", default: 200, max: 5000, whole: true, help: "wrong logins in the flood, one address each" }),
  viewers: num({ flag: "viewers", default: 3, max: 200, whole: true, help: "MJPEG viewers" }),
  fps: num({ flag: "fps", default: 30, max: 60, whole: true, help: "the source's frame rate" }),
});
type Options = ReturnType<typeof CLI.parse>;

interface Window {
  seconds: number;
  fps: number[];
  captureFps: number;
  cpu: number;
  clientCpu: number;
}

async function framesCaptured(server: RunningServer): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${server.port}/state`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}` },
  });
  if (res.status !== 200) throw new Error(`GET /state answered ${res.status}`);
  const state = (await res.json()) as { streams: { framesCaptured: number }[] };
  return state.streams[0]!.framesCaptured;
}

/** Frames each viewer got, and the capture made, while `during` runs. */
async function measure(server: RunningServer, viewers: MjpegCounter[], during: () => Promise<unknown>): Promise<Window> {
  const parts = viewers.map((v) => v.parts);
  const captured = await framesCaptured(server);
  const cpu = sampleCpu(processTree(server.proc.pid));
  const own = process.cpuUsage();
  const start = performance.now();
  await during();
  const seconds = (performance.now() - start) / 1000;
  const cpuEnd = sampleCpu(processTree(server.proc.pid));
  const ownUsed = process.cpuUsage(own);
  const fps = viewers.map((v, i) => (v.parts - parts[i]!) / seconds);
  return {
    seconds,
    fps,
    captureFps: ((await framesCaptured(server)) - captured) / seconds,
    cpu: cpuPercent(cpu, cpuEnd),
    clientCpu: (100 * (ownUsed.user + ownUsed.system)) / 1e6 / seconds,
  };
}

function report(o: Options, baseline: Window, flood: Window, figures: FloodFigures): void {
  const shares = flood.fps.map((f, i) => f / baseline.fps[i]!);
  const worst = Math.min(...shares);
  const row = (name: string, w: Window) =>
    `| ${name} | ${fixed(w.seconds)} | ${w.fps.map((f) => fixed(f)).join(", ")} | ${fixed(w.captureFps)} | ${fixed(w.cpu)} | ${fixed(w.clientCpu)} |`;
  console.log(`\n### Login flood (${o.logins} wrong logins from ${o.logins} addresses, argon2id hash, 640x360 at ${o.fps} fps, ${o.viewers} MJPEG viewers)\n`);
  console.log("| Window | Seconds | Viewers' fps | Capture fps | Server CPU % (with ffmpeg) | This client's CPU % |");
  console.log("|:---|---:|:---|---:|---:|---:|");
  console.log(row("baseline, no logins", baseline));
  console.log(row("login flood", flood));
  console.log(
    `\nFlood: ${figures.checked} passwords checked (401), ${figures.busy} answers 503 (queue full, asked again), ` +
      `${figures.limited} answers 429, ${figures.other} other, over ${fixed(figures.ms / 1000)} s (${fixed(figures.checked / (figures.ms / 1000))} checks a second).`,
  );
  const ok = worst >= TARGET_SHARE && figures.checked === o.logins;
  const target = "Every viewer's fps during the flood, vs its own baseline";
  console.log(`\n${targetsTable([{ target, goal: `≥ ${TARGET_SHARE * 100} %`, measured: `lowest ${fixed(worst * 100)} %`, ok }])}`);
}

await runBenchmark("login-flood", async () => {
  const o = CLI.parseOrExit();
  const hash = await Bun.password.hash(PASSWORD, { algorithm: "argon2id" });
  const server = await startServer({
    binary: o.binary,
    width: 640,
    height: 360,
    fps: o.fps,
    args: ["--auth", `admin:${hash}`, "--viewer-token", TOKEN, "--no-webrtc"],
    readyPath: `/snapshot.jpg?token=${TOKEN}`,
  });
  const viewers = Array.from({ length: o.viewers }, () => new MjpegCounter());
  for (const counter of viewers) {
    connectMjpeg(
      server.port,
      counter,
      {
        opened() {},
        failed(message) {
          counter.error ??= message;
        },
        closing: () => false,
      },
      `/video?token=${TOKEN}`,
    );
  }
  const settleEnd = performance.now() + o.settle * 1000;
  while (viewers.some((v) => v.parts < 2) && performance.now() < settleEnd) await Bun.sleep(50);
  if (viewers.some((v) => v.parts < 2)) throw new Error(`not every viewer had a picture after ${o.settle} s`);
  await framesCaptured(server); // the admin's login is checked once here, then remembered
  const baseline = await measure(server, viewers, () => Bun.sleep(o.duration * 1000));
  let figures: FloodFigures | null = null;
  const flood = await measure(server, viewers, async () => {
    figures = await floodLogins(server.port, floodAddresses(o.logins), 1);
  });
  const broken = viewers.find((v) => v.error !== null);
  if (broken) throw new Error(`a viewer's stream broke: ${broken.error}`);
  report(o, baseline, flood, figures!);
});
