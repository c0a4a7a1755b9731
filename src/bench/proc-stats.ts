/** CPU time and memory of a process tree, read from /proc (Linux only). */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z (zombie), … */
  state: string;
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
  /** Start time after boot, in clock ticks (tells a reused pid apart). */
  start: number;
  /** cutime + cstime: the CPU of its children that have exited and been waited for, in clock ticks. */
  reapedTicks: number;
}

let clockTicks = 0;
/** Clock ticks per second (getconf CLK_TCK; 100 on Linux almost everywhere). */
export function ticksPerSecond(): number {
  if (clockTicks) return clockTicks;
  const out = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
  const value = Number(out.stdout.toString().trim());
  clockTicks = Number.isFinite(value) && value > 0 ? value : 100;
  return clockTicks;
}

export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  // comm is in parentheses and may itself contain spaces or parentheses.
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const f = text.slice(close + 2).split(" ");
  // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17, starttime 22.
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: f[0] ?? "?",
    ppid: Number(f[1]),
    ticks: Number(f[11]) + Number(f[12]),
    start: Number(f[19]),
    reapedTicks: Number(f[13]) + Number(f[14]),
  };
}

/** Every live process, from /proc. */
export function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) out.push(stat);
  }
  return out;
}

/** The process and all its live descendants (found through ppid), root first. */
export function processTree(rootPid: number): ProcStat[] {
  const stats = allStats();
  const root = stats.find((s) => s.pid === rootPid);
  if (!root) return [];
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i]!.pid;
    for (const s of stats) if (s.ppid === parent) tree.push(s);
  }
  return tree;
}

/** CPU ticks of a set of processes, keyed by pid and start time. */
export type CpuSample = { at: number; ticks: Map<string, number> };

export function sampleCpu(stats: ProcStat[]): CpuSample {
  return { at: performance.now(), ticks: new Map(stats.map((s) => [`${s.pid}@${s.start}`, s.ticks])) };
}

/**
 * CPU used between two samples, in % of one core. A process present only in
 * the end sample counts from zero (it started in the window); one that exited
 * before the end is lost.
 */
export function cpuPercent(begin: CpuSample, end: CpuSample): number {
  let ticks = 0;
  for (const [key, t] of end.ticks) ticks += t - (begin.ticks.get(key) ?? 0);
  const seconds = (end.at - begin.at) / 1000;
  return seconds > 0 ? (100 * ticks) / ticksPerSecond() / seconds : 0;
}

/** A process's command line, arguments joined by spaces; "" when it is gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ").trimEnd();
  } catch {
    return "";
  }
}

/** VmRSS of a process in MB (10^6 bytes), or null when it is gone. */
export function rssMb(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    return null;
  }
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(text)?.[1];
  return kb === undefined ? null : (Number(kb) * 1024) / 1e6;
}

/** A process's open file descriptors (/proc/PID/fd), and how many of them are sockets; null when it is gone. */
export function openFds(pid: number): { total: number; sockets: number } | null {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  let sockets = 0;
  for (const name of names) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${name}`).startsWith("socket:")) sockets++;
    } catch {
      /* closed meanwhile */
    }
  }
  return { total: names.length, sockets };
}

/** CPU time and busy share of the whole machine, from /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "latin1").split("\n", 1)[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already in user
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}
