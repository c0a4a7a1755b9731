/**
 * Startup benchmark of the one-file programs (scripts/build): binary size,
 * time from exec to the first answered request, RSS idle and with 10 MJPEG
 * viewers. The x64 binary natively; the arm64 one under qemu as a Cortex-A53
 * (marked emulated: its times say nothing about a real Pi, they only show it
 * runs). Prints a Markdown table and the targets; exits 0 either way.
 *
 *   bun run scripts/bench/startup.ts [--runs 5] [--no-arm64]
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { cli, num, toggle } from "./lib/cli.ts";
import { freePort } from "./lib/server-process.ts";
import { median } from "./lib/stats.ts";

const ROOT = join(import.meta.dir, "..", "..");
const DIST = join(ROOT, "dist");
const SYSROOT = process.env.GLASSCAST_ARM64_SYSROOT ?? "/var/cache/glasscast/arm64-sysroot";
const { runs: RUNS, arm64: withArm64 } = cli("startup", {
  runs: num({ flag: "runs", default: 5, max: 100, whole: true, help: "starts of each binary (the first also measures memory)" }),
  arm64: toggle({ flag: "no-arm64", sets: false, help: "leave out the arm64 binary under qemu" }),
}).parseOrExit();
const log = (m: string) => process.stderr.write(`${m}\n`);

interface Figures {
  firstAnswerMs: number[];
  idleRss: number;
  viewersRss: number;
  ffmpegRss: number;
}

function rssMb(pid: number): number {
  try {
    const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

function childrenRss(pid: number): number {
  const out = Bun.spawnSync(["pgrep", "-P", String(pid)])
    .stdout.toString()
    .trim();
  return out
    ? out
        .split("\n")
        .map(Number)
        .reduce((sum, child) => sum + rssMb(child), 0)
    : 0;
}

async function run(argv: string[], env: Record<string, string>, measureMemory: boolean): Promise<Figures | number> {
  const port = freePort();
  const started = performance.now();
  const proc = Bun.spawn([...argv, "--source", "testsrc", "--host", "127.0.0.1", "--port", String(port), "--no-webrtc", "--log-level", "error"], {
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    let first = -1;
    while (performance.now() - started < 60_000) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.ok) {
          first = performance.now() - started;
          break;
        }
      } catch {
        /* not listening yet */
      }
      await Bun.sleep(2);
    }
    if (first < 0) throw new Error(`${argv.join(" ")} never answered`);
    if (!measureMemory) return first;
    await Bun.sleep(3000);
    const idleRss = rssMb(proc.pid);
    const viewers = Array.from({ length: 10 }, () => new AbortController());
    for (const v of viewers) {
      void fetch(`http://127.0.0.1:${port}/video`, { signal: v.signal })
        .then(async (r) => {
          for await (const _ of r.body as ReadableStream<Uint8Array>) {
            /* read */
          }
        })
        .catch(() => {});
    }
    await Bun.sleep(3000);
    const figures = { firstAnswerMs: [first], idleRss, viewersRss: rssMb(proc.pid), ffmpegRss: childrenRss(proc.pid) };
    for (const v of viewers) v.abort();
    return figures;
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

async function measure(label: string, argv: string[], env: Record<string, string>, runs: number): Promise<Figures> {
  log(`${label}: ${runs} starts…`);
  const figures = (await run(argv, env, true)) as Figures;
  for (let i = 1; i < runs; i++) figures.firstAnswerMs.push((await run(argv, env, false)) as number);
  return figures;
}

const x64 = join(DIST, "glasscast-linux-x64");
const arm64 = join(DIST, "glasscast-linux-arm64");
if (!existsSync(x64) || !existsSync(arm64)) {
  log("building the binaries (scripts/build)…");
  const build = Bun.spawnSync(["bash", join(ROOT, "scripts", "build")], { cwd: ROOT, stderr: "inherit" });
  if (build.exitCode !== 0) process.exit(1);
}

const rows: { name: string; size: number; f: Figures; emulated: boolean }[] = [];
rows.push({ name: "glasscast-linux-x64", size: statSync(x64).size, f: await measure("x64", [x64], {}, RUNS), emulated: false });
const qemu = Bun.which("qemu-aarch64-static");
if (withArm64 && qemu && existsSync(SYSROOT)) {
  rows.push({
    name: "glasscast-linux-arm64 (qemu, Cortex-A53)",
    size: statSync(arm64).size,
    emulated: true,
    f: await measure("arm64 under qemu", [qemu, arm64], { QEMU_CPU: "cortex-a53", QEMU_LD_PREFIX: SYSROOT }, Math.min(RUNS, 3)),
  });
} else if (withArm64) {
  log("arm64 skipped: qemu-aarch64-static or the sysroot is missing (scripts/setup --test)");
}

const fmt = (n: number, d = 0) => n.toFixed(d);
console.log(
  `## Startup: the one-file programs\n\n${new Date().toISOString().slice(0, 10)} · source: testsrc 1280x720 at 30 fps · first answer: exec → first 200 on GET / (median of ${RUNS} starts)\n`,
);
console.log("| Binary | Size (MB) | First answer median / max (ms) | RSS idle (MB) | RSS with 10 MJPEG viewers (MB) | ffmpeg child RSS (MB) |");
console.log("|:---|---:|---:|---:|---:|---:|");
for (const { name, size, f, emulated } of rows) {
  console.log(
    `| ${name}${emulated ? " *emulated*" : ""} | ${fmt(size / 1e6)} | ${fmt(median(f.firstAnswerMs))} / ${fmt(Math.max(...f.firstAnswerMs))} | ${fmt(f.idleRss, 1)} | ${fmt(f.viewersRss, 1)} | ${fmt(f.ffmpegRss, 1)} |`,
  );
}
const native = rows[0]!.f;
const firstOk = median(native.firstAnswerMs) <= 150;
const rssOk = native.idleRss <= 80;
console.log(
  `\n**Targets** (x64): first answer ≤ 150 ms: ${fmt(median(native.firstAnswerMs))} ms ${firstOk ? "PASS" : "FAIL"}; idle RSS ≤ 80 MB: ${fmt(native.idleRss, 1)} MB ${rssOk ? "PASS" : "FAIL"}.`,
);
console.log("Emulated figures only show that the arm64 program starts and serves; qemu makes them many times slower than a real Pi.");
