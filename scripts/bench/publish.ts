/**
 * Publish benchmark: one glasscast server (testsrc 1280x720 at 30 fps, one
 * libx264 encoder) pushing to 1 and then 3 destinations of one kind, RTMP
 * (ffmpeg listening, `-c copy -f null`) and WHIP (a werift receiver behind
 * Bun.serve in this process). Per round, over a --duration s window once
 * every destination is live: H.264 encoder processes, CPU of the server
 * process, of its H.264 encoder and of its push children (ffmpeg -c copy),
 * access units each destination got, and this process's own CPU (the WHIP
 * receivers). The CPU a destination adds is the difference between the 3- and
 * the 1-destination round, halved. Prints Markdown on stdout, progress on
 * stderr; exits 0 when it ran.
 *
 *   bun run scripts/bench/publish.ts [--duration 10] [--kinds rtmp,whip]
 */
import type { Subprocess } from "bun";
import { startWhipEndpoint, type WhipEndpoint } from "../../test/helpers/publish-servers.ts";
import { duration } from "./lib/args.ts";
import { cli, names } from "./lib/cli.ts";
import { installExitHandlers, ownChild, runBenchmark, stopTree } from "./lib/children.ts";
import { cmdline, cpuPercent, processTree, sampleCpu, type CpuSample } from "./lib/proc-stats.ts";
import { freePort, startServer, type RunningServer } from "./lib/server-process.ts";

const log = (message: string) => process.stderr.write(`${message}\n`);

type Kind = "rtmp" | "whip";

interface Round {
  kind: Kind;
  destinations: number;
  encoders: number;
  serverCpu: number;
  encoderCpu: number;
  pushCpu: number;
  benchCpu: number;
  /** Access units per second handed to each destination (mean). */
  fpsPerDestination: number;
  live: number;
}

const CLI = cli("publish", {
  duration: duration(10, 600, "measuring window per round, seconds"),
  kinds: names({ flag: "kinds", default: ["rtmp", "whip"] as Kind[], choices: ["rtmp", "whip"] as const, help: "destination kinds, comma-separated" }),
});

interface Destinations {
  urls: string[];
  stop(): Promise<void>;
}

function rtmpListeners(n: number): Destinations {
  const procs: Subprocess[] = [];
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const url = `rtmp://127.0.0.1:${freePort()}/live/bench${i}`;
    const proc = Bun.spawn(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-listen", "1", "-i", url, "-c", "copy", "-f", "null", "-"], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    ownChild(proc);
    procs.push(proc);
    urls.push(url);
  }
  return {
    urls,
    stop: async () => {
      await Promise.all(procs.map((p) => stopTree(p)));
    },
  };
}

function whipEndpoints(n: number): Destinations {
  const endpoints: WhipEndpoint[] = Array.from({ length: n }, () => startWhipEndpoint());
  return {
    urls: endpoints.map((e) => e.url.replace(/^http:/, "whip+http:")),
    stop: async () => {
      await Promise.all(endpoints.map((e) => e.stop()));
    },
  };
}

interface PublishFigures {
  state: string;
  frames: number;
}
async function publishState(server: RunningServer): Promise<PublishFigures[]> {
  const res = await fetch(`http://127.0.0.1:${server.port}/state`);
  const st = (await res.json()) as { streams: { outputs: { publish: PublishFigures[] } }[] };
  return st.streams[0]!.outputs.publish;
}

function selfSample(): CpuSample {
  return sampleCpu(processTree(process.pid).slice(0, 1));
}

async function round(kind: Kind, n: number, duration: number): Promise<Round> {
  const dest = kind === "rtmp" ? rtmpListeners(n) : whipEndpoints(n);
  let server: RunningServer | null = null;
  try {
    server = await startServer({
      binary: null,
      width: 1280,
      height: 720,
      fps: 30,
      args: ["--webrtc-candidate", "127.0.0.1", ...dest.urls.flatMap((u) => ["--publish", u])],
    });
    const deadline = performance.now() + 30_000;
    while ((await publishState(server)).some((d) => d.state !== "live")) {
      if (performance.now() > deadline) throw new Error(`${kind} x${n}: not every destination went live within 30 s`);
      await Bun.sleep(200);
    }
    await Bun.sleep(2000);
    const tree = () => processTree(server!.proc.pid);
    const role = (pid: number) => {
      const cmd = cmdline(pid);
      return pid === server!.proc.pid ? "server" : cmd.includes("libx264") ? "encoder" : cmd.includes("pipe:0") && cmd.includes("-c copy") ? "push" : "other";
    };
    const before = tree();
    const beginAll = sampleCpu(before);
    const beginSelf = selfSample();
    const framesBefore = (await publishState(server)).map((d) => d.frames);
    await Bun.sleep(duration * 1000);
    const after = tree();
    const endAll = sampleCpu(after);
    const endSelf = selfSample();
    const framesAfter = (await publishState(server)).map((d) => d.frames);
    const cpuOf = (which: string) => {
      const pick = (s: CpuSample, stats: typeof after) => {
        const keys = new Set(stats.filter((p) => role(p.pid) === which).map((p) => `${p.pid}@${p.start}`));
        return { at: s.at, ticks: new Map([...s.ticks].filter(([k]) => keys.has(k))) };
      };
      return cpuPercent(pick(beginAll, after), pick(endAll, after));
    };
    const states = await publishState(server);
    return {
      kind,
      destinations: n,
      encoders: after.filter((p) => role(p.pid) === "encoder").length,
      serverCpu: cpuOf("server"),
      encoderCpu: cpuOf("encoder"),
      pushCpu: cpuOf("push"),
      benchCpu: cpuPercent(beginSelf, endSelf),
      fpsPerDestination: framesAfter.reduce((a, f, i) => a + (f - framesBefore[i]!), 0) / n / duration,
      live: states.filter((d) => d.state === "live").length,
    };
  } finally {
    if (server) await stopTree(server.proc);
    await dest.stop();
  }
}

const f1 = (x: number) => x.toFixed(1);

async function main(): Promise<void> {
  installExitHandlers();
  const { duration, kinds } = CLI.parseOrExit();
  const rounds: Round[] = [];
  for (const kind of kinds) {
    for (const n of [1, 3]) {
      log(`publish: ${kind} x${n}, ${duration} s…`);
      rounds.push(await round(kind, n, duration));
    }
  }
  const lines = [
    `Publishing testsrc 1280x720 at 30 fps, ${duration} s per round; CPU in % of one core, from /proc.`,
    "",
    "| destinations | H.264 encoders | live | AU/s each | server (bun) | encoder (ffmpeg) | push children (ffmpeg -c copy) | total | this process (receivers) |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rounds.map(
      (r) =>
        `| ${r.destinations} ${r.kind} | ${r.encoders} | ${r.live} | ${f1(r.fpsPerDestination)} | ${f1(r.serverCpu)} | ${f1(r.encoderCpu)} | ${f1(r.pushCpu)} | ${f1(r.serverCpu + r.encoderCpu + r.pushCpu)} | ${f1(r.benchCpu)} |`,
    ),
    "",
    "CPU added per destination ((3 destinations − 1) / 2, server process + push children):",
    "",
  ];
  for (const kind of kinds) {
    const one = rounds.find((r) => r.kind === kind && r.destinations === 1)!;
    const three = rounds.find((r) => r.kind === kind && r.destinations === 3)!;
    const added = (three.serverCpu + three.pushCpu - one.serverCpu - one.pushCpu) / 2;
    lines.push(`- ${kind}: ${f1(added)} % of one core per destination (encoder: ${f1(one.encoderCpu)} % with 1, ${f1(three.encoderCpu)} % with 3)`);
  }
  console.log(lines.join("\n"));
}

await runBenchmark("publish", main);
