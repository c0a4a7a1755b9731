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
import { duration } from "./lib/args.ts";
import { cli, num, type Options } from "./lib/cli.ts";
import { runBenchmark } from "./lib/children.ts";
import { allReady, endAll, type PoolChild, spawnChild } from "./lib/json-lines-child.ts";
import { cpuPercent } from "./lib/proc-stats.ts";
import { busyPct, sampleRound } from "./lib/sampling.ts";
import { REPO_ROOT } from "./lib/server-process.ts";
import { fixed, median, percentile, spread } from "./lib/stats.ts";
import { table } from "./lib/table.ts";
import type { ThemeServerMessage } from "./lib/theme-static-server.ts";

const SPECS = {
  duration: duration(3, 600, "seconds per round and variant"),
  rounds: num({ flag: "rounds", default: 6, max: 100, whole: true, help: "rounds, each variant once per round" }),
  connections: num({ flag: "connections", default: 8, max: 256, whole: true, help: "requests in flight, each on its own keep-alive loop" }),
};
const CLI = cli("theme-static", SPECS);
type Opts = Options<typeof SPECS>;

interface Round {
  rps: number;
  latencies: number[];
  serverCpu: number;
  clientCpu: number;
  busy: number;
}

/** `connections` loops asking `url` for `seconds`; every answer read whole and checked. */
async function round(url: string, o: Opts, serverPid: number): Promise<Round> {
  const latencies: number[] = [];
  const end = performance.now() + o.duration * 1000;
  const begin = sampleRound(serverPid, []);
  const client0 = process.cpuUsage();
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
  const after = sampleRound(serverPid, []);
  return {
    rps: latencies.length / seconds,
    latencies,
    serverCpu: cpuPercent(begin.server, after.server),
    clientCpu: (client.user + client.system) / 1e4 / seconds,
    busy: busyPct(begin, after),
  };
}

interface Variant {
  name: string;
  url: string;
  rounds: Round[];
  /** Whether it served a file edited while it ran whole. */
  edited: string;
}

const latency = (v: Variant, p: number) =>
  percentile(
    v.rounds.flatMap((r) => r.latencies),
    p,
  );
const med = (f: (r: Round) => number) => (v: Variant) => median(v.rounds.map(f));

const COLUMNS = [
  { title: "Variant", align: "l", value: (v: Variant) => v.name },
  {
    title: "Requests/s median (min–max over rounds)",
    align: "r",
    value: (v: Variant) =>
      spread(
        v.rounds.map((r) => r.rps),
        0,
      ),
  },
  { title: "Latency p50 (ms)", align: "r", digits: 2, value: (v: Variant) => latency(v, 50) },
  { title: "p99 (ms)", align: "r", digits: 2, value: (v: Variant) => latency(v, 99) },
  { title: "Server CPU %", align: "r", value: med((r) => r.serverCpu) },
  { title: "Server CPU µs per request", align: "r", value: med((r) => (r.serverCpu * 1e4) / r.rps) },
  { title: "Client CPU %", align: "r", value: med((r) => r.clientCpu) },
  { title: "Machine busy %", align: "r", value: med((r) => r.busy) },
  { title: "An edited file served whole", align: "l", value: (v: Variant) => v.edited },
] as const;

async function main(o: Opts): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "theme-static-"));
  const children: PoolChild<ThemeServerMessage>[] = [];
  try {
    mkdirSync(join(dir, "static", "css"), { recursive: true });
    copyFileSync(join(REPO_ROOT, "web", "static", "css", "glasscast.css"), join(dir, "static", "css", "glasscast.css"));
    const server = spawnChild<ThemeServerMessage>([
      process.execPath,
      "run",
      join(REPO_ROOT, "scripts", "bench", "lib", "theme-static-server.ts"),
      "--theme-dir",
      dir,
    ]);
    children.push(server);
    const ports = (await allReady([server], 30_000, "the theme-static server"))[0]!;
    const variants: Variant[] = [
      { name: "hand-written (routes/static.ts)", url: `http://127.0.0.1:${ports.handWritten}/static/css/glasscast.css`, rounds: [], edited: "" },
      { name: "@elysiajs/static behind the guard", url: `http://127.0.0.1:${ports.plugin}/static/css/glasscast.css`, rounds: [], edited: "" },
    ];
    for (const v of variants) await round(v.url, { ...o, duration: 1 }, server.pid); // warm-up
    for (let i = 0; i < o.rounds; i++) {
      for (const v of i % 2 ? [...variants].reverse() : variants) v.rounds.push(await round(v.url, o, server.pid));
    }
    console.log(`One 14 kB --theme-dir stylesheet, ${o.connections} requests in flight, ${o.rounds} interleaved rounds of ${o.duration} s each.\n`);
    // A --theme-dir file may be edited while glasscast runs: the next answer must be the new file, whole.
    const css = join(dir, "static", "css", "glasscast.css");
    writeFileSync(css, `${readFileSync(css, "utf8")}\nbody { background: rgb(1, 2, 3); }\n`);
    const edited = readFileSync(css, "utf8");
    for (const v of variants) {
      const got = await (await fetch(v.url)).text();
      v.edited = got === edited ? "yes" : `no: ${Buffer.byteLength(got)} of ${Buffer.byteLength(edited)} bytes`;
    }
    console.log(table(COLUMNS, variants));
    const [a, b] = variants.map((v) => median(v.rounds.map((r) => r.rps)));
    console.log(`\nRequests/s, hand-written ÷ plugin (medians): ${fixed(a! / b!, 2)}. CPU % is of one core.`);
  } finally {
    await endAll(children);
    rmSync(dir, { recursive: true, force: true });
  }
}

const options = CLI.parseOrExit();
await runBenchmark("theme-static", () => main(options));
