/**
 * HLS origin cost behind a cache vs direct (issue 13): one glasscast server
 * (testsrc 1280x720 at 30 fps, one H.264 encoder, LL-HLS) and, interleaved in
 * rounds, the same cheap players reading it directly or through nginx
 * (proxy_cache + proxy_cache_lock, as test/hls-cache.test.ts runs it):
 * 1 player direct (the floor), N direct, N through nginx, 1 through nginx.
 * The claim checked: N players through a cache cost the origin about what 1
 * does. Prints a Markdown report on stdout (progress on stderr).
 *
 *   bun run scripts/bench/hls.ts [--duration 10] [--players 100] [--rounds 3] [--clients 4] [--settle 20] [--binary PATH]
 *
 * Players: lib/hls-players.ts processes (`--clients` of them share a round's
 * players; plain fetch loops with LL-HLS blocking reloads, each new part
 * fetched once, nothing decoded). Over each round's window, which starts once
 * every player has its first part: glasscast's CPU (its process tree, from
 * /proc: the server, capture and encoder), the origin's HLS requests per
 * second (/state outputs.hls.served), parts and whole segments each player
 * got, the players' CPU and nginx's CPU apart, RSS at the end; the
 * announced → fetched time of every part (see lib/hls-players.ts).
 */
import { rmSync } from "node:fs";
import { cpus } from "node:os";
import { NGINX, startCachingProxy, type CachingProxy } from "../../test/helpers/nginx-cache.ts";
import { binary, clients, duration, settle } from "./lib/args.ts";
import { cli, num } from "./lib/cli.ts";
import { installExitHandlers, ownChild, runBenchmark, stopTree } from "./lib/children.ts";
import type { HlsPlayerMessage } from "./lib/hls-players.ts";
import { endAll, spawnShares } from "./lib/json-lines-child.ts";
import { type CpuSample, cpuPercent, processTree, rssMb, sampleCpu } from "./lib/proc-stats.ts";
import { busyPct, type RoundSample, sampleRound } from "./lib/sampling.ts";
import { fixed, median, percentile, spread } from "./lib/stats.ts";
import { freePort, startServer, type RunningServer } from "./lib/server-process.ts";

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const PLAYERS_SCRIPT = new URL("./lib/hls-players.ts", import.meta.url).pathname;

const CLI = cli("hls", {
  duration: duration(10, 3600, "measuring window per configuration and round, seconds"),
  players: num({ flag: "players", default: 100, max: 1000, whole: true, help: "players of the large configurations" }),
  rounds: num({ flag: "rounds", default: 3, max: 20, whole: true, help: "rounds of the four configurations, interleaved" }),
  clients: { ...clients("player processes sharing a configuration's players"), default: 4 },
  settle: { ...settle(20), help: "longest wait for every player's first part before a window" },
  binary: binary(),
});
type Options = ReturnType<typeof CLI.parse>;

const log = (message: string) => process.stderr.write(`${message}\n`);

/** The caching proxy the players go through (test/helpers/nginx-cache.ts), owned like every child. */
async function startNginx(upstream: number): Promise<CachingProxy> {
  const proxy = await startCachingProxy(upstream, freePort(), { accessLog: false, workerConnections: 4096, upstreamKeepalive: true }, "inherit");
  ownChild(proxy.proc);
  return proxy;
}

type Served = { playlists: number; segments: number; parts: number; inits: number };

async function served(server: RunningServer): Promise<Served> {
  const state = (await (await fetch(`http://127.0.0.1:${server.port}/state`)).json()) as { streams: { outputs: { hls: { served: Served } | null } }[] };
  const s = state.streams[0]?.outputs.hls?.served;
  if (!s) throw new Error("/state has no outputs.hls (is HLS on?)");
  return s;
}

type Sample = RoundSample & { nginx: CpuSample };
const sample = (server: RunningServer, playerPids: number[], nginx: CachingProxy): Sample => ({
  ...sampleRound(server.proc.pid, playerPids),
  nginx: sampleCpu(processTree(nginx.proc.pid)),
});

interface Config {
  label: string;
  players: number;
  via: "direct" | "nginx";
}

interface Result {
  config: Config;
  serverCpuPct: number;
  originRps: number;
  originByKind: Served;
  partsMin: number;
  partsMedian: number;
  segmentsMin: number;
  segmentsMedian: number;
  failed: number;
  errors: number;
  playersCpuPct: number;
  nginxCpuPct: number;
  serverRssMb: number | null;
  nginxRssMb: number | null;
  machineBusyPct: number;
  deliveredMBps: number;
  delays: number[];
  /** Per part fetched: wall-clock ms from the first blocking reload answer (of any player in this configuration) listing it to this player's last byte of it. */
  behind: number[];
  mainCpuPct: number;
}

async function runConfig(server: RunningServer, nginx: CachingProxy, c: Config, o: Options, notes: string[]): Promise<Result> {
  const port = c.via === "direct" ? server.port : nginx.port;
  const url = `http://127.0.0.1:${port}/hls/index.m3u8`;
  const procs = spawnShares<HlsPlayerMessage>(PLAYERS_SCRIPT, c.players, o.clients, ["--url", url, "--max-seconds", String(o.settle + o.duration + 60)]);
  try {
    let failed = 0;
    const deadline = performance.now() + (o.settle + 30) * 1000;
    for (const r of procs) {
      const ready = await r.next("ready", Math.max(0, deadline - performance.now()));
      if (!ready) throw new Error("a player process never got ready");
      failed += ready.errors.length;
      for (const e of new Set(ready.errors)) notes.push(`${c.label}: ${ready.errors.filter((x) => x === e).length} × ${e}`);
    }
    const pids = procs.map((r) => r.pid);
    for (const r of procs) r.send("mark");
    for (const r of procs) await r.next("marked", 5000);
    const servedBefore = await served(server);
    const begin = sample(server, pids, nginx);
    await Bun.sleep(o.duration * 1000);
    const end = sample(server, pids, nginx);
    const servedAfter = await served(server);
    const serverRss = processTree(server.proc.pid).reduce((s, t) => s + (rssMb(t.pid) ?? 0), 0);
    const nginxRss = rssMb(nginx.proc.pid);
    for (const r of procs) r.send("stop");
    const parts: number[] = [];
    const segments: number[] = [];
    const delays: number[] = [];
    const listed = new Map<string, number>();
    const fetchedAt: [string, number][] = [];
    let bytes = 0;
    let errors = 0;
    let seconds = o.duration;
    for (const r of procs) {
      const result = await r.next("result", 10_000);
      if (!result) throw new Error("a player process gave no result");
      seconds = result.seconds;
      delays.push(...result.announcedToFetchedMs);
      for (const [uri, t] of Object.entries(result.firstListedAt)) listed.set(uri, Math.min(t, listed.get(uri) ?? Infinity));
      fetchedAt.push(...result.fetchedAt);
      for (const pl of result.players) {
        parts.push(pl.parts);
        segments.push(pl.segments);
        bytes += pl.bytes;
        errors += pl.errors;
        if (pl.error) failed++;
      }
    }
    const windowS = (end.server.at - begin.server.at) / 1000;
    const byKind: Served = {
      playlists: servedAfter.playlists - servedBefore.playlists,
      segments: servedAfter.segments - servedBefore.segments,
      parts: servedAfter.parts - servedBefore.parts,
      inits: servedAfter.inits - servedBefore.inits,
    };
    return {
      config: c,
      serverCpuPct: cpuPercent(begin.server, end.server),
      originRps: (byKind.playlists + byKind.segments + byKind.parts + byKind.inits) / windowS,
      originByKind: byKind,
      partsMin: Math.min(...parts),
      partsMedian: median(parts),
      segmentsMin: Math.min(...segments),
      segmentsMedian: median(segments),
      failed,
      errors,
      playersCpuPct: cpuPercent(begin.client, end.client),
      nginxCpuPct: cpuPercent(begin.nginx, end.nginx),
      serverRssMb: serverRss,
      nginxRssMb: nginxRss,
      machineBusyPct: busyPct(begin, end),
      deliveredMBps: bytes / seconds / 1e6,
      delays,
      mainCpuPct: cpuPercent(begin.main, end.main),
      behind: fetchedAt.flatMap(([uri, t]) => (listed.has(uri) ? [t - listed.get(uri)!] : [])),
    };
  } finally {
    await endAll(procs);
  }
}

async function main(): Promise<void> {
  const o = CLI.parseOrExit();
  installExitHandlers();
  log("starting the server…");
  const server = await startServer({ binary: o.binary, width: WIDTH, height: HEIGHT, fps: FPS });
  log(`server ready: http 127.0.0.1:${server.port} (pid ${server.proc.pid})`);
  const nginx = await startNginx(server.port);
  log(`nginx ready: 127.0.0.1:${nginx.port} (pid ${nginx.proc.pid})`);
  const configs: Config[] = [
    { label: "1 player, direct (floor)", players: 1, via: "direct" },
    { label: `${o.players} players, direct`, players: o.players, via: "direct" },
    { label: `${o.players} players, through nginx`, players: o.players, via: "nginx" },
    { label: "1 player, through nginx", players: 1, via: "nginx" },
  ];
  const notes: string[] = [];
  const results = new Map<Config, Result[]>(configs.map((c) => [c, []]));
  try {
    for (let round = 1; round <= o.rounds; round++) {
      for (const c of configs) {
        log(`round ${round}/${o.rounds}: ${c.label}, ${o.duration} s window…`);
        const r = await runConfig(server, nginx, c, o, notes);
        results.get(c)!.push(r);
        log(
          `  glasscast CPU ${fixed(r.serverCpuPct)} %, origin ${fixed(r.originRps)} req/s, parts min ${r.partsMin}, nginx CPU ${fixed(r.nginxCpuPct)} %, players CPU ${fixed(r.playersCpuPct)} %`,
        );
        await Bun.sleep(500);
      }
    }
  } finally {
    await stopTree(nginx.proc);
    rmSync(nginx.dir, { recursive: true, force: true });
    const leftovers = await stopTree(server.proc);
    if (leftovers.length) notes.push(`the server left ${leftovers.map((s) => `${s.comm} (pid ${s.pid})`).join(", ")} running; killed`);
  }

  const rows = configs.map((c) => {
    const rs = results.get(c)!;
    const all = (f: (r: Result) => number) => rs.map(f);
    const delays = rs.flatMap((r) => r.delays);
    const behind = rs.flatMap((r) => r.behind);
    const kinds = rs.map((r) => r.originByKind);
    const perS = (k: keyof Served) => kinds.reduce((s, x) => s + x[k], 0) / (rs.length * o.duration);
    return (
      `| ${c.label} | ${spread(all((r) => r.serverCpuPct))} | ${spread(all((r) => r.mainCpuPct))} | ${spread(all((r) => r.originRps))} | ` +
      `${fixed(perS("playlists"))} / ${fixed(perS("parts"))} / ${fixed(perS("segments"))} | ` +
      `${Math.min(...all((r) => r.partsMin))} / ${fixed(median(all((r) => r.partsMedian)), 0)} | ` +
      `${Math.min(...all((r) => r.segmentsMin))} / ${fixed(median(all((r) => r.segmentsMedian)), 0)} | ` +
      `${rs.reduce((s, r) => s + r.failed, 0)} / ${rs.reduce((s, r) => s + r.errors, 0)} | ` +
      `${spread(all((r) => r.playersCpuPct))} | ${c.via === "nginx" ? spread(all((r) => r.nginxCpuPct)) : "—"} | ` +
      `${fixed(median(all((r) => r.serverRssMb ?? NaN)))} | ${c.via === "nginx" ? fixed(median(all((r) => r.nginxRssMb ?? NaN))) : "—"} | ` +
      `${fixed(median(all((r) => r.deliveredMBps)), 1)} | ${fixed(median(delays), 0)} / ${fixed(percentile(delays, 95), 0)} | ` +
      `${fixed(median(behind), 0)} / ${fixed(percentile(behind, 95), 0)} / ${fixed(Math.max(...behind), 0)} | ` +
      `${spread(all((r) => r.machineBusyPct))} |`
    );
  });
  const floor = results.get(configs[0]!)!;
  const cached = results.get(configs[2]!)!;
  const direct = results.get(configs[1]!)!;
  const med = (rs: Result[], f: (r: Result) => number) => median(rs.map(f));
  const cpuModel = cpus()[0]?.model ?? "unknown CPU";
  console.log(
    [
      `## HLS: origin cost behind a cache vs direct, ${WIDTH}x${HEIGHT} at ${FPS} fps (testsrc, one libx264 encoder, LL-HLS)`,
      "",
      `${new Date().toISOString().slice(0, 10)} · ${cpus().length} cores (${cpuModel}) · Bun ${Bun.version} · ` +
        `server: \`${server.command.slice(0, o.binary ? 1 : 3).join(" ")}\` · ${o.rounds} rounds of the four configurations, interleaved · ` +
        `window ${o.duration} s each · players in ${o.clients} separate process(es): fetch loops with blocking reloads, each new part fetched once, nothing decoded · ` +
        `nginx ${NGINX}, 1 worker, proxy_cache + proxy_cache_lock`,
      "",
      "| Configuration | glasscast CPU % (tree) | glasscast process alone CPU % | Origin req/s | Origin playlists / parts / segments per s | Parts per player min / median | Whole segments per player min / median | Players failed / 4xx-5xx | Players' CPU % | nginx CPU % | glasscast RSS (MB) | nginx RSS (MB) | Delivered (MB/s) | Announced → fetched median / p95 (ms) | Behind first announcement median / p95 / max (ms) | Machine busy % |",
      "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...rows,
      "",
      `Figures with a range: median (lowest–highest) over the ${o.rounds} rounds. glasscast CPU: the server process and its children (capture, H.264 encoder), % of one core, over the window; the process alone (capture and encoder left out) is where per-request work is done; ` +
        "RSS: the same tree's, summed, at the window's end. Origin req/s: HLS answers the origin counted (/state `outputs.hls.served`: playlists, parts, segments, init segments) per second of window. " +
        "Parts / whole segments: what each player fetched inside the window (a whole segment: every one of its parts). Players' CPU: the player processes; nginx CPU apart. " +
        "Announced → fetched: from the moment a blocking reload answer that first listed a part arrived at a player to that part's last byte in the player, every part of every player; " +
        "the origin answers a blocking reload when the part is written, so this is how long after the origin announced a part the player had it — not glass-to-glass (no clock is read from the pictures). " +
        "Behind first announcement: for every part every player fetched, the wall clock (one machine) from the first blocking reload answer of any player of that configuration listing the part " +
        "to this player having its last byte — how far the players trail the earliest sign the part exists; direct, every answer comes from the origin as the part is written; through nginx, the one request let through to the origin gets that answer and the others wait on proxy_cache_lock. " +
        "Machine busy: both cores = 100 %.",
      "",
      `Claim checked: ${o.players} players through the cache cost the origin ${fixed(med(cached, (r) => r.serverCpuPct))} % CPU ` +
        `(process alone ${fixed(med(cached, (r) => r.mainCpuPct))} %) and ${fixed(med(cached, (r) => r.originRps))} req/s, ` +
        `against ${fixed(med(floor, (r) => r.serverCpuPct))} % (${fixed(med(floor, (r) => r.mainCpuPct))} %) and ${fixed(med(floor, (r) => r.originRps))} req/s for 1 player direct (the floor), ` +
        `and ${fixed(med(direct, (r) => r.serverCpuPct))} % (${fixed(med(direct, (r) => r.mainCpuPct))} %) and ${fixed(med(direct, (r) => r.originRps))} req/s for ${o.players} players direct (medians over rounds).`,
      ...(notes.length ? ["", "Notes:", ...[...new Set(notes)].map((n) => `- ${n}`)] : []),
    ].join("\n"),
  );
}

await runBenchmark("hls", main);
