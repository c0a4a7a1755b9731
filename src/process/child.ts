/**
 * Child processes the server owns. Every capture or encoder process is started
 * here: with an argument list (never a shell), its stderr logged, registered so
 * that shutdown kills and reaps it, and tied to the server's life with the
 * kernel's parent-death signal (util-linux `setpriv --pdeathsig`), so that it
 * dies even when the server itself is killed with SIGKILL or crashes.
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
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is reaped. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Subprocess>();

const setpriv = Bun.which("setpriv");

/** Whether children are bound to the server's life (setpriv is present). */
export const childrenDieWithServer = setpriv !== null;

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
}

export function spawnOwned(argv: readonly string[], options: SpawnOptions): OwnedChild {
  const cmd = setpriv ? [setpriv, "--pdeathsig", "KILL", "--", ...argv] : [...argv];
  const proc = Bun.spawn(cmd, { stdin: options.stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  live.add(proc);
  log.debug(`${options.label}: started pid ${proc.pid}: ${redactText(argv.join(" "), options.secrets)}`);
  void pumpStderr(proc.stderr, options);
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
  if (proc.exitCode !== null || proc.signalCode !== null) return void (await exited);
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

async function pumpStderr(stderr: ReadableStream<Uint8Array>, options: SpawnOptions): Promise<void> {
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
    const line = redactText(raw, options.secrets);
    options.onStderrLine?.(line);
    log[options.noise?.test(line) ? "debug" : level](`${options.label}: ${line}`);
  }
}

/** Kills and reaps every child still running (shutdown). */
export async function stopAllChildren(graceMs = 2000): Promise<void> {
  await Promise.all([...live].map((p) => stopProcess(p, p.exited, graceMs)));
}

/** Synchronous last resort for process exit paths that cannot await. */
export function killAllChildrenNow(): void {
  for (const p of live) p.kill("SIGKILL");
}
