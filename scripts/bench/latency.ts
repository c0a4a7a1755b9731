/**
 * Glass-to-glass latency of every transport, on loopback (issues 13 and 17).
 *
 *   bun run scripts/bench/latency.ts [--duration 10] [--receivers mjpeg,mjpeg-loaded,rtsp,werift,aiortc,chromium-webrtc,chromium-hls]
 *
 * glasscast runs as a process of its own (lib/stamp-server.ts): its test
 * pattern at 1280x720 30 fps, with a library transform that stamps the wall
 * clock into each picture as it enters the core (lib/clock-stamp.ts). Each
 * receiver in turn reads the stamp from the pictures it gets and notes
 * now − stamp (lib/latency-receivers.ts): median, p95, count, misreads (left
 * out), and where it can, the parts (arrival, its own decode). The same run
 * measures the floors (lib/latency-floors.ts): stamp → JPEG → decode in one
 * process, and stamp → glasscast's H.264 encoder → ffmpeg decoder with no
 * network; for HLS, the playlist's part target and hold-back. Client CPU is
 * every process of this benchmark but the server (receivers, browser,
 * viewers), server CPU the server with its ffmpeg children.
 */
import { launchChromium } from "../../test/helpers/browser.ts";
import { cli, names, num, toggle, UsageError } from "./lib/cli.ts";
import { installExitHandlers, ownChild, runBenchmark, stopTree } from "./lib/children.ts";
import { h264Floor, jpegFloor, testPictures, type FloorFigures } from "./lib/latency-floors.ts";
import { aiortcReceiver, chromiumReceiver, mjpegReceiver, rtspReceiver, weriftReceiver, type ReceiverFigures, type Window } from "./lib/latency-receivers.ts";
import { cpuPercent, processTree, sampleCpu, type CpuSample } from "./lib/proc-stats.ts";
import { fixed, median, percentile } from "./lib/stats.ts";
import { drainStderr, freePort, pictureArgs, REPO_ROOT } from "./lib/server-process.ts";
import { runRound } from "./lib/viewer-pool.ts";

const RECEIVERS = ["mjpeg", "mjpeg-loaded", "rtsp", "werift", "aiortc", "chromium-webrtc", "chromium-hls"] as const;

const CLI = cli(
  "latency",
  {
    duration: num({ flag: "duration", default: 10, max: 600, help: "seconds each receiver measures, after its warm-up" }),
    warmup: num({ flag: "warmup", default: 2, max: 60, zero: true, arg: "S", help: "seconds each receiver watches before it measures" }),
    receivers: names({ flag: "receivers", default: [...RECEIVERS], shown: "all", choices: RECEIVERS, help: `comma-separated, from ${RECEIVERS.join(",")}` }),
    others: num({ flag: "others", default: 50, max: 1000, whole: true, help: "other MJPEG viewers for mjpeg-loaded" }),
    width: num({ flag: "width", default: 1280, max: 3840, whole: true, arg: "W", help: "the stamped test pattern's width (192 or more)" }),
    height: num({ flag: "height", default: 720, max: 2160, whole: true, arg: "H", help: "its height" }),
    fps: num({ flag: "fps", default: 30, max: 60, whole: true, arg: "F", help: "its frame rate" }),
    json: toggle({ flag: "json", help: "print the figures as JSON instead of the Markdown report" }),
  },
  (o) => {
    if (o.width < 192) throw new UsageError(`--width: ${o.width} is too narrow for the clock stamp; give 192 or more`);
  },
);
type Options = ReturnType<typeof CLI.parse>;

export interface Row {
  transport: string;
  receiver: string;
  figures: ReceiverFigures;
  floor: string;
  serverCpuPct: number;
  clientCpuPct: number;
}

export interface LatencyReport {
  picture: { width: number; height: number; fps: number };
  /** The stamp server's pid and its children's, noted while it ran (all gone when the report is printed). */
  server: { pid: number; children: number[] };
  floors: {
    jpeg: FloorFigures;
    h264: FloorFigures;
    h264AnnexB: FloorFigures;
    hls: { partTargetS: number | null; partHoldBackS: number | null; targetDurationS: number | null };
  };
  rows: Row[];
}

const medianP95 = (values: number[] | undefined): string => (values?.length ? `${fixed(median(values))} / ${fixed(percentile(values, 95))}` : "—");

interface StampServer {
  proc: ReturnType<typeof spawnServer>;
  port: number;
  rtspPort: number;
  stderrTail: string[];
}

function spawnServer(o: Options, port: number, rtspPort: number) {
  return Bun.spawn(
    [
      process.execPath,
      "run",
      "scripts/bench/lib/stamp-server.ts",
      "--port",
      String(port),
      "--rtsp-port",
      String(rtspPort),
      ...pictureArgs(o.width, o.height, o.fps),
    ],
    { cwd: REPO_ROOT, stdin: "pipe", stdout: "pipe", stderr: "pipe" },
  );
}

async function startStampServer(o: Options): Promise<StampServer> {
  const proc = spawnServer(o, freePort(), freePort());
  ownChild(proc);
  const server = { proc, port: 0, rtspPort: 0, stderrTail: [] as string[] };
  void drainStderr(server);
  const reader = proc.stdout.getReader();
  const timeout = setTimeout(() => proc.kill(), 20_000);
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  clearTimeout(timeout);
  reader.releaseLock();
  const line = JSON.parse(text.split("\n")[0] || "{}") as { port?: number; rtspPort?: number };
  if (!line.port) throw new Error(`the stamp server did not start: ${server.stderrTail.join(" | ") || "(no message)"}`);
  // Serving: wait for its first picture.
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    const res = await fetch(`http://127.0.0.1:${line.port}/snapshot.jpg`).catch(() => null);
    await res?.arrayBuffer();
    if (res?.status === 200) return { proc, port: line.port, rtspPort: line.rtspPort ?? 0, stderrTail: server.stderrTail };
    await Bun.sleep(100);
  }
  throw new Error("the stamp server gave no picture within 15 s");
}

function merge(into: FloorFigures, from: FloorFigures): void {
  into.total.push(...from.total);
  into.misread += from.misread;
  for (const [k, v] of Object.entries(from.parts)) (into.parts[k] ??= []).push(...v);
}

async function hlsFloor(port: number): Promise<LatencyReport["floors"]["hls"]> {
  const none = { partTargetS: null, partHoldBackS: null, targetDurationS: null };
  const res = await fetch(`http://127.0.0.1:${port}/hls/main/index.m3u8`, { signal: AbortSignal.timeout(15_000) }).catch(() => null);
  if (res?.status !== 200) return none;
  const text = await res.text();
  const num = (re: RegExp) => {
    const m = re.exec(text)?.[1];
    return m === undefined ? null : Number(m);
  };
  return { partTargetS: num(/PART-TARGET=([\d.]+)/), partHoldBackS: num(/PART-HOLD-BACK=([\d.]+)/), targetDurationS: num(/#EXT-X-TARGETDURATION:([\d.]+)/) };
}

/** CPU of the server's tree, and of every other process under this benchmark, around `run`. */
async function withCpu<T>(serverPid: number, run: () => Promise<T>): Promise<{ value: T; serverCpuPct: number; clientCpuPct: number }> {
  const sample = (): [CpuSample, CpuSample] => {
    const server = processTree(serverPid);
    const serverPids = new Set(server.map((s) => s.pid));
    return [sampleCpu(server), sampleCpu(processTree(process.pid).filter((s) => !serverPids.has(s.pid)))];
  };
  const [s0, c0] = sample();
  const value = await run();
  const [s1, c1] = sample();
  return { value, serverCpuPct: cpuPercent(s0, s1), clientCpuPct: cpuPercent(c0, c1) };
}

function markdown(r: LatencyReport, o: Options): string {
  const jpegFloorText = `${medianP95(r.floors.jpeg.total)} (JPEG encode ${medianP95(r.floors.jpeg.parts.encode)}, decode ${medianP95(r.floors.jpeg.parts.decode)})`;
  const h264FloorText = `${medianP95(r.floors.h264.total)}`;
  const lines = [
    `# Glass-to-glass latency on loopback, ${r.picture.width}x${r.picture.height} ${r.picture.fps} fps`,
    "",
    "From the moment a picture enters glasscast's core (its transform stamps the wall clock) to the moment a receiver has it",
    "decoded (Chromium: the frame's expected display time). ms, median / p95; each receiver measured for " +
      `${o.duration} s after ${o.warmup} s of warm-up, one after another. Misread: pictures whose stamp could not be read (left out).`,
    "",
    "| Transport | Receiver | Pictures | Misread | Latency median / p95 (ms) | Where it went, median / p95 (ms) | Floor median / p95 (ms) | Server CPU % | Client CPU % |",
    "|:---|:---|---:|---:|---:|:---|:---|---:|---:|",
  ];
  for (const row of r.rows) {
    const f = row.figures;
    const parts =
      Object.entries(f.parts)
        .filter(([, v]) => v.length)
        .map(([k, v]) => `${k} ${medianP95(v)}`)
        .join("; ") || "—";
    lines.push(
      `| ${row.transport} | ${row.receiver}${f.error ? ` (**${f.error}**)` : ""} | ${f.latency.length} | ${f.misread} | ${medianP95(f.latency)} | ${parts} | ${row.floor} | ${fixed(row.serverCpuPct)} | ${fixed(row.clientCpuPct)} |`,
    );
  }
  const hls = r.floors.hls;
  lines.push(
    "",
    "Floors, same run:",
    `- MJPEG: stamp → glasscast's JPEG encoder → libjpeg-turbo decode, one process: ${jpegFloorText}.`,
    `- H.264: stamped pictures at ${r.picture.fps} fps → glasscast's H.264 encoder (libx264 as the server runs it) → ffmpeg decoder, no network: ${h264FloorText}; ` +
      `stamp → access unit handed on ${medianP95(r.floors.h264.parts.encoded)}, then decoded ${medianP95(r.floors.h264.parts.decoded)}. ` +
      `The same with the encoder's output read as Annex B (before FLV framing; a picture waits for the next to begin), in turns with it: ` +
      `${medianP95(r.floors.h264AnnexB.total)}, handed on ${medianP95(r.floors.h264AnnexB.parts.encoded)}.`,
    `- HLS: part target ${hls.partTargetS ?? "—"} s, PART-HOLD-BACK ${hls.partHoldBackS ?? "—"} s (where a low-latency player starts behind the live edge), target duration ${hls.targetDurationS ?? "—"} s.`,
    "",
    "Client CPU: every process of the benchmark but the server (receiver, browser, other viewers), % of one core, warm-up included.",
  );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const o = CLI.parseOrExit();
  installExitHandlers();
  const log = (s: string) => process.stderr.write(`latency: ${s}\n`);
  log("floors: JPEG and H.264 without the server");
  const pictures = testPictures(o.width, o.height, 30);
  const jpeg = jpegFloor(pictures, 200);
  // FLV (glasscast's framing) and Annex B (before it) in turns, so that the machine's load falls on both alike.
  const seconds = Math.min(10, Math.max(1, o.duration / 2));
  const h264: FloorFigures = { total: [], parts: { encoded: [], decoded: [] }, misread: 0 };
  const h264AnnexB: FloorFigures = { total: [], parts: { encoded: [], decoded: [] }, misread: 0 };
  for (let round = 0; round < 2; round++) {
    merge(h264, await h264Floor(pictures, o.fps, seconds, 2500, 30, "flv"));
    merge(h264AnnexB, await h264Floor(pictures, o.fps, seconds, 2500, 30, "annexb"));
  }
  log("starting the stamp server");
  const server = await startStampServer(o);
  const base = `http://127.0.0.1:${server.port}`;
  const window: Window = { warmupS: o.warmup, seconds: o.duration };
  const hls = await hlsFloor(server.port);
  const report: LatencyReport = {
    picture: { width: o.width, height: o.height, fps: o.fps },
    server: {
      pid: server.proc.pid,
      children: processTree(server.proc.pid)
        .slice(1)
        .map((s) => s.pid),
    },
    floors: { jpeg, h264, h264AnnexB, hls },
    rows: [],
  };
  const mjpegFloor = medianP95(jpeg.total);
  const h264FloorText = medianP95(h264.total);
  const hlsFloorText = hls.partTargetS === null ? "—" : `part ${hls.partTargetS} s, hold-back ${hls.partHoldBackS ?? "—"} s`;
  let browser: Awaited<ReturnType<typeof launchChromium>> | null = null;
  try {
    for (const name of o.receivers) {
      log(`measuring ${name}`);
      const measure = async (): Promise<Omit<Row, "serverCpuPct" | "clientCpuPct">> => {
        switch (name) {
          case "mjpeg":
            return { transport: "MJPEG", receiver: "1 viewer, libjpeg-turbo decode", figures: await mjpegReceiver(server.port, window), floor: mjpegFloor };
          case "mjpeg-loaded": {
            let figures: Promise<ReceiverFigures> | null = null;
            await runRound(server.port, o.others, 2, {
              settleMs: 15_000,
              warmupMs: o.warmup * 1000,
              windowMs: (o.duration + 1.5) * 1000,
              onMark: () => {
                figures = mjpegReceiver(server.port, { warmupS: 0.5, seconds: o.duration });
              },
              onStop: () => {},
            });
            return { transport: "MJPEG", receiver: `1 viewer among ${o.others} others`, figures: await figures!, floor: mjpegFloor };
          }
          case "rtsp":
            return {
              transport: "RTSP",
              receiver: "ffmpeg, nobuffer + low_delay, TCP (decode inside)",
              figures: await rtspReceiver(`rtsp://127.0.0.1:${server.rtspPort}/`, o.width, window),
              floor: h264FloorText,
            };
          case "werift":
            return {
              transport: "WebRTC",
              receiver: "werift, no jitter buffer, glasscast's H264Decoder",
              figures: await weriftReceiver(base, window),
              floor: h264FloorText,
            };
          case "aiortc":
            return {
              transport: "WebRTC",
              receiver: "aiortc (jitter buffer + decode inside)",
              figures: await aiortcReceiver(base, window),
              floor: h264FloorText,
            };
          case "chromium-webrtc":
          case "chromium-hls": {
            browser ??= await launchChromium();
            const transport = name === "chromium-webrtc" ? "webrtc" : "hls";
            return transport === "webrtc"
              ? {
                  transport: "WebRTC",
                  receiver: "Chromium, requestVideoFrameCallback",
                  figures: await chromiumReceiver(browser, base, "webrtc", o.width, window),
                  floor: h264FloorText,
                }
              : {
                  transport: "LL-HLS",
                  receiver: "Chromium, hls.js lowLatencyMode",
                  figures: await chromiumReceiver(browser, base, "hls", o.width, window),
                  floor: `${h264FloorText} + ${hlsFloorText}`,
                };
          }
        }
      };
      const { value, serverCpuPct, clientCpuPct } = await withCpu(server.proc.pid, measure);
      report.rows.push({ ...value, serverCpuPct, clientCpuPct });
      if (value.figures.error) log(`${name}: ${value.figures.error}`);
    }
  } finally {
    await (browser as Awaited<ReturnType<typeof launchChromium>> | null)?.close().catch(() => {});
    try {
      server.proc.stdin.end();
    } catch {
      /* gone */
    }
    await Promise.race([server.proc.exited, Bun.sleep(5000)]);
    await stopTree(server.proc);
  }
  console.log(o.json ? JSON.stringify(report) : markdown(report, o));
}

if (import.meta.main) await runBenchmark("latency", main);
