/** Orchestrator side of the receiver processes: werift (webrtc-receivers.ts) or aiortc (webrtc_aiortc_receivers.py). */
import { ownChild } from "./children.ts";
import { allReady, endAll, PoolChild } from "./json-lines-child.ts";
import type { PeerResult, ReceiverCommand, ReceiverMessage } from "./webrtc-protocol.ts";

const RECEIVERS_SCRIPT = new URL("./webrtc-receivers.ts", import.meta.url).pathname;
const AIORTC_SCRIPT = new URL("./webrtc_aiortc_receivers.py", import.meta.url).pathname;
/** Debian's python3, with its python3-aiortc (a pyenv python3 earlier on PATH has no aiortc). */
const SYSTEM_PYTHON = "/usr/bin/python3";

/** The WebRTC stack the receivers run: werift (TypeScript, in Bun; counts access units) or aiortc (Python; decodes every frame). */
export type ReceiverKind = "werift" | "aiortc";

/** util-linux setpriv: a child that dies with us even when we are killed with SIGKILL. */
const SETPRIV = Bun.which("setpriv");
export const dieWithUs = (argv: string[]): string[] => (SETPRIV ? [SETPRIV, "--pdeathsig", "KILL", "--", ...argv] : argv);

export class ReceiverProcess extends PoolChild<ReceiverMessage, ReceiverCommand> {
  /** Peers asked for from this process so far. */
  peers = 0;
  /** The peer count of the last "settled" taken. */
  settledPeers = 0;

  /** `trackArrivals`: keep each peer's access-unit arrival times, for the "recovery" command (soak.ts). */
  /** `extra`: more options for the receiver script (the aiortc receivers' --janus --address A). */
  static spawn(base: string, maxSeconds: number, trackArrivals = false, kind: ReceiverKind = "werift", extra: string[] = []): ReceiverProcess {
    const common = ["--base", base, "--max-seconds", String(maxSeconds)];
    const argv =
      kind === "aiortc"
        ? [SYSTEM_PYTHON, AIORTC_SCRIPT, ...common, ...extra]
        : [process.execPath, "run", RECEIVERS_SCRIPT, ...common, ...(trackArrivals ? ["--track-arrivals"] : []), ...extra];
    const proc = Bun.spawn(dieWithUs(argv), { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    ownChild(proc);
    return new ReceiverProcess(proc);
  }

  override send(command: ReceiverCommand): void {
    if (command.type === "connect") this.peers += command.count;
    super.send(command);
  }
}

/** The receiver processes of one round. */
export class ReceiverPool {
  private constructor(readonly procs: ReceiverProcess[]) {}

  static async start(base: string, processes: number, maxSeconds: number, kind: ReceiverKind = "werift", extra: string[] = []): Promise<ReceiverPool> {
    const pool = new ReceiverPool(Array.from({ length: processes }, () => ReceiverProcess.spawn(base, maxSeconds, false, kind, extra)));
    // They start side by side; 30 s each, as when each was waited for in turn.
    await allReady(pool.procs, 30_000 * processes, `a ${kind} receiver process`).catch(async (err: unknown) => {
      await pool.end();
      throw err;
    });
    return pool;
  }

  get pids(): number[] {
    return this.procs.map((p) => p.pid);
  }

  /** Asks for `count` more peers, spread over the processes (fewest peers first); all offers go out at once. */
  connect(count: number): void {
    const share = new Map<ReceiverProcess, number>();
    for (let i = 0; i < count; i++) {
      const p = this.procs.reduce((a, b) => (a.peers + (share.get(a) ?? 0) <= b.peers + (share.get(b) ?? 0) ? a : b));
      share.set(p, (share.get(p) ?? 0) + 1);
    }
    for (const [p, n] of share) p.send({ type: "connect", count: n });
  }

  /** True when every peer asked for has its first frame or has failed before the deadline. */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    let all = true;
    for (const p of this.procs) {
      if (p.peers === p.settledPeers) continue;
      const want = p.peers;
      const m = await p.next("settled", Math.max(0, deadline - performance.now()), (s) => s.peers === want);
      if (m) p.settledPeers = want;
      else all = false;
    }
    return all;
  }

  mark(): void {
    for (const p of this.procs) p.send({ type: "mark" });
  }

  async stop(): Promise<{ peers: (PeerResult & { fps: number })[]; missing: number; icmpErrors: number; lostProcesses: number }> {
    for (const p of this.procs) p.send({ type: "stop" });
    const peers: (PeerResult & { fps: number })[] = [];
    let missing = 0;
    let icmpErrors = 0;
    let lostProcesses = 0;
    for (const p of this.procs) {
      const r = await p.next("result", 10_000);
      if (!r) {
        missing += p.peers;
        lostProcesses++;
        continue;
      }
      icmpErrors += r.icmpErrors;
      const seconds = r.windowMs / 1000;
      for (const peer of r.peers) peers.push({ ...peer, fps: seconds > 0 ? peer.windowFrames / seconds : 0 });
    }
    return { peers, missing, icmpErrors, lostProcesses };
  }

  /** One more peer joins alone (onto everyone connected); its figures, or null if the process did not answer. */
  async probe(): Promise<PeerResult | null> {
    const p = this.procs.reduce((a, b) => (a.peers <= b.peers ? a : b));
    p.send({ type: "probe" });
    p.peers++;
    p.settledPeers = p.peers; // a probe is not waited for through "settled"
    return (await p.next("probe", 15_000))?.peer ?? null;
  }

  /** Every peer closes politely (/close_connection); false if a process did not confirm within 10 s. */
  async close(): Promise<boolean> {
    for (const p of this.procs) p.send({ type: "close" });
    let ok = true;
    for (const p of this.procs) if (!(await p.next("closed", 10_000))) ok = false;
    return ok;
  }

  end(): Promise<void> {
    return endAll(this.procs);
  }
}
