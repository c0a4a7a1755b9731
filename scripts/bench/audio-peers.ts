/**
 * Audio fan-out benchmark: what sound costs for 1, 5 and 20 WebRTC peers of
 * one stream, whose microphone is the fake ffmpeg's ALSA device (a tone,
 * paced like a device; test/fakes/ffmpeg) and whose picture is testsrc at
 * 320x240, 15 fps. Each round connects N werift peers (in a process of their
 * own) that take video and sound, or video alone — the floor, interleaved
 * with it in the same run on the same server — and measures over --duration s:
 * the server's own process (RTP numbering, SRTP and sending per peer), the
 * one Opus encoder (its ffmpeg; one whatever N), and the peers' process.
 *
 *   bun run scripts/bench/audio-peers.ts [--duration 8] [--peers 1,5,20] [--repeat 3]
 *
 * Prints a Markdown report on stdout (progress on stderr).
 */
import { join } from "node:path";
import { cpus } from "node:os";
import type { Subprocess } from "bun";
import { cli, list, num } from "./lib/cli.ts";
import { installExitHandlers, ownChild, runBenchmark, stopTree } from "./lib/children.ts";
import { cpuPercent, cmdline, processTree, sampleCpu, type ProcStat } from "./lib/proc-stats.ts";
import { median, spread } from "./lib/stats.ts";

const ROOT = join(import.meta.dir, "..", "..");
const log = (m: string) => process.stderr.write(`${m}\n`);

const {
  duration,
  peers: peerCounts,
  repeat,
} = cli("audio-peers", {
  duration: num({ flag: "duration", default: 8, max: 600, help: "measuring window per round, seconds" }),
  peers: list({ flag: "peers", default: [1, 5, 20], max: 200, help: "peer counts, comma-separated" }),
  repeat: num({ flag: "repeat", default: 3, max: 20, whole: true, help: "runs of (sound, video only) per peer count, interleaved" }),
}).parseOrExit();

type Mode = "audio" | "video";
interface Sample {
  encoders: number;
  n: number;
  mode: Mode;
  server: number;
  opus: number;
  tree: number;
  client: number;
  audioPps: number;
  minAudioPps: number;
  videoFps: number;
}

async function startServer(): Promise<{ proc: Subprocess; url: string }> {
  const proc = Bun.spawn(
    [
      process.execPath,
      "run",
      join(ROOT, "src", "cli.ts"),
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--rtsp-port",
      "0",
      "--no-hls",
      "--source",
      "testsrc",
      "--width",
      "320",
      "--height",
      "240",
      "--fps",
      "15",
      "--ffmpeg",
      join(ROOT, "test", "fakes", "ffmpeg"),
      "--audio",
      "hw:1,0",
      "--webrtc-candidate",
      "127.0.0.1",
      "--webrtc-max-peers",
      "100",
    ],
    { cwd: ROOT, stdout: "pipe", stderr: "ignore", env: { ...process.env, FAKE_MIC_HZ: "440" } },
  );
  ownChild(proc);
  let out = "";
  for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
    out += new TextDecoder().decode(chunk);
    const m = /→ http:\/\/[^:]+:(\d+)\//.exec(out);
    if (m) return { proc, url: `http://127.0.0.1:${m[1]}` };
  }
  throw new Error("the server did not start");
}

async function lines(proc: Subprocess): Promise<AsyncGenerator<string>> {
  const decoder = new TextDecoder();
  return (async function* () {
    let rest = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      const parts = (rest + decoder.decode(chunk)).split("\n");
      rest = parts.pop() ?? "";
      yield* parts;
    }
  })();
}

async function round(server: { proc: Subprocess; url: string }, n: number, mode: Mode): Promise<Sample> {
  const client = Bun.spawn(
    [process.execPath, "run", join(ROOT, "scripts", "bench", "lib", "audio-receivers.ts"), server.url, String(n), mode, String(duration)],
    { cwd: ROOT, stdout: "pipe", stderr: "inherit" },
  );
  ownChild(client);
  const out = await lines(client);
  const ready = JSON.parse((await out.next()).value as string) as { errors: string[] };
  if (ready.errors.length) throw new Error(`${ready.errors.length} peers failed: ${ready.errors[0]}`);
  const tree = processTree(server.proc.pid);
  const opus = tree.filter((s) => cmdline(s.pid).includes("libopus") && !s.comm.includes("bash"));
  const pick = (list: ProcStat[]) => list;
  const b = { server: sampleCpu(pick([tree[0]!])), opus: sampleCpu(opus), tree: sampleCpu(tree), client: sampleCpu(processTree(client.pid)) };
  const result = JSON.parse((await out.next()).value as string) as {
    audioPacketsPerPeerPerS: number;
    minAudioPacketsPerS: number;
    videoFramesPerPeerPerS: number;
  };
  const tree2 = processTree(server.proc.pid);
  const e = {
    server: sampleCpu([tree2[0]!]),
    opus: sampleCpu(tree2.filter((s) => cmdline(s.pid).includes("libopus") && !s.comm.includes("bash"))),
    tree: sampleCpu(tree2),
    client: sampleCpu(processTree(client.pid)),
  };
  await client.exited;
  await stopTree(client);
  return {
    encoders: opus.length,
    n,
    mode,
    server: cpuPercent(b.server, e.server),
    opus: cpuPercent(b.opus, e.opus),
    tree: cpuPercent(b.tree, e.tree),
    client: cpuPercent(b.client, e.client),
    audioPps: result.audioPacketsPerPeerPerS,
    minAudioPps: result.minAudioPacketsPerS,
    videoFps: result.videoFramesPerPeerPerS,
  };
}

installExitHandlers();
await runBenchmark("audio-peers", async () => {
  const server = await startServer();
  log(`server at ${server.url}; ${repeat} × (audio, video-only) per peer count, ${duration} s each`);
  const samples: Sample[] = [];
  for (const n of peerCounts) {
    for (let r = 0; r < repeat; r++) {
      // Interleaved, and the order swapped each repeat: drift of a shared machine hits both alike.
      for (const mode of (r % 2 ? ["video", "audio"] : ["audio", "video"]) as Mode[]) {
        const s = await round(server, n, mode);
        log(
          `${n} peers ${mode}${s.minAudioPps === 0 && mode === "audio" ? " (SOME PEERS GOT NO SOUND)" : ""}: server ${s.server.toFixed(1)} %, opus ${s.opus.toFixed(1)} %, tree ${s.tree.toFixed(1)} %, peers' process ${s.client.toFixed(1)} %, ${s.audioPps.toFixed(1)} audio pkt/s per peer`,
        );
        samples.push(s);
        await Bun.sleep(1000);
      }
    }
  }
  await stopTree(server.proc);
  const rows = peerCounts.map((n) => {
    const a = samples.filter((s) => s.n === n && s.mode === "audio");
    const v = samples.filter((s) => s.n === n && s.mode === "video");
    const extra = a.map((s, i) => s.server - v[i]!.server);
    return `| ${n} | ${spread(a.map((s) => s.server))} | ${spread(v.map((s) => s.server))} | ${spread(extra)} | ${(median(extra) / n).toFixed(2)} | ${spread(a.map((s) => s.opus))} | ${spread(a.map((s) => s.client))} | ${spread(v.map((s) => s.client))} | ${spread(a.map((s) => s.audioPps))} (min ${Math.min(...a.map((s) => s.minAudioPps)).toFixed(1)}) |`;
  });
  console.log(`## Audio fan-out (WebRTC, Opus 48 kHz mono 32 kbit/s, 20 ms packets)

${cpus().length} × ${cpus()[0]?.model ?? "?"}; ${repeat} runs per row, ${duration} s each, median (min–max); CPU in % of one core.
Floor: the same number of peers taking video alone, interleaved in the same run. Opus encoders (ffmpeg processes) seen during the rounds with sound: ${[...new Set(samples.filter((s) => s.mode === "audio").map((s) => s.encoders))].join(", ")} (one per stream, whatever the number of peers); the microphone is the fake ffmpeg's ALSA device (a bash wrapper around the real ffmpeg, not counted).
Server process: the bun process (werift: RTP numbering, SRTP, sending); the Opus encoder is its own process.

| peers | server process, with sound | server process, video only (floor) | sound's cost in the server | per peer | the Opus encoder (ffmpeg) | peers' process, with sound | peers' process, video only | audio packets/s per peer (min of any peer) |
|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}
`);
});
