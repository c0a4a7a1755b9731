/**
 * WebRTC fan-out benchmark: one glasscast server (testsrc 1280x720 at 30 fps,
 * one shared libx264 encoder) and 1, 5, 20 werift receivers, plus one
 * Chromium page that decodes. Prints a Markdown report on stdout (progress
 * goes to stderr); exits 0 whether targets pass or fail.
 *
 *   bun run scripts/bench/webrtc-peers.ts [--duration 10] [--peers 1,5,20] [--no-browser] [--clients 2]
 *
 * A round: the first werift peer connects alone (its offer starts the H.264
 * encoder: the cold start); once it has a frame, the Chromium page opens and
 * waits for its picture; then the other werift peers send their offers all
 * at once. When every peer has its first frame (or after --settle s) and 1 s
 * more has passed, the measuring window starts and lasts --duration s: fps, CPU of
 * the server and its children and of the load generators, from /proc, RSS at
 * its end. After the window one more werift peer joins alone (the late
 * join: what a new viewer of a watched stream sees). Then every peer closes (/close_connection; the page closes its own
 * on pagehide) and the round waits for the encoder to stop, so the next round
 * starts cold again.
 *
 * The werift receivers run in --clients processes of their own
 * (lib/webrtc-receivers.ts, announcing 127.0.0.1). Chromium gathers ICE
 * candidates only on its default-route interface, so it runs in a network
 * namespace of ours (test/helpers/netns.ts): then the server listens on our
 * end of the veth pair and announces that address, which the werift peers
 * (on loopback, in this namespace) reach as well. With --no-browser the
 * server listens on and announces 127.0.0.1. Nothing goes to the LAN address.
 */
import { cpus } from "node:os";
import { readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import type { Browser } from "playwright-core";
import { launchChromium } from "../../test/helpers/browser.ts";
import { withClientNetwork, type ClientNetwork } from "../../test/helpers/netns.ts";
import { installExitHandlers, runBenchmark, stopTree } from "./lib/children.ts";
import { machineTicks, processTree, readStat, rssMb, ticksPerSecond, type ProcStat } from "./lib/proc-stats.ts";
import { parseArgsOrExit, type WebRtcBenchOptions } from "./lib/webrtc-args.ts";
import { argvOf, floorCommand, measureProcess, measureSendFloor } from "./lib/webrtc-floor.ts";
import { janusRound, removeJanusNow, startJanus, stopJanus, type Janus } from "./lib/webrtc-janus.ts";
import { PageViewer } from "./lib/webrtc-page.ts";
import { ReceiverPool } from "./lib/webrtc-pool.ts";
import type { PeerResult } from "./lib/webrtc-protocol.ts";
import {
  comparison,
  detailTable,
  floorTable,
  janusTable,
  mainTable,
  medianOrNull,
  phasesTable,
  plural,
  targetsTable,
  type CpuByRole,
  type Phases,
  type RoundFloors,
  type WebRtcRound,
} from "./lib/webrtc-report.ts";
import { encoderCount, serverAlive, serverTree, startWebRtcServer, webrtcViewers, type Role, type WebRtcServer } from "./lib/webrtc-server.ts";

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;

const log = (message: string) => process.stderr.write(`${message}\n`);

// ---- cleanup that survives Ctrl-C ------------------------------------------------
// Playwright's own SIGINT handler closes the browser and exits, and our handler
// (children.ts) exits once the server and receivers are stopped: either way the
// finally blocks below are skipped. So on exit, synchronously: kill whatever we
// started that is still there, and remove the network namespace.
let activeNetwork: ClientNetwork | null = null;

function namespaceOf(net: ClientNetwork): string | null {
  try {
    return /ip netns exec (\S+)/.exec(readFileSync(net.chromium, "utf8"))?.[1] ?? null;
  } catch {
    return null;
  }
}

function removeNetworkNow(): void {
  const net = activeNetwork;
  activeNetwork = null;
  if (!net) return;
  const ns = namespaceOf(net);
  if (ns) Bun.spawnSync(["ip", "netns", "del", ns], { stdout: "ignore", stderr: "ignore" }); // the veth pair goes with it
  rmSync(dirname(net.chromium), { recursive: true, force: true });
}

/**
 * Even SIGKILL cannot leave the namespace behind: a shell that waits for this
 * process to be gone, then removes it (and exits). Killed when the network is
 * removed the normal way.
 */
function guardNetwork(net: ClientNetwork): Subprocess | null {
  const ns = namespaceOf(net);
  if (!ns) return null;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ip netns del ${ns} 2>/dev/null; rm -rf '${dirname(net.chromium)}'`;
  return Bun.spawn(["sh", "-c", script], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
}

function killDescendantsNow(): void {
  for (const s of processTree(process.pid).slice(1).reverse()) {
    try {
      process.kill(s.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}

/** A Chromium launcher that also dies when this process dies, however it dies (util-linux setpriv). */
function chromiumDyingWithUs(net: ClientNetwork): string {
  const setpriv = Bun.which("setpriv");
  if (!setpriv) return net.chromium;
  const path = join(dirname(net.chromium), "chromium-dies-with-bench");
  writeFileSync(path, `#!/bin/sh\nexec ${setpriv} --pdeathsig KILL -- ${net.chromium} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

// ---- sampling --------------------------------------------------------------------
interface Sample {
  at: number;
  tree: (ProcStat & { role: Role })[];
  receivers: ProcStat[];
  chromium: ProcStat[];
  self: ProcStat[];
  machine: { busy: number; total: number };
}

function sample(server: WebRtcServer, receiverPids: number[]): Sample {
  const tree = serverTree(server);
  const receiverTrees = receiverPids.flatMap((pid) => processTree(pid));
  const known = new Set([...tree, ...receiverTrees].map((s) => s.pid));
  // Everything else we started is Chromium (its browser, zygote, GPU and renderer processes).
  const chromium = processTree(process.pid)
    .slice(1)
    .filter((s) => !known.has(s.pid) && s.comm.startsWith("chrom"));
  const self = [readStat(process.pid)].filter((x): x is ProcStat => x !== null);
  return { at: performance.now(), tree, receivers: receiverTrees, chromium, self, machine: machineTicks() };
}

/** CPU in % of one core between two samples of the same processes (pid and start time); new ones count from zero. */
function cpuOf(begin: ProcStat[], end: ProcStat[], seconds: number): number {
  const before = new Map(begin.map((s) => [`${s.pid}@${s.start}`, s.ticks]));
  let ticks = 0;
  for (const s of end) ticks += s.ticks - (before.get(`${s.pid}@${s.start}`) ?? 0);
  return seconds > 0 ? (100 * ticks) / ticksPerSecond() / seconds : 0;
}

/**
 * Busy time of the machine that none of our processes (server, receivers, Chromium, this one) used, % of one core;
 * approximate: the two counts are rounded differently, and a process that exited in between is missed.
 */
function othersCpu(b: Sample, e: Sample, seconds: number): number {
  const ours =
    cpuOf(b.tree, e.tree, seconds) + cpuOf(b.receivers, e.receivers, seconds) + cpuOf(b.chromium, e.chromium, seconds) + cpuOf(b.self, e.self, seconds);
  return Math.max(0, (100 * (e.machine.busy - b.machine.busy)) / ticksPerSecond() / seconds - ours);
}

function cpuByRole(b: Sample, e: Sample): CpuByRole {
  const seconds = (e.at - b.at) / 1000;
  const of = (role: Role) =>
    cpuOf(
      b.tree.filter((s) => s.role === role),
      e.tree.filter((s) => s.role === role),
      seconds,
    );
  const server = of("server");
  const capture = of("capture");
  const encoder = of("encoder");
  const other = of("other");
  return { total: server + capture + encoder + other, server, capture, encoder, other };
}

function rssOfRole(tree: (ProcStat & { role: Role })[], role: Role): number | null {
  const values = tree
    .filter((s) => s.role === role)
    .map((s) => rssMb(s.pid))
    .filter((v): v is number => v !== null);
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

/** Medians of each step's duration (offer made, answered, connected, first frame). */
function phasesOf(peers: PeerResult[]): Phases | null {
  if (!peers.length) return null;
  const step = (from: (p: PeerResult) => number | null, to: (p: PeerResult) => number | null) =>
    medianOrNull(
      peers
        .map((p) => {
          const a = from(p);
          const b = to(p);
          return a === null || b === null ? null : b - a;
        })
        .filter((d): d is number => d !== null),
    );
  return {
    peers: peers.length,
    offer: step(
      () => 0,
      (p) => p.phases.offerSent,
    ),
    answer: step(
      (p) => p.phases.offerSent,
      (p) => p.phases.answered,
    ),
    connect: step(
      (p) => p.phases.answered,
      (p) => p.phases.connected,
    ),
    media: step(
      (p) => p.phases.connected,
      (p) => p.phases.firstFrame,
    ),
  };
}

class ServerDied extends Error {}

// ---- a round ---------------------------------------------------------------------
async function waitForEncoderStop(server: WebRtcServer, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (encoderCount(server) === 0) return true;
    await Bun.sleep(100);
  }
  return false;
}

/**
 * After the round's peers closed: waits until the server counts no WebRTC viewer (a peer
 * that vanished is dropped only after its ICE/DTLS timeout), then until the encoder exits.
 * Seconds from the last viewer gone to the encoder gone, or null (with a note) past the time limit.
 */
async function encoderStopDelay(server: WebRtcServer, n: number, notes: string[]): Promise<number | null> {
  const deadline = performance.now() + 60_000;
  let noViewersAt: number | null = null;
  while (performance.now() < deadline) {
    const viewers = await webrtcViewers(server);
    const now = performance.now();
    if (viewers === 0) noViewersAt ??= now;
    else noViewersAt = null;
    if (encoderCount(server) === 0) {
      if (noViewersAt === null) notes.push(`${plural(n)}: the encoder stopped while the server still counted ${viewers ?? "?"} WebRTC viewer(s)`);
      return noViewersAt === null ? null : (now - noViewersAt) / 1000;
    }
    await Bun.sleep(100);
  }
  notes.push(`${plural(n)}: the encoder still ran 60 s after the peers closed (the server counted ${(await webrtcViewers(server)) ?? "?"} WebRTC viewer(s))`);
  return null;
}

async function measureRound(server: WebRtcServer, n: number, o: WebRtcBenchOptions, browser: Browser | null, notes: string[]): Promise<WebRtcRound> {
  if (encoderCount(server) !== 0 && !(await waitForEncoderStop(server, 20_000))) {
    notes.push(`${plural(n)}: an encoder was still running before the round; it did not start cold`);
  }
  const settleMs = o.settle * 1000;
  const maxSeconds = Math.ceil(2 * o.settle + o.duration) + 60;
  const pool = await ReceiverPool.start(server.base, Math.max(1, Math.min(o.clients ?? (o.receiver === "aiortc" ? n : 2), n)), maxSeconds, o.receiver);
  let page: PageViewer | null = null;
  const encoderCounts: number[] = [];
  let begin: Sample | null = null;
  let end: Sample | null = null;
  let rss: WebRtcRound["rssMb"] = { server: null, capture: null, encoder: null };
  let results: Awaited<ReturnType<ReceiverPool["stop"]>>;
  let join: WebRtcRound["join"] = null;
  let late: PeerResult | null = null;
  let commands: WebRtcRound["commands"] = { capture: null, encoder: null };
  try {
    pool.connect(1); // the cold start: this offer starts the encoder
    if (!(await pool.settled(settleMs))) notes.push(`${plural(n)}: the first peer had no frame after ${o.settle} s`);
    // The page next, on its own: a tab's start (a renderer process, the page, its decoder) takes
    // the machine's two cores for a moment, which would slow the werift joins that share them.
    if (browser) {
      page = await PageViewer.open(browser, `${server.base}/`, settleMs);
      await page.ready;
    }
    const joinBegin = sample(server, pool.pids);
    if (n > 1) pool.connect(n - 1);
    const settled = await pool.settled(settleMs);
    const joinEnd = sample(server, pool.pids);
    const joiners = n - 1;
    if (joiners > 0) {
      const seconds = (joinEnd.at - joinBegin.at) / 1000;
      const bun = (s: Sample) => s.tree.filter((p) => p.role === "server");
      const serverPct = cpuOf(bun(joinBegin), bun(joinEnd), seconds);
      join = {
        peers: joiners,
        seconds,
        serverPct,
        serverCpuMsPerPeer: (serverPct * seconds * 10) / joiners,
        receiversPct: cpuOf(joinBegin.receivers, joinEnd.receivers, seconds),
        machineBusyPct: (100 * (joinEnd.machine.busy - joinBegin.machine.busy)) / Math.max(1, joinEnd.machine.total - joinBegin.machine.total),
        otherCpuPct: othersCpu(joinBegin, joinEnd, seconds),
      };
      if (join.otherCpuPct > 15)
        notes.push(
          `${plural(n)}: other processes on this machine used ${join.otherCpuPct.toFixed(0)} % of a core while the peers joined; the join times may be disturbed`,
        );
    }
    if (!settled) notes.push(`${plural(n)}: not every peer had a frame after ${o.settle} s; the window started anyway`);
    if (page?.figures.error) notes.push(`${plural(n)}: Chromium page: ${page.figures.error}`);
    await Bun.sleep(1000); // the joins' bursts of cached frames are over

    begin = sample(server, pool.pids);
    await page?.mark();
    pool.mark();
    const poll = setInterval(() => encoderCounts.push(encoderCount(server)), 500);
    encoderCounts.push(encoderCount(server));
    await Bun.sleep(o.duration * 1000);
    clearInterval(poll);
    end = sample(server, pool.pids);
    encoderCounts.push(encoderCount(server));
    rss = { server: rssOfRole(end.tree, "server"), capture: rssOfRole(end.tree, "capture"), encoder: rssOfRole(end.tree, "encoder") };
    // The commands the server runs, for the ffmpeg-alone floor after the round.
    const argvOfRole = (role: Role) =>
      end!.tree
        .filter((s) => s.role === role)
        .map((s) => argvOf(s.pid))
        .find((a) => a !== null) ?? null;
    commands = { capture: argvOfRole("capture"), encoder: argvOfRole("encoder") };
    results = await pool.stop();
    for (const p of pool.procs) {
      if (p.proc.exitCode !== null || p.proc.signalCode !== null) {
        notes.push(`${plural(n)}: a ${o.receiver} receiver process ended by itself (${p.proc.exitCode ?? p.proc.signalCode}) with its ${p.peers} peers`);
      }
    }
    if (results.icmpErrors) {
      notes.push(
        `${plural(n)}: the receivers survived ${results.icmpErrors} ECONNREFUSED error event(s) on werift's UDP sockets ` +
          "(Bun reports ICMP port-unreachable as a socket error, and werift's sockets have no error listener: unhandled, it ends the process)",
      );
    }
    await page?.stop();
    // A viewer arriving on its own at a stream that n peers (and the page) are watching.
    late = await pool.probe();
    if (late?.error) notes.push(`${plural(n)}: the late joiner: ${late.error}`);
  } finally {
    await page?.close();
    if (!(await pool.close())) notes.push(`${plural(n)}: a receiver process did not confirm closing its peers`);
    await pool.end();
  }
  if (!serverAlive(server)) throw new ServerDied(`the server exited (${server.proc.exitCode ?? server.proc.signalCode}) during the ${plural(n)} round`);
  // The encoder stops 5 s after the last peer (src/server.ts ENCODER_LINGER_MS): wait for it, so that the next round starts cold.
  const encoderStopS = await encoderStopDelay(server, n, notes);
  const idleRssMb = rssMb(server.proc.pid);

  const b = begin!;
  const e = end!;
  const seconds = (e.at - b.at) / 1000;
  const peers = results.peers;
  const fps = peers.map((p) => p.fps);
  const firstFrames = peers.map((p) => p.firstFrameMs).filter((t): t is number => t !== null);
  const joins = peers
    .slice(1)
    .map((p) => p.firstFrameMs)
    .filter((t): t is number => t !== null);
  const failed = peers.filter((p) => p.error !== null || p.firstFrameMs === null).length + results.missing;
  for (const message of new Set(peers.filter((p) => p.error !== null).map((p) => p.error!))) {
    notes.push(`${plural(n)}: ${peers.filter((p) => p.error === message).length} × ${message}`);
  }
  const retried = peers.filter((p) => (p.offerRetries ?? 0) > 0);
  if (retried.length) {
    notes.push(
      `${plural(n)}: ${retried.length} peers' offers were answered 503 (the server holds at most 8 unconnected offers per address, and every receiver is 127.0.0.1) ` +
        `and sent again every 0.5 s (${retried.reduce((sum, p) => sum + (p.offerRetries ?? 0), 0)} retries in all); their first-frame times include the waits`,
    );
  }
  if (results.missing) notes.push(`${plural(n)}: ${results.missing} peers' results were lost (a receiver process did not answer)`);
  const windowMs = peers.length ? seconds * 1000 : 0;
  const totalPackets = peers.reduce((sum, p) => sum + p.windowPackets, 0);
  while (fps.length < n) fps.push(0); // a lost result counts as a peer without frames
  return {
    peers: n,
    receiver: o.receiver,
    commands,
    floors: null,
    janus: null,
    fpsMin: Math.min(...fps),
    fpsMedian: medianOrNull(fps) ?? 0,
    failed,
    firstFrameMedianMs: medianOrNull(firstFrames),
    firstFrameMaxMs: firstFrames.length === n ? Math.max(...firstFrames) : null,
    coldMs: peers[0]?.firstFrameMs ?? null,
    joinMedianMs: medianOrNull(joins),
    joinMaxMs: joins.length ? Math.max(...joins) : null,
    notClean: peers.filter((p) => p.startedClean === false).length,
    windowGaps: peers.reduce((sum, p) => sum + p.windowGaps, 0),
    packetsPerSecond: windowMs > 0 ? totalPackets / seconds : 0,
    cpu: cpuByRole(b, e),
    rssMb: rss,
    encoders: { min: Math.min(...encoderCounts), max: Math.max(...encoderCounts) },
    page: page?.figures ?? null,
    receiversCpuPct: cpuOf(b.receivers, e.receivers, seconds),
    chromiumCpuPct: browser ? cpuOf(b.chromium, e.chromium, seconds) : null,
    machineBusyPct: (100 * (e.machine.busy - b.machine.busy)) / Math.max(1, e.machine.total - b.machine.total),
    otherCpuPct: othersCpu(b, e, seconds),
    join,
    lateJoinMs: late?.firstFrameMs ?? null,
    phases: { cold: phasesOf(peers.slice(0, 1)), joins: phasesOf(peers.slice(1)), late: late ? phasesOf([late]) : null },
    encoderStopS,
    idleRssMb,
  };
}

// ---- the floors, after each round ------------------------------------------------
/** The encoder's -b:v in kbit/s, or null. */
function bitrateKbps(encoder: string[]): number | null {
  const v = encoder[encoder.indexOf("-b:v") + 1];
  const m = v ? /^(\d+(?:\.\d+)?)k$/.exec(v) : null;
  return m ? Number(m[1]) : null;
}

/** RTP (12 bytes) + SRTP authentication tag (10 bytes, AES_CM_128_HMAC_SHA1_80) around each payload. */
const RTP_SRTP_OVERHEAD = 22;

/**
 * Measured with the server idle between rounds (its capture runs on, as always with
 * --always-on; its encoder has stopped): one ffmpeg doing the round's capture + encode,
 * then the round's packets as bare UDP sends. Each over --duration s, after a warm-up.
 */
async function measureFloors(r: WebRtcRound, o: WebRtcBenchOptions, notes: string[]): Promise<RoundFloors> {
  const { capture, encoder } = r.commands;
  const floors: RoundFloors = { ffmpeg: null, send: null, command: null };
  if (!capture || !encoder) {
    notes.push(`${plural(r.peers)}: the ${capture ? "encoder" : "capture"}'s command was not seen in the window; no ffmpeg-alone floor`);
  } else {
    floors.command = floorCommand(capture, encoder);
    floors.ffmpeg = await measureProcess(floors.command, 2, o.duration);
    if (floors.ffmpeg.error) notes.push(`${plural(r.peers)}: the ffmpeg-alone floor ${floors.ffmpeg.error}`);
  }
  const kbps = encoder ? bitrateKbps(encoder) : null;
  if (r.packetsPerSecond > 0 && kbps !== null) {
    // The mean packet: the encoder's bitrate over one peer's packets (every peer gets the same packets).
    const perPeer = r.packetsPerSecond / r.peers;
    const bytes = Math.min(1500, Math.round((kbps * 1000) / 8 / perPeer) + RTP_SRTP_OVERHEAD);
    const send = await measureSendFloor(r.packetsPerSecond, bytes, FPS, o.duration);
    floors.send = { ...send, packetsPerSecond: r.packetsPerSecond, bytes };
    if (send.error) notes.push(`${plural(r.peers)}: the bare send floor ${send.error}`);
  }
  return floors;
}

function aiortcVersion(): string {
  const r = Bun.spawnSync(["/usr/bin/python3", "-c", "import aiortc; print(aiortc.__version__)"], { stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : "?";
}

function janusSection(rounds: WebRtcRound[]): string[] {
  return [
    "Janus (Debian's janus, streaming plugin), measured right after each round's floors: the same number of aiortc peers, watching one RTP mountpoint " +
      "fed by one ffmpeg running the ffmpeg-alone command with an RTP output; ICE on a veth of ours holding one /32 address (libnice does not gather on lo):",
    "",
    janusTable(rounds),
    "",
  ];
}

function floorSection(rounds: WebRtcRound[]): string[] {
  const command = rounds.find((r) => r.floors?.command)?.floors?.command;
  return [
    "The floors, measured after each round in the same run (the server idle, its capture running as always; each over the same window):",
    "",
    floorTable(rounds),
    "",
    "ffmpeg alone: glasscast's capture command and its encoder's settings, both read from /proc while the round ran, as one ffmpeg that captures and encodes to `-f null -` " +
      "(no FIFO, no Bun, no peer): CPU of that process, % of one core. " +
      "Bare UDP send: the round's RTP packets/s (as the receivers counted them), each of the mean size the encoder's bitrate gives per packet plus 22 bytes of RTP header and SRTP tag, " +
      "sent one datagram per call through Bun's UDP socket to a sink on 127.0.0.1, one burst per frame: no SRTP, no packetizing, no RTCP, so a floor no sender can go under. " +
      "bun CPU µs per added packet: what werift in the server spends on each extra packet (packetizing, SRTP, sending, RTCP), against the first round; the bare send's µs per packet is its floor. " +
      "Receivers CPU: the receiver processes together, % of one core; on these two cores they compete with the server.",
    ...(command ? ["", `The ffmpeg-alone command: \`${command.join(" ")}\``] : []),
    "",
  ];
}

// ---- the run ---------------------------------------------------------------------
async function run(o: WebRtcBenchOptions, net: ClientNetwork | null): Promise<string> {
  const host = net ? net.serverAddress : "127.0.0.1";
  const notes: string[] = [];
  let browser: Browser | null = null;
  if (net) {
    log("starting Chromium in its network namespace…");
    browser = await launchChromium(chromiumDyingWithUs(net));
  }
  log(`starting the server on ${host}…`);
  const server = await startWebRtcServer({ host, candidates: [host], width: WIDTH, height: HEIGHT, fps: FPS });
  log(`server ready at ${server.base} (pid ${server.proc.pid})`);
  const rounds: WebRtcRound[] = [];
  let janus: Janus | null = null;
  try {
    if (o.janus) {
      log("starting Janus on a veth of its own…");
      janus = await startJanus();
    }
    // The capture runs from the start; let it reach its frame rate before the first cold start.
    await fetch(`${server.base}/snapshot.jpg`, { signal: AbortSignal.timeout(10_000) })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
    await Bun.sleep(1000);
    for (const n of [...new Set(o.peers)].sort((a, b) => a - b)) {
      log(`round: ${plural(n)}${browser ? " + the Chromium page" : ""}, ${o.duration} s window…`);
      let r: WebRtcRound;
      try {
        r = await measureRound(server, n, o, browser, notes);
      } catch (err) {
        if (serverAlive(server)) throw err;
        notes.push(
          `**${plural(n)}: the server exited (code ${server.proc.exitCode ?? server.proc.signalCode}) during the round; ` +
            `no further rounds.** Its last lines: ${server.stderrTail.slice(-5).join(" ⏎ ") || "(none)"}`,
        );
        log(`the server exited during the ${plural(n)} round`);
        break;
      }
      rounds.push(r);
      if (o.floor) {
        log(`  floors: ffmpeg alone, then the bare send of ${r.packetsPerSecond.toFixed(0)} packets/s, ${o.duration} s each…`);
        r.floors = await measureFloors(r, o, notes);
        log(
          `  floor: ffmpeg alone ${r.floors.ffmpeg?.cpuPct.toFixed(1) ?? "—"} %; bare send ${r.floors.send?.cpuPct.toFixed(1) ?? "—"} % ` +
            `(${r.floors.send?.usPerPacket.toFixed(1) ?? "—"} µs a packet)`,
        );
      }
      if (janus && r.floors?.command) {
        log(`  Janus: ${plural(n)} watching it, fed by one ffmpeg with the same settings…`);
        r.janus = await janusRound(janus, n, r.floors.command, o.duration, o.settle);
        if (r.janus.error) notes.push(`${plural(n)}: Janus round: ${r.janus.error}`);
        log(`  Janus: fps min ${r.janus.fpsMin.toFixed(1)}; Janus ${r.janus.janusPct.toFixed(1)} % + its ffmpeg ${r.janus.feederPct.toFixed(1)} %`);
      }
      if (r.otherCpuPct > 15)
        notes.push(
          `${plural(n)}: other processes on this machine used ${r.otherCpuPct.toFixed(0)} % of a core during the window; the figures may be disturbed`,
        );
      if (r.notClean)
        notes.push(
          `${plural(n)}: ${r.notClean} peers' first access unit was not a keyframe with SPS and PPS (their first-frame times are too early: a decoder shows nothing before a keyframe)`,
        );
      if (r.page?.transport && !/webrtc/i.test(r.page.transport)) notes.push(`${plural(n)}: the page's overlay said "${r.page.transport}"`);
      log(
        `  fps min ${r.fpsMin.toFixed(1)}, median ${r.fpsMedian.toFixed(1)}; first frame median ${r.firstFrameMedianMs?.toFixed(0) ?? "—"} ms; ` +
          `server CPU ${r.cpu.total.toFixed(1)} %; encoders ${r.encoders.max}; page ${r.page?.fps?.toFixed(1) ?? "—"} fps; ` +
          `encoder stopped after ${r.encoderStopS?.toFixed(1) ?? "—"} s`,
      );
    }
  } finally {
    await browser?.close().catch(() => undefined);
    if (janus) await stopJanus(janus);
    const leftovers = await stopTree(server.proc);
    if (leftovers.length) notes.push(`the server left ${leftovers.map((s) => `${s.comm} (pid ${s.pid})`).join(", ")} running after it exited; killed`);
  }

  const cpuModel = cpus()[0]?.model ?? "unknown CPU";
  return [
    `## WebRTC peers: ${WIDTH}x${HEIGHT} at ${FPS} fps (testsrc), one shared H.264 encoder`,
    "",
    `${new Date().toISOString().slice(0, 10)} · ${cpus().length} cores (${cpuModel}) · Bun ${Bun.version} · ` +
      `server: \`bun ${server.command.slice(1).join(" ")}\` · window ${o.duration} s per round · ` +
      (o.receiver === "aiortc"
        ? `aiortc ${aiortcVersion()} receivers (Python, each decoding every frame) in ${o.clients ?? "one process per peer, i.e. as many"} process(es)`
        : `werift receivers in ${o.clients ?? 2} separate process(es)`) +
      (net ? ` · plus one Chromium page in a network namespace of its own (server on the veth pair, ${net.serverAddress})` : " · no browser"),
    "",
    mainTable(rounds),
    "",
    ...(o.floor ? floorSection(rounds) : []),
    ...(o.janus ? janusSection(rounds) : []),
    detailTable(rounds),
    "",
    "Where the time to the first frame goes (medians, ms; each step from the end of the one before):",
    "",
    phasesTable(rounds),
    "",
    (net ? `Peers: ${o.receiver} receivers ("+ page": the Chromium page is one more peer of the server). ` : `Peers: ${o.receiver} receivers. `) +
      (o.receiver === "aiortc"
        ? "fps: frames decoded by aiortc (track.recv()) per peer inside the window, which starts 1 s after every peer has its first frame; packets and gaps: aiortc's inbound-rtp stats (packetsReceived, packetsLost). "
        : "fps: complete access units (RTP marker) per werift peer inside the window, which starts 1 s after every peer has its first frame. ") +
      (net ? "Chromium page fps: `getVideoPlaybackQuality().totalVideoFrames` over the same window, and its worst second. " : "") +
      (o.receiver === "aiortc"
        ? "First frame: from the start of the peer (before its offer) to its first decoded frame; "
        : "First frame: from sending the offer to the first complete access unit (every peer starts on a keyframe with SPS/PPS), all werift peers of the round; ") +
      "cold start: the round's first peer alone, whose offer starts the encoder; " +
      `joins: the others, all offers at once, onto the running encoder${net ? " (after the page has its picture)" : ""}; ` +
      `late join: one more peer, alone, after the window, onto the round's peers${net ? " and the page" : ""}. ` +
      (net ? "Page: from page.goto to `videoWidth > 0`, with the cold peer connected. " : "") +
      "Server CPU: the server process and all its children (capture ffmpeg, H.264 encoder ffmpeg), utime+stime from /proc, % of one core; " +
      "bun CPU µs per added packet: the server process's extra CPU per extra RTP packet/s against the first round. " +
      "Machine busy: both cores together = 100 %; others' CPU: what the machine spent outside the processes of this benchmark (% of one core). MB = 10^6 bytes. " +
      "bun RSS after: the server process once the round's peers are gone and the encoder stopped. " +
      "Encoder stopped after: from the moment the server counts no WebRTC viewer (/api/streams) to the encoder's exit. " +
      "Between rounds every peer closes and the round waits for the encoder to stop, so each round starts cold.",
    "",
    "### Targets",
    "",
    targetsTable(rounds),
    "",
    ...comparison(rounds),
    ...(notes.length ? ["", "Notes:", ...notes.map((n) => `- ${n}`)] : []),
  ].join("\n");
}

async function main(): Promise<void> {
  const o = parseArgsOrExit(process.argv.slice(2));
  installExitHandlers();
  process.on("exit", () => {
    killDescendantsNow();
    removeNetworkNow();
    removeJanusNow();
  });
  let report: string;
  if (o.browser) {
    if (process.getuid?.() !== 0) throw new Error("the Chromium page needs a network namespace, which needs root; run as root or with --no-browser");
    report = await withClientNetwork(async (net) => {
      activeNetwork = net;
      const guard = guardNetwork(net);
      try {
        return await run(o, net);
      } finally {
        activeNetwork = null;
        guard?.kill("SIGKILL");
      }
    });
  } else {
    report = await run(o, null);
  }
  console.log(report);
}

await runBenchmark("webrtc-peers", main);
