/** Orchestrator side of the soak's MJPEG viewer processes (soak-mjpeg-viewers.ts): slots spread over the processes. */
import { allReady, endAll, type PoolChild, spawnChild } from "./json-lines-child.ts";
import type { Recovery } from "./recovery.ts";
import type { SoakViewerCommand, SoakViewerMessage, SoakViewerStatus } from "./soak-protocol.ts";
import { dieWithUs } from "./webrtc-pool.ts";

const SCRIPT = new URL("./soak-mjpeg-viewers.ts", import.meta.url).pathname;

type SoakViewerProcess = PoolChild<SoakViewerMessage, SoakViewerCommand>;

export type MjpegTotals = Omit<SoakViewerStatus, "type">;

export class SoakMjpegPool {
  private constructor(readonly procs: SoakViewerProcess[]) {}

  static async start(port: number, processes: number, maxSeconds: number): Promise<SoakMjpegPool> {
    const argv = [process.execPath, "run", SCRIPT, "--port", String(port), "--max-seconds", String(maxSeconds)];
    const pool = new SoakMjpegPool(Array.from({ length: processes }, () => spawnChild<SoakViewerMessage, SoakViewerCommand>(dieWithUs(argv))));
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

  #of(slot: number): SoakViewerProcess {
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
    const answers: SoakViewerStatus[] = [];
    for (const p of this.procs) {
      const s = await p.next("status", 5000);
      if (!s) return null;
      answers.push(s);
    }
    const sum = (f: (s: SoakViewerStatus) => number) => answers.reduce((total, s) => total + f(s), 0);
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
