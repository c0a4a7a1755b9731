/**
 * The server process's own figures for /state and /metrics: resident memory
 * and open file descriptors from /proc/self (Linux), CPU time from the
 * runtime. A figure that cannot be read here (another OS) is null.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface ProcessFigures {
  /** Resident set size in bytes (VmRSS). */
  readonly residentBytes: number | null;
  /** File descriptors open now (sockets, pipes to child processes, files). */
  readonly openFds: number | null;
  /** User plus system CPU time since the process started, in seconds. */
  readonly cpuSeconds: number;
}

function residentBytes(): number | null {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "latin1"))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

function openFds(): number | null {
  try {
    // Listing the folder opens one descriptor for the listing itself: not counted.
    return Math.max(0, readdirSync("/proc/self/fd").length - 1);
  } catch {
    return null;
  }
}

export function processFigures(): ProcessFigures {
  const { user, system } = process.cpuUsage();
  return { residentBytes: residentBytes(), openFds: openFds(), cpuSeconds: (user + system) / 1e6 };
}
