/**
 * One --theme-dir asset (the theme's 14 kB stylesheet) asked over and over:
 * glasscast's hand-written route against @elysiajs/static behind the same
 * guard, both in one server process (lib/theme-static-server.ts), rounds
 * interleaved (the order swapped each round). Prints requests/s and latency
 * per variant with their spread over rounds, the server's and this client's
 * CPU, how busy the machine was, and whether each serves a file edited
 * while it runs whole (a --theme-dir file may be edited at any time).
 *
 *   bun run scripts/bench/theme-static.ts [--duration 3] [--rounds 6] [--connections 8]
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forEachOption, parseOrExit, positive, UsageError } from "./lib/args.ts";
import { ownChild, runBenchmark } from "./lib/children.ts";
import { cpuPercent, machineTicks, processTree, sampleCpu } from "./lib/proc-stats.ts";
import { fixed, median } from "./lib/report.ts";
import { REPO_ROOT } from "./lib/server-process.ts";

const USAGE = `usage: bun run scripts/bench/theme-static.ts [options]
  --duration S      seconds per round and variant (default 3)
  --rounds N        rounds, each variant once per round (default 6)
  --connections N   requests in flight, each on its own keep-alive loop (default 8)`;

interface Options {
  duration: number;
  rounds: number;
  connections: number;
}

function parse(argv: string[]): Options {
  const o: Options = { duration: 3, rounds: 6, connections: 8 };
  forEachOption(argv, (flag, value, arg) => {
    if (flag === "--duration") o.duration = positive("duration", value(), false, 600);
    else if (flag === "--rounds") o.rounds = positive("rounds", value(), true, 100);
    else if (flag === "--connections") o.connections = positive("connections", value(), true, 256);
    else throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
  });
  return o;
}

interface Round {
  rps: number;
  latencies: number[];
  serverCpu: number;
  clientCpu: number;
  busy: number;
}

/** `connections` loops asking `url` for `seconds`; every answer read whole and checked. */
async function round(url: string, o: Options, serverPid: number): Promise<Round> {
  const latencies: number[] = [];
  const end = performance.now() + o.duration * 1000;
  const server0 = sampleCpu(processTree(serverPid));
  const client0 = process.cpuUsage();
  const machine0 = machineTicks();
  const t0 = performance.now();
  const loop = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      const res = await fetch(url);
      const bytes = (await res.arrayBuffer()).byteLength;
      if (res.status !== 200 || bytes === 0) throw new Error(`${url} answered ${res.status} with ${bytes} bytes`);
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: o.connections }, loop));
  const seconds = (performance.now() - t0) / 1000;
  const client = process.cpuUsage(client0);
  const machine1 = machineTicks();
  return {
    rps: latencies.length / seconds,
    latencies,
    serverCpu: cpuPercent(server0, sampleCpu(processTree(serverPid))),
    clientCpu: (client.user + client.system) / 1e4 / seconds,
    busy: (100 * (machine1.busy - machine0.busy)) / Math.max(1, machine1.total - machine0.total),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function row(name: string, rounds: Round[], edited: string): string {
  const rps = rounds.map((r) => r.rps);
  const all = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const m = (f: (r: Round) => number) => fixed(median(rounds.map(f)));
  return (
    `| ${name} | ${fixed(median(rps), 0)} (${fixed(Math.min(...rps), 0)}–${fixed(Math.max(...rps), 0)}) | ` +
    `${fixed(percentile(all, 50), 2)} | ${fixed(percentile(all, 99), 2)} | ${m((r) => r.serverCpu)} | ${m((r) => (r.serverCpu * 1e4) / r.rps)} | ${m((r) => r.clientCpu)} | ${m((r) => r.busy)} | ${edited} |`
  );
}

async function main(o: Options): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "theme-static-"));
  try {
    mkdirSync(join(dir, "static", "css"), { recursive: true });
    copyFileSync(join(REPO_ROOT, "web", "static", "css", "glasscast.css"), join(dir, "static", "css", "glasscast.css"));
    const proc = Bun.spawn([process.execPath, "run", join(REPO_ROOT, "scripts", "bench", "lib", "theme-static-server.ts"), dir], {
      stdout: "pipe",
      stderr: "inherit",
    });
    ownChild(proc);
    const reader = proc.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the server stopped before it listened");
      text += new TextDecoder().decode(value);
    }
    const ports = JSON.parse(text) as { handWritten: number; plugin: number };
    const variants = [
      { name: "hand-written (routes/static.ts)", url: `http://127.0.0.1:${ports.handWritten}/static/css/glasscast.css`, rounds: [] as Round[] },
      { name: "@elysiajs/static behind the guard", url: `http://127.0.0.1:${ports.plugin}/static/css/glasscast.css`, rounds: [] as Round[] },
    ];
    for (const v of variants) await round(v.url, { ...o, duration: 1 }, proc.pid); // warm-up
    for (let i = 0; i < o.rounds; i++) {
      for (const v of i % 2 ? [...variants].reverse() : variants) v.rounds.push(await round(v.url, o, proc.pid));
    }
    console.log(`One 14 kB --theme-dir stylesheet, ${o.connections} requests in flight, ${o.rounds} interleaved rounds of ${o.duration} s each.\n`);
    console.log(
      "| Variant | Requests/s median (min–max over rounds) | Latency p50 (ms) | p99 (ms) | Server CPU % | Server CPU µs per request | Client CPU % | Machine busy % | An edited file served whole |",
    );
    console.log("|:---|---:|---:|---:|---:|---:|---:|---:|:---|");
    // A --theme-dir file may be edited while glasscast runs: the next answer must be the new file, whole.
    const css = join(dir, "static", "css", "glasscast.css");
    writeFileSync(css, `${readFileSync(css, "utf8")}\nbody { background: rgb(1, 2, 3); }\n`);
    const edited = readFileSync(css, "utf8");
    for (const v of variants) {
      const got = await (await fetch(v.url)).text();
      console.log(row(v.name, v.rounds, got === edited ? "yes" : `no: ${Buffer.byteLength(got)} of ${Buffer.byteLength(edited)} bytes`));
    }
    const [a, b] = variants.map((v) => median(v.rounds.map((r) => r.rps)));
    console.log(`\nRequests/s, hand-written ÷ plugin (medians): ${fixed(a! / b!, 2)}. CPU % is of one core.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const options = parseOrExit("theme-static", USAGE, () => parse(process.argv.slice(2)));
await runBenchmark("theme-static", () => main(options));
