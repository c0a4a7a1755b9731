/**
 * Leak finder: a glasscast server in this process (testsrc, small picture),
 * WebRTC peers that join and leave as fast as they get a frame (in a child
 * process, lib/peer-churn-child.ts), and MJPEG viewers that connect, read a
 * frame and go. The server's heap object counts by type (bun:jsc
 * heapStats()) and its RSS and fds are read after a full GC at the start,
 * after each round of churn, and once everything has settled: a type whose
 * count climbs with every round is what leaks.
 *
 *   bun run scripts/bench/leak-churn.ts [--rounds 3] [--peers 60] [--concurrency 4] [--hold MS] [--mjpeg 100] [--kills 0] [--snapshot DIR]
 *
 * --hold: each peer stays that long (0.5–1.5×) after its first frame (--mjpeg-hold: each MJPEG viewer); --kills: the
 * capture is SIGKILLed that many times a round, while the peers come and go; --camera: the soak's fake 720p MJPEG webcam.
 *
 * With --snapshot DIR, JSC heap snapshots are written there at the start and the end
 * (start.heapsnapshot, end.heapsnapshot: Safari's Web Inspector reads them).
 *
 * Prints a Markdown table of the types that grew by more than --min (20)
 * objects from the start to the end, with their count after each round.
 */
import { heapStats } from "bun:jsc";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createGlasscast } from "../../src/server.ts";
import { cli, num, text, toggle } from "./lib/cli.ts";
import { FAKE_CAMERA_ENV, FAKE_DEVICE, FAKE_FFMPEG, prepareFakeCamera } from "./lib/fake-camera.ts";

const {
  rounds,
  peers,
  concurrency,
  mjpeg: mjpegViewers,
  min: minGrowth,
  kills,
  hold: holdMs,
  mjpegHold: mjpegHoldMs,
  camera,
  snapshot: snapshotAt,
} = cli("leak-churn", {
  rounds: num({ flag: "rounds", default: 3, max: 100, whole: true, help: "rounds of churn" }),
  peers: num({ flag: "peers", default: 60, max: 10_000, zero: true, help: "WebRTC peers joining and leaving per round" }),
  concurrency: num({ flag: "concurrency", default: 4, max: 64, whole: true, help: "peers joining at once" }),
  mjpeg: num({ flag: "mjpeg", default: 100, max: 10_000, zero: true, help: "MJPEG viewers per round (connect, one frame, go)" }),
  min: num({ flag: "min", default: 20, max: 1e9, zero: true, help: "objects a type must grow by to be listed" }),
  kills: num({ flag: "kills", default: 0, max: 100, zero: true, help: "SIGKILLs of the capture per round, while peers come and go" }),
  hold: num({ flag: "hold", default: 0, max: 600_000, zero: true, arg: "MS", help: "ms each peer stays after its first frame (0.5–1.5×)" }),
  mjpegHold: num({ flag: "mjpeg-hold", default: 0, max: 600_000, zero: true, arg: "MS", help: "ms each MJPEG viewer stays" }),
  camera: toggle({ flag: "camera", help: "the soak's fake 720p MJPEG webcam instead of a small testsrc" }),
  snapshot: text({ flag: "snapshot", default: null, arg: "DIR", help: "write JSC heap snapshots at the start and the end there" }),
}).parseOrExit();
const log = (m: string) => process.stderr.write(`${m}\n`);

// As the CLI does (src/cli.ts): an ICMP "port unreachable" from a peer that went away is no failure.
process.on("uncaughtException", (err: Error & { code?: string }) => {
  if (err.code === "ECONNREFUSED") return;
  log(`leak-churn: ${err.message}`);
  process.exit(1);
});

if (camera) {
  // The soak's source: the fake 720p MJPEG webcam (its JPEGs to MJPEG viewers untouched, to the encoder as JPEG).
  await prepareFakeCamera(1280, 720, 30);
  Object.assign(process.env, FAKE_CAMERA_ENV);
}
const gc = await createGlasscast({
  ...(camera ? { source: [FAKE_DEVICE], ffmpeg: FAKE_FFMPEG, width: 1280, height: 720 } : { source: ["testsrc"], width: 320, height: 240 }),
  fps: 30,
  alwaysOn: true,
  port: 0,
  host: "127.0.0.1",
  rtspPort: 0,
  sourceTimeout: 3,
  webrtcCandidate: ["127.0.0.1"],
  logLevel: "error",
} as Parameters<typeof createGlasscast>[0]);
const { port } = gc.listen();
const base = `http://127.0.0.1:${port}`;

function rssMb(): number {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}
const fds = () => readdirSync("/proc/self/fd").length;

/** Compiled functions: the JIT's tiers warming up add code for a while (no leak; a heap snapshot shows it as FunctionCodeBlock). */
function codeBlocks(): number {
  const counts = heapStats().objectTypeCounts;
  return (counts.FunctionCodeBlock ?? 0) + (counts.UnlinkedFunctionCodeBlock ?? 0);
}

async function settle(): Promise<Record<string, number>> {
  // Peers closed by silence go after RTCP_SILENCE_MS; the encoder lingers 5 s.
  await Bun.sleep(8000);
  for (let i = 0; i < 3; i++) {
    Bun.gc(true);
    await Bun.sleep(100);
  }
  return {
    ...heapStats().objectTypeCounts,
    "(rss MB)": Math.round(rssMb()),
    "(fds)": fds(),
    "(heap MB)": Math.round(heapStats().heapSize / 1e6),
    "(extra MB)": Math.round(heapStats().extraMemorySize / 1e6),
    "(objects)": heapStats().objectCount,
    "(array buffers MB)": Math.round(process.memoryUsage().arrayBuffers / 1e5) / 10,
    "(code blocks)": codeBlocks(),
  };
}

async function mjpegChurn(n: number): Promise<void> {
  let next = 0;
  const one = async () => {
    while (next++ < n) {
      const ctl = new AbortController();
      const res = await fetch(`${base}/video`, { signal: ctl.signal });
      const reader = res.body!.getReader();
      let got = 0;
      const until = performance.now() + mjpegHoldMs * (0.5 + Math.random());
      while (got < 20_000 || performance.now() < until) {
        const { value, done } = await reader.read();
        if (done) break;
        got += value.byteLength;
      }
      ctl.abort();
      await reader.cancel().catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: 8 }, one));
}

/** SIGKILLs the capture ffmpeg `n` times, each time once the stream runs again. */
async function captureKills(n: number): Promise<void> {
  const stream = gc.streams[0]!.stream;
  for (let i = 0; i < n; i++) {
    const deadline = performance.now() + 20_000;
    while (stream.state !== "running" && performance.now() < deadline) await Bun.sleep(50);
    const out = Bun.spawnSync(["pgrep", "-a", "-P", String(process.pid), "ffmpeg"]).stdout.toString();
    const capture = out.split("\n").find((l) => l && !l.includes("libx264"));
    if (capture) process.kill(Number(capture.split(" ")[0]), "SIGKILL");
    await Bun.sleep(1500);
  }
}

async function peerChurn(n: number): Promise<string> {
  const child = Bun.spawn(["bun", "run", "scripts/bench/lib/peer-churn-child.ts", base, String(n), String(concurrency), String(holdMs)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(child.stdout).text();
  await child.exited;
  return out.trim();
}

// Warm up once (first peer, first MJPEG viewer: modules, caches), then the baseline.
await peerChurn(2);
await mjpegChurn(4);
const samples: Record<string, number>[] = [await settle()];
if (snapshotAt) writeFileSync(`${snapshotAt}/start.heapsnapshot`, JSON.stringify(Bun.generateHeapSnapshot()));
log(`baseline: rss ${samples[0]!["(rss MB)"]} MB, fds ${samples[0]!["(fds)"]}`);
for (let r = 1; r <= rounds; r++) {
  const started = performance.now();
  // Kills while peers watch: the H.264 encoder restarts too (for NO SIGNAL, then for the camera).
  const [result] = await Promise.all([peers > 0 ? peerChurn(peers) : "", captureKills(kills)]);
  await mjpegChurn(mjpegViewers);
  samples.push(await settle());
  log(
    `round ${r}: ${result}, ${((performance.now() - started) / 1000).toFixed(0)} s, rss ${samples[r]!["(rss MB)"]} MB, fds ${samples[r]!["(fds)"]}, webrtc peers left ${gc.webrtc?.size}`,
  );
}
if (snapshotAt) writeFileSync(`${snapshotAt}/end.heapsnapshot`, JSON.stringify(Bun.generateHeapSnapshot()));

const first = samples[0]!;
const last = samples.at(-1)!;
const types = Object.keys(last).filter((t) => (last[t] ?? 0) - (first[t] ?? 0) >= minGrowth || t.startsWith("("));
types.sort((a, b) => (last[b] ?? 0) - (first[b] ?? 0) - ((last[a] ?? 0) - (first[a] ?? 0)));
console.log(`## Leak churn: ${rounds} rounds of ${peers} WebRTC peers (${concurrency} at a time) and ${mjpegViewers} MJPEG viewers`);
console.log("");
console.log(
  `| type | start | ${samples
    .slice(1)
    .map((_, i) => `after ${i + 1}`)
    .join(" | ")} |`,
);
console.log(
  `|---|---|${samples
    .slice(1)
    .map(() => "---")
    .join("|")}|`,
);
for (const t of types) console.log(`| ${t} | ${samples.map((s) => s[t] ?? 0).join(" | ")} |`);
await gc.close();
process.exit(0);
