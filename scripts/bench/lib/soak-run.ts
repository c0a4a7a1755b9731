/**
 * One soak run (soak.ts): the server, the load generators and the stalled
 * viewer; the comings and goings (churn.ts); the kills of the capture process
 * and each viewer's return (recovery.ts); the samples and checkpoints; and
 * the loops that time them.
 */
import { Churn } from "./churn.ts";
import { stopTree } from "./children.ts";
import { machineTicks, openFds, processTree, rssMb, ticksPerSecond } from "./proc-stats.ts";
import { epochMs } from "./recovery.ts";
import { busyPct } from "./sampling.ts";
import { fixed as f, median } from "./stats.ts";
import type { RunningServer } from "./server-process.ts";
import { recoveryWindowS, warmupS, type SoakOptions } from "./soak-args.ts";
import type { MjpegTotals, SlotPool } from "./viewer-pool.ts";
import { clock, summarize, type KillResult, type SampleRow } from "./soak-report.ts";
import type { StalledSeat } from "./stalled-viewer.ts";
import type { ReceiverProcess } from "./webrtc-pool.ts";
import type { PeerStatus } from "./webrtc-protocol.ts";
import { apiStreams, serverAlive, serverTree } from "./webrtc-server.ts";

/** How long a checkpoint waits for every viewer to be connected with a picture. */
const CHECKPOINT_WAIT_MS = 20_000;
export const CHECKPOINT_SETTLE_MS = 3000;
export const CHECKPOINT_READINGS = 10;

const log = (message: string) => process.stderr.write(`${message}\n`);
/** % of one core for `ticks` of CPU over `ms`. */
const cpuPct = (ticks: number, ms: number) => (ms > 0 ? (100 * ticks) / ticksPerSecond() / (ms / 1000) : 0);

/** A sample row, with the load generators' totals behind it (for the notes). */
export type Sample = SampleRow & { mjpegTotals: MjpegTotals | null; peers: PeerStatus[] | null };

export class SoakRun {
  readonly startedAt = performance.now();
  readonly stop = new AbortController();
  readonly kills: KillResult[] = [];
  readonly notes: string[] = [];
  killCount = 0;
  serverRestarts = 0;
  restartText = "";
  #prev: { at: number; rootTicks: number; childrenTicks: number; machine: { busy: number; total: number } };
  readonly mjpegChurn: Churn | null;
  readonly webrtcChurn: Churn | null;
  /** The receiver process's peer number of each WebRTC slot's current peer. */
  readonly #peerOfSlot: number[] = [];

  constructor(
    readonly o: SoakOptions,
    readonly server: RunningServer,
    readonly base: string,
    readonly instance: string | null,
    readonly mjpeg: SlotPool | null,
    readonly receivers: ReceiverProcess | null,
    readonly stalled: StalledSeat,
  ) {
    this.#prev = this.#cpuNow();
    this.mjpegChurn = mjpeg
      ? new Churn(
          o.mjpeg,
          (slot) => mjpeg.open(slot),
          (slot) => mjpeg.close(slot),
        )
      : null;
    this.webrtcChurn = receivers
      ? new Churn(
          o.webrtc,
          (slot) => {
            this.#peerOfSlot[slot] = receivers.peers;
            receivers.send({ type: "connect", count: 1 });
          },
          (slot) => receivers.send({ type: "leave", peer: this.#peerOfSlot[slot]! }),
        )
      : null;
  }

  get elapsedS(): number {
    return (performance.now() - this.startedAt) / 1000;
  }
  get aborted(): boolean {
    return this.stop.signal.aborted;
  }

  /** Resolves at `seconds` into the run, or at once when the run is stopped. */
  async at(seconds: number): Promise<void> {
    const ms = this.startedAt + seconds * 1000 - performance.now();
    if (ms <= 0 || this.aborted) return;
    const signal = this.stop.signal;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }

  /**
   * CPU ticks so far of the server process, and of its descendants: those running now plus those reaped
   * (cutime + cstime), so that a capture killed or an encoder restarted between two samples still counts.
   */
  #cpuNow() {
    const [root, ...children] = processTree(this.server.proc.pid);
    return {
      at: performance.now(),
      rootTicks: root?.ticks ?? 0,
      childrenTicks: (root?.reapedTicks ?? 0) + children.reduce((t, c) => t + c.ticks + c.reapedTicks, 0),
      machine: machineTicks(),
    };
  }

  /** The server died or was replaced: counted once, and the run ends. */
  serverGone(text: string): void {
    if (this.serverRestarts > 0) return;
    this.serverRestarts = 1;
    this.restartText = `${text} at ${clock(this.elapsedS)}`;
    log(`the server ${text}; the run ends here. Its last lines: ${this.server.stderrTail.slice(-5).join(" ⏎ ") || "(none)"}`);
    this.stop.abort();
  }

  async webrtcStatus(): Promise<PeerStatus[] | null> {
    if (!this.receivers) return null;
    this.receivers.send({ type: "status" });
    return (await this.receivers.next("status", 5000))?.peers ?? null;
  }

  async sample(checkpoint: SampleRow["checkpoint"]): Promise<Sample> {
    const pid = this.server.proc.pid;
    const now = this.#cpuNow();
    const prev = this.#prev;
    this.#prev = now;
    const [api, mjpegTotals, peers] = await Promise.all([apiStreams(this.base), this.mjpeg?.status() ?? null, this.webrtcStatus()]);
    if (!serverAlive(this.server)) this.serverGone(`exited (${this.server.proc.exitCode ?? this.server.proc.signalCode})`);
    else if (api && this.instance && api.instance !== this.instance) this.serverGone(`was replaced (/api/streams instance ${this.instance} → ${api.instance})`);
    const sum = (pick: (s: { viewers: number; webrtcViewers: number }) => number) => (api ? api.streams.reduce((t, s) => t + pick(s), 0) : null);
    if (mjpegTotals?.stuck) {
      this.notes.push(`at ${clock(this.elapsedS)}: ${mjpegTotals.stuck} MJPEG viewer(s) connected but without any part (not even NO SIGNAL) for 3 s`);
    }
    return {
      elapsedS: this.elapsedS,
      checkpoint,
      pid,
      sameServer: serverAlive(this.server) && (api === null || this.instance === null || api.instance === this.instance),
      rssMb: rssMb(pid),
      fds: openFds(pid),
      serverCpuPct: cpuPct(now.rootTicks - prev.rootTicks, now.at - prev.at),
      childrenCpuPct: cpuPct(now.childrenTicks - prev.childrenTicks, now.at - prev.at),
      machineBusyPct: busyPct(prev, now),
      mjpeg: { ours: this.mjpeg ? (mjpegTotals?.open ?? null) : 0, server: sum((s) => s.viewers), stuck: mjpegTotals?.stuck ?? 0 },
      webrtc: { ours: peers ? peers.filter((p) => p.open && p.hasFrame).length : this.receivers ? null : 0, server: sum((s) => s.webrtcViewers) },
      mjpegFrames: this.mjpeg ? (mjpegTotals?.real ?? null) : 0,
      webrtcFrames: peers ? peers.reduce((t, p) => t + p.frames, 0) : this.receivers ? null : 0,
      kills: this.killCount,
      stalled: this.stalled.state(),
      stalledDrops: this.stalled.drops.length,
      mjpegTotals,
      peers,
    };
  }

  /** Every viewer connected with a picture (or CHECKPOINT_WAIT_MS passed), 3 s more, then a sample. */
  async checkpoint(kind: "baseline" | "final"): Promise<Sample> {
    this.mjpegChurn?.hold();
    this.webrtcChurn?.hold();
    const deadline = performance.now() + CHECKPOINT_WAIT_MS;
    let ready = false;
    while (!ready && performance.now() < deadline && !this.aborted) {
      const [m, peers] = await Promise.all([this.mjpeg?.status() ?? null, this.webrtcStatus()]);
      ready = (!this.mjpeg || m?.withPicture === this.o.mjpeg) && (!this.receivers || peers?.filter((p) => p.open && p.hasFrame).length === this.o.webrtc);
      if (!ready) await Bun.sleep(250);
    }
    if (!ready)
      this.notes.push(`${kind} checkpoint at ${clock(this.elapsedS)}: not every viewer had a picture after ${CHECKPOINT_WAIT_MS / 1000} s; sampled anyway`);
    await Bun.sleep(CHECKPOINT_SETTLE_MS);
    // RSS moves with the garbage collector: the checkpoint's figures are medians of readings every 0.5 s for 5 s.
    const rss: number[] = [];
    const fds: { total: number; sockets: number }[] = [];
    for (let i = 0; i < CHECKPOINT_READINGS; i++) {
      const r = rssMb(this.server.proc.pid);
      const d = openFds(this.server.proc.pid);
      if (r !== null) rss.push(r);
      if (d) fds.push(d);
      await Bun.sleep(500);
    }
    const row = await this.sample(kind);
    if (rss.length) row.rssMb = median(rss);
    if (fds.length) row.fds = { total: Math.round(median(fds.map((d) => d.total))), sockets: Math.round(median(fds.map((d) => d.sockets))) };
    const stalledUp = row.stalled?.serverState === "ESTABLISHED";
    const expectMjpeg = this.o.mjpeg + (stalledUp ? 1 : 0);
    if (row.mjpeg.server !== null && row.mjpeg.server !== expectMjpeg) {
      this.notes.push(
        `${kind} checkpoint: the server counted ${row.mjpeg.server} MJPEG viewers; ${expectMjpeg} were connected` +
          (stalledUp ? ` (${this.o.mjpeg} + the stalled one)` : ""),
      );
    }
    if (row.webrtc.server !== null && row.webrtc.server !== this.o.webrtc) {
      this.notes.push(`${kind} checkpoint: the server counted ${row.webrtc.server} WebRTC viewers; ${this.o.webrtc} peers were connected`);
    }
    if (kind === "baseline") {
      this.mjpegChurn?.resume();
      this.webrtcChurn?.resume();
    }
    return row;
  }

  /** The server's capture processes: its ffmpeg children that are not the H.264 encoder. */
  captures(): number[] {
    const pid = this.server.proc.pid;
    return serverTree(this.server)
      .filter((s) => s.ppid === pid && s.role === "capture" && s.state !== "Z")
      .map((s) => s.pid);
  }

  async kill(index: number): Promise<void> {
    const windowS = recoveryWindowS(this.o);
    let targets = this.captures();
    for (let i = 0; targets.length === 0 && i < 50 && !this.aborted; i++) {
      await Bun.sleep(100);
      targets = this.captures();
    }
    if (targets.length === 0) {
      this.notes.push(`kill ${index} at ${clock(this.elapsedS)}: no capture process found for 5 s; nothing killed`);
      return;
    }
    const elapsedS = this.elapsedS;
    const killAt = epochMs();
    for (const pid of targets) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone meanwhile */
      }
    }
    this.killCount++;
    if (targets.length > 1) this.notes.push(`kill ${index}: ${targets.length} capture processes were running (${targets.join(", ")}); all killed`);
    let captureBackS: number | null = null;
    const watchEnd = performance.now() + windowS * 1000;
    while (captureBackS === null && performance.now() < watchEnd && !this.aborted) {
      if (this.captures().some((pid) => !targets.includes(pid))) captureBackS = (epochMs() - killAt) / 1000;
      else await Bun.sleep(100);
    }
    await this.at((watchEnd - this.startedAt) / 1000);
    if (this.aborted) return;
    const [mjpeg, webrtc] = await Promise.all([
      this.mjpeg?.recovery(killAt) ?? null,
      (async () => {
        if (!this.receivers) return null;
        this.receivers.send({ type: "recovery", killAt });
        return (await this.receivers.next("recovery", 5000, (m) => m.killAt === killAt))?.peers ?? null;
      })(),
    ]);
    const k: KillResult = { index, elapsedS, capturePid: targets[0]!, captureBackS, mjpeg, webrtc };
    this.kills.push(k);
    const brief = (label: string, list: typeof mjpeg) => {
      if (!list) return `${label} —`;
      const s = summarize(list);
      return `${label} ${s.back.length ? `max ${f(Math.max(...s.back), 2)} s` : "—"} (${s.watched} watched${s.notBack ? `, ${s.notBack} NOT BACK` : ""})`;
    };
    log(
      `kill ${index} at ${clock(elapsedS)}: capture ${targets.join(", ")} killed; new capture after ${f(captureBackS)} s; ` +
        `${brief("MJPEG", mjpeg)}; ${brief("WebRTC", webrtc)}`,
    );
  }
}

export async function killLoop(run: SoakRun): Promise<void> {
  const windowS = recoveryWindowS(run.o);
  for (let k = 1; k * run.o.killEvery + windowS <= run.o.seconds; k++) {
    await run.at(k * run.o.killEvery);
    if (run.aborted) return;
    await run.kill(k);
  }
}

export async function sampleLoop(run: SoakRun, rows: SampleRow[], print: (row: SampleRow) => void): Promise<void> {
  const warm = warmupS(run.o);
  for (let k = 1; k * run.o.sampleEvery < run.o.seconds; k++) {
    const t = k * run.o.sampleEvery;
    await run.at(t);
    if (run.aborted) return;
    const row = rows.some((r) => r.checkpoint === "baseline") || t < warm ? await run.sample(null) : await run.checkpoint("baseline");
    rows.push(row);
    print(row);
  }
}

/** Until the run stops: notices at once when the server exits; a new stalled viewer when the server dropped the last one. */
export async function watchServer(run: SoakRun): Promise<void> {
  let lastCheck = 0;
  while (!run.aborted) {
    if (!serverAlive(run.server)) run.serverGone(`exited (${run.server.proc.exitCode ?? run.server.proc.signalCode})`);
    else if (performance.now() - lastCheck >= 2000) {
      lastCheck = performance.now();
      try {
        await run.stalled.check((proc) => stopTree(proc));
      } catch (err) {
        run.notes.push(`at ${clock(run.elapsedS)}: a new stalled viewer could not connect: ${(err as Error).message}`);
      }
    }
    await Bun.sleep(500);
  }
}
