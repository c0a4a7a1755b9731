/** Orchestrator side of the viewer processes: spawn, drive one round, collect. */
import type { ViewerMessage, ViewerResult } from "./viewer-protocol.ts";
import { allReady, endAll, spawnShares } from "./json-lines-child.ts";

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
  const procs = spawnShares<ViewerMessage>(VIEWERS_SCRIPT, count, processes, ["--port", String(port), "--max-seconds", String(maxSeconds)]);
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
