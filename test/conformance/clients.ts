/**
 * Runs a third-party client (a Python script of this folder, or a program) as
 * a child process with a bounded time, and reads the JSON line it prints.
 * Every child still running when the test process exits is killed.
 */
import { join } from "node:path";

/** Debian's Python, which has python3-opencv, python3-aiortc and python3-gi (the `python3` on PATH may not). */
export const PYTHON = "/usr/bin/python3";
export const HERE = import.meta.dir;

const running = new Set<ReturnType<typeof Bun.spawn>>();
process.on("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `argv`, kills it after `timeoutMs`, and returns what it printed. */
export async function run(argv: string[], timeoutMs: number): Promise<Finished> {
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  running.add(proc);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr, timedOut };
  } finally {
    clearTimeout(timer);
    running.delete(proc);
  }
}

/** Runs `test/conformance/<script>` with Debian's Python and parses the JSON line it ends with. */
export async function runScript<T>(script: string, args: (string | number)[], timeoutMs: number): Promise<T> {
  const out = await run([PYTHON, join(HERE, script), ...args.map(String)], timeoutMs);
  const last = out.stdout.trim().split("\n").at(-1) ?? "";
  if (out.timedOut || !last.startsWith("{")) {
    throw new Error(
      `${script} ${args.join(" ")}: ${out.timedOut ? "killed after " + timeoutMs + " ms" : "exit " + out.code}\n${out.stdout}\n${out.stderr.slice(-3000)}`,
    );
  }
  return JSON.parse(last) as T;
}

/**
 * Frames per second over the last `count` of `times` (ms, the client's own
 * clock at each frame): the steady rate, past a first burst (a WebRTC viewer
 * is sent the frames since the last keyframe at once; a reader probing the
 * stream reads its first frames back to back).
 */
export function steadyRate(times: readonly number[], count: number): number {
  if (times.length < count || count < 2) throw new Error(`${times.length} frames, need ${count} for a rate`);
  const window = times.slice(-count);
  return ((count - 1) * 1000) / (window.at(-1)! - window[0]!);
}

/** The same test for every client: the source's rate, within a tolerance wide enough for a loaded 2-core machine. */
export function rateBounds(fps: number): { low: number; high: number } {
  return { low: fps * 0.6, high: fps * 1.25 };
}

/** What each client script prints. */
export interface ClientResult {
  client: string;
  version: string;
  frames: number;
  times: number[];
  width: number | null;
  height: number | null;
  error: string | null;
}
