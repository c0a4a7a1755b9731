/**
 * Child processes the server owns. Every capture or encoder process is started
 * here: with an argument list (never a shell), its stderr logged, registered so
 * that shutdown kills and reaps it, and tied to the server's life with the
 * kernel's parent-death signal (util-linux `setpriv --pdeathsig`), so that it
 * dies even when the server itself is killed with SIGKILL or crashes. The
 * setpriv found on PATH is tried once before it is used: busybox's (Alpine,
 * minimal images) has no --pdeathsig, and putting it in front of every
 * capture would make every capture fail. Without a working one, children run
 * unwrapped and parentDeathGuard() says why.
 */
import type { FileSink, Subprocess } from "bun";
import { log } from "../log.ts";
import { redactText } from "../redact.ts";

export interface OwnedChild {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  /** The child's stdin when spawned with `stdin: "pipe"`, else null. */
  readonly stdin: FileSink | null;
  readonly exited: Promise<number>;
  /**
   * SIGTERM, then SIGKILL after `graceMs`; resolves once the process is reaped.
   * What it says on stderr from then on is logged at debug level: a process
   * complains as it is stopped (ffmpeg: "Broken pipe" on the pipe or FIFO
   * whose reader is gone), and a clean stop must leave the log silent.
   */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Subprocess>();
/** Children we are stopping: their stderr is the noise of being stopped. */
const stopping = new WeakSet<Subprocess>();

export interface ParentDeathGuard {
  /** What goes before a child's own argv: setpriv with its parent-death signal, or nothing. */
  readonly prefix: readonly string[];
  /** Why children are not bound to the server's life, or null when they are. */
  readonly problem: string | null;
}

let guard: ParentDeathGuard | null = null;

/**
 * How children are bound to the server's life, found once (at the first
 * child): `setpriv --pdeathsig KILL -- true` must run and exit 0.
 */
export function parentDeathGuard(): ParentDeathGuard {
  guard ??= findGuard(Bun.which("setpriv"));
  return guard;
}

/** Exported for tests; parentDeathGuard() is the program's one check. */
export function findGuard(setpriv: string | null): ParentDeathGuard {
  if (setpriv === null) return { prefix: [], problem: "setpriv (util-linux) not found" };
  const prefix = [setpriv, "--pdeathsig", "KILL", "--"];
  const trueProgram = Bun.which("true");
  // Without `true` on PATH, setpriv itself is run: its --version exits 0 too.
  const probe = Bun.spawnSync([...prefix, ...(trueProgram ? [trueProgram] : [setpriv, "--version"])], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    timeout: 5000,
  });
  if (probe.exitCode === 0) return { prefix, problem: null };
  const said = probe.stderr
    .toString()
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  const outcome = probe.exitCode === null ? "did not finish" : `failed (exit ${probe.exitCode}${said ? `: ${said}` : ""})`;
  return {
    prefix: [],
    problem: `${setpriv} cannot set a parent-death signal (\`setpriv --pdeathsig KILL -- true\` ${outcome}; busybox's setpriv cannot, util-linux's can)`,
  };
}

export interface SpawnOptions {
  /** Short name used in log lines, e.g. "capture[cam1]". */
  readonly label: string;
  /** stderr lines are logged at this level (ffmpeg is chatty at info). */
  readonly stderrLevel?: "debug" | "info" | "warn";
  /** stderr lines known to mean nothing (logged at debug level only). */
  readonly noise?: RegExp;
  /** Called with each stderr line, e.g. to keep the last error for a message. */
  readonly onStderrLine?: (line: string) => void;
  /** Text that must not reach the log (a source URL's password and query values): masked in its stderr lines and command line. */
  readonly secrets?: readonly string[];
  /** Bytes written to the child's stdin (which is then closed), or "pipe" to write as it runs; none by default. */
  readonly stdin?: Uint8Array | "pipe";
  /** Masks secrets (a password in a URL argument) in the logged command line and in every stderr line. */
  readonly redact?: (text: string) => string;
}

/** Text about a child with its secrets masked: every URL, the given secrets, then the child's own redactor. */
function masked(text: string, options: SpawnOptions): string {
  const clean = redactText(text, options.secrets);
  return options.redact ? options.redact(clean) : clean;
}

export function spawnOwned(argv: readonly string[], options: SpawnOptions): OwnedChild {
  const cmd = [...parentDeathGuard().prefix, ...argv];
  const proc = Bun.spawn(cmd, { stdin: options.stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  live.add(proc);
  log.debug(`${options.label}: started pid ${proc.pid}: ${masked(argv.join(" "), options)}`);
  void pumpStderr(proc.stderr, options, () => stopping.has(proc));
  const exited = proc.exited.then((code) => {
    live.delete(proc);
    log.debug(`${options.label}: pid ${proc.pid} exited with ${code}`);
    return code;
  });
  return {
    pid: proc.pid,
    stdout: proc.stdout,
    stdin: options.stdin === "pipe" ? (proc.stdin as FileSink) : null,
    exited,
    stop: (graceMs = 2000) => stopProcess(proc, exited, graceMs),
  };
}

async function stopProcess(proc: Subprocess, exited: Promise<number>, graceMs: number): Promise<void> {
  // Stopped already, or being stopped (one SIGTERM is enough: ffmpeg exits at once at its fourth).
  if (proc.exitCode !== null || proc.signalCode !== null || stopping.has(proc)) return void (await exited);
  stopping.add(proc);
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

async function pumpStderr(stderr: ReadableStream<Uint8Array>, options: SpawnOptions, beingStopped: () => boolean): Promise<void> {
  const level = options.stderrLevel ?? "debug";
  const decoder = new TextDecoder();
  let rest = "";
  try {
    for await (const chunk of stderr) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split(/\r?\n|\r/);
      rest = lines.pop() ?? "";
      for (const line of lines) emit(line);
    }
  } catch {
    // The pipe closes with the process; nothing to report.
  }
  if (rest) emit(rest);

  function emit(raw: string): void {
    if (!raw.trim()) return;
    // The tool's own words may carry the source URL, or its password alone: masked before anyone sees them.
    const line = masked(raw, options);
    options.onStderrLine?.(line);
    log[beingStopped() || options.noise?.test(line) ? "debug" : level](`${options.label}: ${line}`);
  }
}

/** Kills and reaps every child still running (shutdown). */
export async function stopAllChildren(graceMs = 2000): Promise<void> {
  await Promise.all([...live].map((p) => stopProcess(p, p.exited, graceMs)));
}

/** Synchronous last resort for process exit paths that cannot await. */
export function killAllChildrenNow(): void {
  for (const p of live) {
    stopping.add(p);
    p.kill("SIGKILL");
  }
}
