/**
 * The floors of webrtc-peers, measured in its own run between the rounds:
 * - ffmpeg alone: glasscast's own capture command and its H.264 encoder's
 *   settings (both read from /proc while the server runs them) as ONE ffmpeg
 *   that captures and encodes to `-f null -`: what the server's capture +
 *   encode would cost with no pipe, no Bun and no peer in between.
 * - the bare send: the round's RTP packets (count per second and mean size)
 *   sent as plain UDP datagrams through Bun's UDP socket to a local sink,
 *   no SRTP, no RTP packetizing (lib/udp-send-floor.ts): what sending
 *   itself costs, below which no per-peer work can go.
 */
import { readFileSync } from "node:fs";
import { ownChild, stopTree } from "./children.ts";
import { machineTicks, processTree, ticksPerSecond, type ProcStat } from "./proc-stats.ts";
import { dieWithUs } from "./webrtc-pool.ts";

/** ffmpeg options that take no value (the ones glasscast's capture and encoder commands use). */
const FLAGS = new Set(["-hide_banner", "-nostdin", "-nostats", "-re", "-an", "-sn", "-dn", "-y", "-vn"]);
/** Output options that only concern where and how the output is written: dropped for `-f null -`. */
const WRITING = new Set(["-f", "-flvflags", "-flush_packets", "-strict", "-y"]);

interface Parsed {
  /** Options before the (last) -i, and the -i with its input. */
  input: string[];
  /** Output options as [option, value?] pairs, without the output file. */
  output: string[][];
}

function parse(argv: string[], what: string): Parsed {
  const i = argv.lastIndexOf("-i");
  if (i < 1 || i + 1 >= argv.length) throw new Error(`the ${what} command has no -i: ${argv.join(" ")}`);
  const output: string[][] = [];
  const rest = argv.slice(i + 2, -1); // the last word is the output file
  for (let k = 0; k < rest.length; k++) {
    const opt = rest[k]!;
    if (FLAGS.has(opt) || !opt.startsWith("-")) output.push([opt]);
    else output.push([opt, rest[++k]!]);
  }
  return { input: argv.slice(0, i + 2), output };
}

/**
 * One ffmpeg doing the capture (its input and filters) and the encode (the encoder's
 * filters, pixel format, colour and codec options), writing to `-f null -`.
 * `capture` and `encoder` are the argv glasscast runs (from /proc/PID/cmdline).
 */
export function floorCommand(capture: string[], encoder: string[]): string[] {
  const c = parse(capture, "capture");
  const e = parse(encoder, "encoder");
  const filters = [...c.output, ...e.output].filter(([o]) => o === "-vf").map(([, v]) => v!);
  const keep = (pairs: string[][]) => pairs.filter(([o]) => o !== "-vf" && !WRITING.has(o!)).flat();
  return [...c.input, ...keep(c.output), ...(filters.length ? ["-vf", filters.join(",")] : []), ...keep(e.output), "-f", "null", "-"];
}

export interface FloorFigures {
  /** CPU of the process(es), % of one core. */
  cpuPct: number;
  /** Both cores together = 100 %. */
  machineBusyPct: number;
  seconds: number;
  /** Frames/s the ffmpeg encoded over the window (its -progress output); null for other processes. */
  fps: number | null;
  /** The child's last stderr lines when it ended early. */
  error: string | null;
}

function ticksOf(stats: ProcStat[]): Map<string, number> {
  return new Map(stats.map((s) => [`${s.pid}@${s.start}`, s.ticks]));
}

/** The latest frame=N of ffmpeg's `-progress pipe:1` output, as it comes. */
function followProgress(stdout: ReadableStream<Uint8Array>): { frame: number } {
  const state = { frame: 0 };
  void (async () => {
    const decoder = new TextDecoder();
    let text = "";
    try {
      for await (const chunk of stdout) {
        text += decoder.decode(chunk, { stream: true });
        const lines = text.split("\n");
        text = lines.pop() ?? "";
        for (const line of lines) if (line.startsWith("frame=")) state.frame = Number(line.slice(6)) || state.frame;
      }
    } catch {
      /* gone */
    }
  })();
  return state;
}

/**
 * Runs argv for warmupS + seconds; its CPU (and its children's) over the last `seconds`.
 * An ffmpeg command gets `-progress pipe:1`, so that its frame rate over the window is known too.
 */
export async function measureProcess(argv: string[], warmupS: number, seconds: number): Promise<FloorFigures> {
  const ffmpeg = /(^|\/)ffmpeg$/.test(argv[0] ?? "");
  const command = ffmpeg ? [argv[0]!, "-progress", "pipe:1", "-stats_period", "0.1", ...argv.slice(1)] : argv;
  const proc = Bun.spawn(dieWithUs(command), { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  ownChild(proc);
  const progress = ffmpeg ? followProgress(proc.stdout) : null;
  if (!ffmpeg) void new Response(proc.stdout).arrayBuffer();
  const stderr = new Response(proc.stderr).text();
  try {
    await Bun.sleep(warmupS * 1000);
    const b = { at: performance.now(), tree: ticksOf(processTree(proc.pid)), machine: machineTicks(), frame: progress?.frame ?? 0 };
    await Bun.sleep(seconds * 1000);
    const tree = processTree(proc.pid);
    const e = { at: performance.now(), machine: machineTicks(), frame: progress?.frame ?? 0 };
    const elapsed = (e.at - b.at) / 1000;
    let ticks = 0;
    for (const s of tree) ticks += s.ticks - (b.tree.get(`${s.pid}@${s.start}`) ?? 0);
    const alive = proc.exitCode === null && proc.signalCode === null;
    return {
      cpuPct: (100 * ticks) / ticksPerSecond() / elapsed,
      machineBusyPct: (100 * (e.machine.busy - b.machine.busy)) / Math.max(1, e.machine.total - b.machine.total),
      seconds: elapsed,
      fps: progress ? (e.frame - b.frame) / elapsed : null,
      error: alive ? null : `exited (${proc.exitCode ?? proc.signalCode}) early: ${(await stderr).trim().split("\n").slice(-2).join(" ⏎ ")}`,
    };
  } finally {
    await stopTree(proc);
  }
}

const SEND_SCRIPT = new URL("./udp-send-floor.ts", import.meta.url).pathname;

/**
 * The bare send: `packetsPerSecond` datagrams of `bytes` each, sent in one burst per frame
 * (`fps` bursts a second, as the encoder's access units come) to a UDP sink of ours on 127.0.0.1.
 */
export async function measureSendFloor(packetsPerSecond: number, bytes: number, fps: number, seconds: number): Promise<FloorFigures & { usPerPacket: number }> {
  const sink = await Bun.udpSocket({ hostname: "127.0.0.1", socket: { data() {} } });
  try {
    const argv = [process.execPath, "run", SEND_SCRIPT, String(sink.port), String(Math.round(packetsPerSecond)), String(Math.round(bytes)), String(fps)];
    const figures = await measureProcess(argv, 1, seconds);
    return { ...figures, usPerPacket: packetsPerSecond > 0 ? (figures.cpuPct * 1e4) / packetsPerSecond : 0 };
  } finally {
    sink.close();
  }
}

/** A process's argv from /proc/PID/cmdline; null when it is gone. */
export function argvOf(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return raw ? raw.replace(/\0$/, "").split("\0") : null;
  } catch {
    return null;
  }
}
