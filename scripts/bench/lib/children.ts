/**
 * The processes this benchmark started. Whatever way the run ends (done,
 * error, Ctrl-C), none of them, nor anything they started, is left running.
 */
import type { Subprocess } from "bun";
import { processTree, readStat, type ProcStat } from "./proc-stats.ts";

const owned = new Set<Subprocess>();

export function ownChild(proc: Subprocess): void {
  owned.add(proc);
}

export function disownChild(proc: Subprocess): void {
  owned.delete(proc);
}

function stillRunning(s: ProcStat): boolean {
  const now = readStat(s.pid);
  return now !== null && now.start === s.start && now.state !== "Z";
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * SIGTERM, then SIGKILL after graceMs. The descendants are noted before the
 * SIGTERM; those still running 1 s after the process is gone were left behind
 * by it: they are killed too and returned, so the report can say so.
 */
export async function stopTree(proc: Subprocess, graceMs = 3000): Promise<ProcStat[]> {
  const descendants = processTree(proc.pid).slice(1);
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill("SIGTERM");
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
    if (!exited) {
      proc.kill("SIGKILL");
      await Promise.race([proc.exited, Bun.sleep(1000)]);
    }
  }
  // A child may be reaped a moment after its parent; give the descendants 1 s.
  let leftovers = descendants.filter(stillRunning);
  for (let i = 0; i < 20 && leftovers.length; i++) {
    await Bun.sleep(50);
    leftovers = leftovers.filter(stillRunning);
  }
  for (const s of leftovers) killPid(s.pid, "SIGKILL");
  owned.delete(proc);
  return leftovers;
}

/** Last resort, synchronous (process "exit"): SIGKILL every owned process tree. */
export function killAllNow(): void {
  for (const proc of owned) {
    for (const s of processTree(proc.pid).reverse()) killPid(s.pid, "SIGKILL");
    proc.kill("SIGKILL");
  }
  owned.clear();
}

let stopping: Promise<void> | null = null;

/** Stops every owned process (SIGTERM, SIGKILL after 3 s), once, in parallel. */
export function stopAll(): Promise<void> {
  stopping ??= Promise.all([...owned].map((p) => stopTree(p))).then(() => undefined);
  return stopping;
}

/** Ctrl-C / SIGTERM / normal exit all end with every child stopped. */
export function installExitHandlers(): void {
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping the server and the viewers…`);
      void stopAll().finally(() => process.exit(code));
      setTimeout(() => process.exit(code), 5000).unref();
    });
  };
  onSignal("SIGINT", 130);
  onSignal("SIGTERM", 143);
  onSignal("SIGHUP", 129);
  process.on("exit", killAllNow);
}

/**
 * Runs a benchmark's main and ends the process: every child stopped either
 * way, exit 0 when it ran (targets met or not), 1 with its message when it
 * could not run.
 */
export async function runBenchmark(program: string, main: () => Promise<void>): Promise<never> {
  try {
    await main();
  } catch (err) {
    console.error(`${program}: ${(err as Error).message}`);
    await stopAll();
    process.exit(1);
  }
  await stopAll();
  process.exit(0);
}
