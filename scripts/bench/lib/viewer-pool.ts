/** Orchestrator side of the MJPEG viewer processes (mjpeg-viewers.ts): a fan-out round (runRound), or the soak's slots (SlotPool). */
import { allReady, endAll, type PoolChild, spawnChild, spawnShares } from "./json-lines-child.ts";
import { rssMb } from "./proc-stats.ts";
import type { Recovery } from "./recovery.ts";
import { type RoundSample, sampleRound } from "./sampling.ts";
import type { FanoutCommand, SlotCommand, SlotStatus, ViewerMessage, ViewerResult } from "./viewer-protocol.ts";
import { dieWithUs } from "./webrtc-pool.ts";

const VIEWERS_SCRIPT = new URL("./mjpeg-viewers.ts", import.meta.url).pathname;

export interface RoundTiming {
  /** Longest wait for every viewer's first frame before the window starts. */
  settleMs: number;
  /** Time after that (every first frame, or settleMs) before the window starts; default 0. */
  warmupMs?: number;
  windowMs: number;
  /** Called right before "mark" and right before "stop" with the viewer processes' pids (sampling). */
  onMark: (clientPids: number[]) => void;
  onStop: (clientPids: number[]) => void;
}

export interface RoundResult {
  viewers: (ViewerResult & { fps: number; bytesPerSecond: number })[];
  settled: boolean;
}

/** Spawns `processes` viewer processes sharing `count` viewers, and runs one round. */
export async function runRound(port: number, count: number, processes: number, timing: RoundTiming): Promise<RoundResult> {
  const maxSeconds = Math.ceil((timing.settleMs + (timing.warmupMs ?? 0) + timing.windowMs) / 1000) + 30;
  const procs = spawnShares<ViewerMessage, FanoutCommand>(VIEWERS_SCRIPT, count, processes, ["--port", String(port), "--max-seconds", String(maxSeconds)]);
  const pids = procs.map((p) => p.pid);
  try {
    await allReady(procs, 20_000, "a viewer process");
    for (const p of procs) p.send("go");
    const settleDeadline = performance.now() + timing.settleMs;
    let settled = true;
    for (const p of procs) {
      const left = Math.max(0, settleDeadline - performance.now());
      if (!(await p.next("settled", left))) settled = false;
    }
    if (timing.warmupMs) await Bun.sleep(timing.warmupMs);
    timing.onMark(pids);
    for (const p of procs) p.send("mark");
    await Bun.sleep(timing.windowMs);
    timing.onStop(pids);
    for (const p of procs) p.send("stop");
    const viewers: RoundResult["viewers"] = [];
    for (const p of procs) {
      const result = await p.next("result", 10_000);
      if (!result) throw new Error("a viewer process gave no result");
      const seconds = result.windowMs / 1000;
      for (const v of result.viewers)
        viewers.push({ ...v, fps: seconds > 0 ? v.windowParts / seconds : 0, bytesPerSecond: seconds > 0 ? v.windowBytes / seconds : 0 });
    }
    return { viewers, settled };
  } finally {
    await endAll(procs);
  }
}

type SlotProcess = PoolChild<ViewerMessage, SlotCommand>;

export type MjpegTotals = Omit<SlotStatus, "type">;

/** The soak's viewers (--classify): slots spread over the processes, each opened and closed when the soak says. */
export class SlotPool {
  private constructor(readonly procs: SlotProcess[]) {}

  static async start(port: number, processes: number, maxSeconds: number): Promise<SlotPool> {
    const argv = [process.execPath, "run", VIEWERS_SCRIPT, "--port", String(port), "--max-seconds", String(maxSeconds), "--classify"];
    const pool = new SlotPool(Array.from({ length: processes }, () => spawnChild<ViewerMessage, SlotCommand>(dieWithUs(argv))));
    try {
      await allReady(pool.procs, 15_000 * processes, "an MJPEG viewer process");
    } catch (err) {
      await pool.end();
      throw err;
    }
    return pool;
  }

  get pids(): number[] {
    return this.procs.map((p) => p.pid);
  }

  #of(slot: number): SlotProcess {
    return this.procs[slot % this.procs.length]!;
  }

  open(slot: number): void {
    this.#of(slot).send({ type: "open", slot });
  }
  close(slot: number): void {
    this.#of(slot).send({ type: "close", slot });
  }

  /** Totals over every process, or null if one did not answer within 5 s. */
  async status(): Promise<MjpegTotals | null> {
    for (const p of this.procs) p.send({ type: "status" });
    const answers: SlotStatus[] = [];
    for (const p of this.procs) {
      const s = await p.next("status", 5000);
      if (!s) return null;
      answers.push(s);
    }
    const sum = (f: (s: SlotStatus) => number) => answers.reduce((total, s) => total + f(s), 0);
    return {
      open: sum((s) => s.open),
      withPicture: sum((s) => s.withPicture),
      stuck: sum((s) => s.stuck),
      real: sum((s) => s.real),
      repeats: sum((s) => s.repeats),
      placeholders: sum((s) => s.placeholders),
      broken: sum((s) => s.broken),
      lastBroken: answers.map((s) => s.lastBroken).find((m) => m !== null) ?? null,
      bytes: sum((s) => s.bytes),
      viewerSeconds: sum((s) => s.viewerSeconds),
      failures: sum((s) => s.failures),
      lastFailure: answers.map((s) => s.lastFailure).find((m) => m !== null) ?? null,
      decoded: sum((s) => s.decoded),
    };
  }

  /** Every process's viewers that were watching at killAt; null if a process did not answer within 5 s. */
  async recovery(killAt: number): Promise<Recovery[] | null> {
    for (const p of this.procs) p.send({ type: "recovery", killAt });
    const out: Recovery[] = [];
    for (const p of this.procs) {
      const r = await p.next("recovery", 5000, (m) => m.killAt === killAt);
      if (!r) return null;
      out.push(...r.viewers);
    }
    return out;
  }

  async end(): Promise<void> {
    await endAll(this.procs);
  }
}

export interface SampledRound extends RoundResult {
  /** The server tree, the viewer processes and the machine at the window's start and end (sampling.ts). */
  begin: RoundSample;
  end: RoundSample;
  /** RSS (MB) of each process of the server tree at the window's end, by pid. */
  rss: Map<number, number | null>;
}

/** runRound with the server tree (serverPid), the viewers and the machine sampled at the window's start and end. */
export async function sampledRound(
  serverPid: number,
  port: number,
  count: number,
  processes: number,
  timing: Omit<RoundTiming, "onMark" | "onStop">,
): Promise<SampledRound> {
  let begin: RoundSample | undefined;
  let end: RoundSample | undefined;
  const rss = new Map<number, number | null>();
  const round = await runRound(port, count, processes, {
    ...timing,
    onMark: (pids) => {
      begin = sampleRound(serverPid, pids);
    },
    onStop: (pids) => {
      end = sampleRound(serverPid, pids);
      for (const s of end.tree) rss.set(s.pid, rssMb(s.pid));
    },
  });
  if (!begin || !end) throw new Error("the round ended without samples");
  return { ...round, begin, end, rss };
}
