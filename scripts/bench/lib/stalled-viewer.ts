/**
 * A viewer that stalls: it connects to `GET /video` and never reads a byte,
 * so its socket's receive buffer fills and stays full (bash's /dev/tcp; the
 * process then only sleeps). Its state is read from /proc/net/tcp: whether
 * the connection is still up, the bytes waiting unread on its side and the
 * bytes the server has queued for it in the kernel.
 *
 * The server may give up on it (glasscast closes a connection on which no
 * byte moved for 60 s): StalledSeat then connects a new stalled viewer, so
 * that one is stalled for the whole run, and notes after how long each was
 * dropped.
 */
import type { Subprocess } from "bun";
import { readFileSync, readlinkSync } from "node:fs";
import { ownChild } from "./children.ts";
import { dieWithUs } from "./webrtc-pool.ts";

export interface StalledViewer {
  proc: Subprocess;
  port: number;
}

export interface StalledState {
  /** The TCP state of its socket ("ESTABLISHED", "CLOSE_WAIT", …). */
  state: string;
  /** Bytes received and never read. */
  unread: number;
  /** The state of the server's end ("ESTABLISHED"; "FIN_WAIT1" once the server closed it with bytes still queued), null when gone. */
  serverState: string | null;
  /** Bytes the server has written that are queued in its socket (null when its end is gone). */
  serverQueued: number | null;
}

const TCP_STATES: Record<string, string> = {
  "01": "ESTABLISHED",
  "02": "SYN_SENT",
  "03": "SYN_RECV",
  "04": "FIN_WAIT1",
  "05": "FIN_WAIT2",
  "06": "TIME_WAIT",
  "07": "CLOSE",
  "08": "CLOSE_WAIT",
  "09": "LAST_ACK",
  "0A": "LISTEN",
  "0B": "CLOSING",
};

export async function startStalledViewer(port: number): Promise<StalledViewer> {
  const script = `exec 3<>/dev/tcp/127.0.0.1/${port} || exit 1
printf 'GET /video HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 || exit 1
exec sleep infinity`;
  const proc = Bun.spawn(dieWithUs(["bash", "-c", script]), { stdin: "ignore", stdout: "ignore", stderr: "inherit" });
  ownChild(proc);
  const viewer = { proc, port };
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`the stalled viewer could not connect (bash exited ${proc.exitCode})`);
    if (stalledState(viewer)) return viewer;
    await Bun.sleep(50);
  }
  throw new Error("the stalled viewer's connection did not show up in /proc/net/tcp within 5 s");
}

interface TcpLine {
  local: number;
  remote: number;
  state: string;
  tx: number;
  rx: number;
  inode: string;
}

function tcpLines(): TcpLine[] {
  let text: string;
  try {
    text = readFileSync("/proc/net/tcp", "latin1");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .slice(1)
    .flatMap((line) => {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) return [];
      const [tx, rx] = f[4]!.split(":").map((h) => parseInt(h, 16));
      return [
        {
          local: parseInt(f[1]!.split(":")[1]!, 16),
          remote: parseInt(f[2]!.split(":")[1]!, 16),
          state: TCP_STATES[f[3]!] ?? f[3]!,
          tx: tx!,
          rx: rx!,
          inode: f[9]!,
        },
      ];
    });
}

/** Its connection as the kernel sees it, or null when its socket is gone. */
export function stalledState(viewer: StalledViewer): StalledState | null {
  let inode: string;
  try {
    inode = /socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${viewer.proc.pid}/fd/3`))?.[1] ?? "";
  } catch {
    return null;
  }
  const lines = tcpLines();
  const mine = lines.find((l) => l.inode === inode);
  if (!mine) return null;
  const server = lines.find((l) => l.local === viewer.port && l.remote === mine.local);
  return { state: mine.state, unread: mine.rx, serverState: server?.state ?? null, serverQueued: server ? server.tx : null };
}

/** True when the server has closed (or lost) its end of the stalled viewer's connection. */
export function droppedByServer(s: StalledState | null): boolean {
  return s === null || s.serverState !== "ESTABLISHED" || s.state !== "ESTABLISHED";
}

/** One stalled viewer at all times: a new one connects when the server drops the current one. */
export class StalledSeat {
  /** Seconds each dropped viewer had been connected when the server dropped it. */
  readonly drops: number[] = [];
  #connectedAt = performance.now();

  private constructor(public viewer: StalledViewer) {}

  static async start(port: number): Promise<StalledSeat> {
    return new StalledSeat(await startStalledViewer(port));
  }

  state(): StalledState | null {
    return stalledState(this.viewer);
  }

  /** Replaces the viewer if the server has dropped it; stopOld ends the old process. */
  async check(stopOld: (proc: Subprocess) => Promise<unknown>): Promise<void> {
    if (!droppedByServer(this.state())) return;
    this.drops.push((performance.now() - this.#connectedAt) / 1000);
    const old = this.viewer;
    this.viewer = await startStalledViewer(old.port);
    this.#connectedAt = performance.now();
    await stopOld(old.proc);
  }
}
