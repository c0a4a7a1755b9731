/**
 * Whether the H.264 encoder keeps up: ffmpeg's test pattern at the size and
 * rate asked for, handed to an encoder started with exactly the server's
 * arguments (encoders/h264-ffmpeg.ts) at the stream's pace, a picture skipped
 * while the previous one is still being written (process/pipe-writer.ts), as
 * the server does. Measured over a short window after the first access unit
 * (the encoder's start is not counted): access units out per second, and the
 * encoder process's CPU time from /proc/PID/stat.
 */
import { readFileSync } from "node:fs";
import { h264Args, type H264Settings } from "../encoders/h264-ffmpeg.ts";
import { AnnexBParser } from "../media/h264/annexb.ts";
import { parentDeathGuard, spawnOwned } from "../process/child.ts";
import { PipeWriter } from "../process/pipe-writer.ts";
import { rawFrameSize } from "../media/frame.ts";
import { finding, type Finding } from "./finding.ts";
import type { Machine } from "./machine.ts";

export interface SpeedRequest {
  readonly ffmpeg: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly seconds: number;
  readonly settings: H264Settings;
}

export interface SpeedResult {
  /** Pictures handed to the encoder in the window, and how many were skipped because it was busy. */
  readonly offered: number;
  readonly skipped: number;
  /** Access units out of the encoder in the window. */
  readonly accessUnits: number;
  readonly seconds: number;
  readonly fps: number;
  /** The encoder's CPU time over the window, as a share of one core (1.5 = one and a half cores); null when /proc cannot tell. */
  readonly cpuCores: number | null;
}

/** At most this many bytes of test pictures are held (looped); a 1080p picture is 3 MB. */
const PATTERN_BYTES = 64 * 1024 * 1024;
const START_TIMEOUT_MS = 15_000;
/** Linux's USER_HZ, the unit of /proc/PID/stat's times, on every architecture glasscast ships for. */
const CLOCK_TICKS = 100;

export class SpeedTestError extends Error {}

/** Frames of ffmpeg's testsrc2 at this size, as raw I420 pictures. */
async function testPattern(ffmpeg: string, width: number, height: number, count: number): Promise<Uint8Array[]> {
  const argv = [
    ffmpeg,
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${width}x${height}:rate=30`,
    "-frames:v",
    String(count),
    "-pix_fmt",
    "yuv420p",
    "-f",
    "rawvideo",
    "pipe:1",
  ];
  const proc = Bun.spawn([...parentDeathGuard().prefix, ...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), START_TIMEOUT_MS);
  const [bytes, stderr, code] = await Promise.all([new Response(proc.stdout).bytes(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  const size = rawFrameSize("i420", width, height);
  if (code !== 0 || bytes.length < size)
    throw new SpeedTestError(`the test pattern could not be made: ${stderr.trim().split("\n").at(-1) || `ffmpeg exit status ${code}`}`);
  const frames: Uint8Array[] = [];
  for (let at = 0; at + size <= bytes.length; at += size) frames.push(bytes.subarray(at, at + size));
  return frames;
}

function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The fields after the command name (which may hold spaces and parentheses): state is the first, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

export async function measureEncoder(req: SpeedRequest): Promise<SpeedResult> {
  const size = rawFrameSize("i420", req.width, req.height);
  const count = Math.max(1, Math.min(Math.round(req.fps), Math.floor(PATTERN_BYTES / size)));
  const pictures = await testPattern(req.ffmpeg, req.width, req.height, count);
  const input = { kind: "raw", format: "i420", width: req.width, height: req.height } as const;
  let said = "";
  const child = spawnOwned(h264Args(req.ffmpeg, input, req.settings, req.fps), {
    label: "doctor h264",
    stdin: "pipe",
    stderrLevel: "debug",
    onStderrLine: (line) => {
      said = line;
    },
  });
  const writer = new PipeWriter(child.stdin!);
  const parser = new AnnexBParser();
  let accessUnits = 0;
  let firstOut: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    firstOut = resolve;
  });
  const reading = (async () => {
    try {
      for await (const chunk of child.stdout) {
        const n = parser.push(chunk).length;
        if (n > 0) {
          accessUnits += n;
          firstOut();
        }
      }
    } catch {
      /* the pipe closes as the encoder stops */
    }
  })();
  let exited = false;
  void child.exited.then(() => {
    exited = true;
    firstOut();
  });
  try {
    // The encoder's start is not measured: one picture, then wait for its access unit.
    writer.write(pictures[0]!);
    // x264 may hold the first access unit until the second picture begins the next: keep the pace meanwhile.
    const started = performance.now();
    let i = 1;
    while (accessUnits === 0 && !exited) {
      if (performance.now() - started > START_TIMEOUT_MS) throw new SpeedTestError(`no H.264 out of the encoder within ${START_TIMEOUT_MS / 1000} s`);
      await Promise.race([first, Bun.sleep(1000 / req.fps)]);
      if (accessUnits === 0 && !exited) writer.write(pictures[i++ % pictures.length]!);
    }
    if (exited) throw new SpeedTestError(`the encoder stopped at once${said ? `: ${said}` : ""}`);

    const before = accessUnits;
    const ticks0 = cpuTicks(child.pid);
    const t0 = performance.now();
    const interval = 1000 / req.fps;
    let offered = 0;
    let skipped = 0;
    for (;;) {
      const due = t0 + offered * interval;
      if (due - t0 >= req.seconds * 1000) break;
      const wait = due - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      if (exited) throw new SpeedTestError(`the encoder stopped${said ? `: ${said}` : ""}`);
      try {
        if (!writer.write(pictures[(i + offered) % pictures.length]!)) skipped++;
      } catch (err) {
        throw new SpeedTestError(`the encoder stopped taking pictures: ${(err as Error).message}`);
      }
      offered++;
    }
    const elapsed = (performance.now() - t0) / 1000;
    const ticks1 = cpuTicks(child.pid);
    const out = accessUnits - before;
    return {
      offered,
      skipped,
      accessUnits: out,
      seconds: elapsed,
      fps: out / elapsed,
      cpuCores: ticks0 === null || ticks1 === null ? null : (ticks1 - ticks0) / CLOCK_TICKS / elapsed,
    };
  } finally {
    writer.end();
    await child.stop(1000);
    await reading;
  }
}

/** It keeps up when at least this share of the pictures come out as access units. */
export const KEEPS_UP = 0.9;

export function speedFinding(req: SpeedRequest, outcome: SpeedResult | Error, machine: Machine, cores: number | null): Finding {
  const what = `${req.settings.encoder} at ${req.width}x${req.height}, ${fmt(req.fps)} fps`;
  if (outcome instanceof Error) {
    return finding(
      "h264-speed",
      "fail",
      `H.264 encoder (${what}): did not run`,
      outcome.message,
      req.settings.encoder === "libx264" ? "sudo apt install ffmpeg" : "use --h264-encoder libx264",
    );
  }
  const cpu =
    outcome.cpuCores === null ? "CPU unknown" : `CPU ${Math.round(outcome.cpuCores * 100)}% of one core${cores !== null ? ` (${cores} cores here)` : ""}`;
  const summary = `H.264 encoder (${what}): ${fmt(outcome.fps)} fps, ${cpu}`;
  const detail = `${outcome.offered} pictures offered in ${outcome.seconds.toFixed(1)} s, ${outcome.skipped} skipped while the encoder was busy, ${outcome.accessUnits} encoded`;
  if (outcome.fps >= KEEPS_UP * req.fps) return finding("h264-speed", "ok", `${summary}: keeps up`, detail);
  const hardware =
    machine.board === "pi-with-encoders" && req.settings.encoder === "libx264" && withinPiEncoder(req)
      ? "use the Pi's hardware encoder: --h264-encoder h264_v4l2m2m; or "
      : "";
  const smaller =
    req.width > 1280 ? "--width 1280 --height 720" : req.width > 640 ? "--width 640 --height 480" : `--fps ${Math.max(1, Math.floor(outcome.fps))}`;
  return finding("h264-speed", "warn", `${summary}: does not keep up (WebRTC viewers get fewer pictures)`, detail, `${hardware}ask for less: ${smaller}`);
}

/**
 * The Pi 4's (and earlier boards') hardware H.264 encoder goes up to 1080p30:
 * 1920x1088 pictures and level 4.1's 245,760 macroblocks a second.
 */
export function withinPiEncoder(req: Pick<SpeedRequest, "width" | "height" | "fps">): boolean {
  const macroblocks = Math.ceil(req.width / 16) * Math.ceil(req.height / 16);
  return macroblocks <= 120 * 68 && macroblocks * req.fps <= 245_760;
}

function fmt(n: number): string {
  return n >= 10 ? String(Math.round(n)) : n.toFixed(1);
}
