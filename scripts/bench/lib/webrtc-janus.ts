/**
 * The optional Janus comparison of webrtc-peers (--janus): Debian's janus
 * (a C media server) with its streaming plugin, fed RTP by one ffmpeg doing
 * glasscast's own capture + encode (the ffmpeg-alone floor's command with an
 * RTP output), watched by the same aiortc receivers.
 *
 * Janus's ICE (libnice) will not gather on `lo`, and media must not go to the
 * LAN address: Janus gathers only on a veth of ours holding one /32 address,
 * which routes through `lo`; the receivers announce that address too. The
 * configuration lives in a temporary folder; the veth and the folder are
 * removed when the comparison ends, and on exit (removeJanusNow).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ownChild, stopTree } from "./children.ts";
import { machineTicks, processTree, ticksPerSecond, type ProcStat } from "./proc-stats.ts";
import { medianOrNull } from "./webrtc-report.ts";
import { dieWithUs, ReceiverPool } from "./webrtc-pool.ts";

const PLUGINS = "/usr/lib/x86_64-linux-gnu/janus";

export interface Janus {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  /** Janus's HTTP API, http://127.0.0.1:PORT/janus */
  api: string;
  /** The /32 address on our veth that Janus and the receivers use for ICE. */
  address: string;
  link: string;
  rtpPort: number;
  dir: string;
  stderrTail: string[];
}

let active: Janus | null = null;

async function freePort(udp: boolean): Promise<number> {
  if (udp) {
    const s = await Bun.udpSocket({ hostname: "127.0.0.1" });
    const port = s.port;
    s.close();
    return port;
  }
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

function ip(args: string[]): void {
  const r = Bun.spawnSync(["ip", ...args], { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.toString().trim()}`);
}

function configFiles(dir: string, link: string, httpPort: number, rtpPort: number): Record<string, string> {
  const disabled = (names: string[], suffix: string) => names.map((n) => `libjanus_${n}.so`).join(",") + suffix;
  return {
    "janus.jcfg": `general: {
	configs_folder = "${dir}"
	plugins_folder = "${PLUGINS}/plugins"
	transports_folder = "${PLUGINS}/transports"
	events_folder = "${PLUGINS}/events"
	loggers_folder = "${PLUGINS}/loggers"
	debug_level = 3
	session_timeout = 0
}
nat: {
	ice_enforce_list = "${link}"
}
plugins: {
	disable = "${disabled(["audiobridge", "duktape", "echotest", "lua", "nosip", "recordplay", "sip", "textroom", "videocall", "videoroom", "voicemail"], "")}"
}
transports: {
	disable = "${disabled(["mqtt", "nanomsg", "pfunix", "rabbitmq", "websockets"], "")}"
}
`,
    "janus.transport.http.jcfg": `general: {
	base_path = "/janus"
	http = true
	port = ${httpPort}
	interface = "lo"
	https = false
}
admin: {
	admin_http = false
}
`,
    "janus.plugin.streaming.jcfg": `general: {
}
glasscast: {
	type = "rtp"
	id = 1
	description = "glasscast's capture and x264 settings, one ffmpeg"
	media = (
		{
			type = "video"
			mid = "v"
			port = ${rtpPort}
			pt = 96
			codec = "h264"
			fmtp = "profile-level-id=42e01f;packetization-mode=1"
		}
	)
}
`,
  };
}

/** Starts Janus on a veth of its own; throws with a clear message when janus is missing or it does not answer. */
export async function startJanus(): Promise<Janus> {
  const janus = Bun.which("janus");
  if (!janus) throw new Error("--janus: janus is not installed (Debian: apt-get install janus)");
  if (process.getuid?.() !== 0) throw new Error("--janus: the veth Janus gathers on needs root");
  const link = `gcj${process.pid % 100000}`;
  const address = `10.98.${(process.pid % 200) + 20}.1`;
  const dir = mkdtempSync(join(tmpdir(), "glasscast-janus-"));
  const httpPort = await freePort(false);
  const rtpPort = await freePort(true);
  for (const [name, text] of Object.entries(configFiles(dir, link, httpPort, rtpPort))) writeFileSync(join(dir, name), text);
  ip(["link", "add", link, "type", "veth", "peer", "name", `${link}p`]);
  const proc = Bun.spawn(dieWithUs([janus, "-F", dir, "-C", join(dir, "janus.jcfg")]), { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  ownChild(proc);
  const j: Janus = { proc, api: `http://127.0.0.1:${httpPort}/janus`, address, link, rtpPort, dir, stderrTail: [] };
  active = j;
  try {
    ip(["addr", "add", `${address}/32`, "dev", link]);
    ip(["link", "set", link, "up"]);
    ip(["link", "set", `${link}p`, "up"]);
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline) {
      const info = await fetch(j.api, { method: "POST", body: JSON.stringify({ janus: "info", transaction: "t" }), signal: AbortSignal.timeout(1000) })
        .then((r) => r.json() as Promise<{ janus?: string }>)
        .catch(() => null);
      if (info?.janus === "server_info") return j;
      if (proc.exitCode !== null) break;
      await Bun.sleep(200);
    }
    throw new Error(`--janus: Janus did not answer on ${j.api} (exit ${proc.exitCode ?? "—"})`);
  } catch (err) {
    await stopJanus(j);
    throw err;
  }
}

/** Synchronous: the veth and the folder (for exit handlers); the process dies with us (setpriv). */
export function removeJanusNow(): void {
  const j = active;
  active = null;
  if (!j) return;
  try {
    j.proc.kill("SIGKILL");
  } catch {
    /* gone */
  }
  Bun.spawnSync(["ip", "link", "del", j.link], { stdout: "ignore", stderr: "ignore" });
  rmSync(j.dir, { recursive: true, force: true });
}

export async function stopJanus(j: Janus): Promise<void> {
  await stopTree(j.proc);
  removeJanusNow();
}

/** The ffmpeg-alone floor's command (capture + encode to -f null) sending RTP to Janus instead. */
export function feederCommand(floor: string[], rtpPort: number): string[] {
  if (floor.slice(-3).join(" ") !== "-f null -") throw new Error("the floor command does not end in -f null -");
  return [...floor.slice(0, -3), "-f", "rtp", "-payload_type", "96", `rtp://127.0.0.1:${rtpPort}?pkt_size=1200`];
}

export interface JanusRound {
  peers: number;
  fpsMin: number;
  fpsMedian: number;
  failed: number;
  firstFrameMedianMs: number | null;
  janusPct: number;
  feederPct: number;
  receiversPct: number;
  machineBusyPct: number;
  error: string | null;
}

function cpuPct(b: ProcStat[], e: ProcStat[], seconds: number): number {
  const before = new Map(b.map((s) => [`${s.pid}@${s.start}`, s.ticks]));
  let ticks = 0;
  for (const s of e) ticks += s.ticks - (before.get(`${s.pid}@${s.start}`) ?? 0);
  return (100 * ticks) / ticksPerSecond() / seconds;
}

/** n aiortc peers watching Janus, fed by one ffmpeg with glasscast's settings: fps, and the CPU of Janus and of its ffmpeg. */
export async function janusRound(j: Janus, n: number, floor: string[], duration: number, settleS: number): Promise<JanusRound> {
  const feeder = Bun.spawn(dieWithUs(feederCommand(floor, j.rtpPort)), { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  ownChild(feeder);
  const pool = await ReceiverPool.start(j.api, n, Math.ceil(2 * settleS + duration) + 60, "aiortc", ["--janus", "--address", j.address]);
  try {
    await Bun.sleep(2000); // the mountpoint has its first keyframe
    pool.connect(n);
    await pool.settled(settleS * 1000);
    await Bun.sleep(1000);
    const sample = () => ({
      at: performance.now(),
      janus: processTree(j.proc.pid),
      feeder: processTree(feeder.pid),
      receivers: pool.pids.flatMap((pid) => processTree(pid)),
      machine: machineTicks(),
    });
    const b = sample();
    pool.mark();
    await Bun.sleep(duration * 1000);
    const e = sample();
    const results = await pool.stop();
    const seconds = (e.at - b.at) / 1000;
    const fps = results.peers.map((p) => p.fps);
    while (fps.length < n) fps.push(0);
    const errors = [...new Set(results.peers.map((p) => p.error).filter((x): x is string => x !== null))];
    return {
      peers: n,
      fpsMin: Math.min(...fps),
      fpsMedian: medianOrNull(fps) ?? 0,
      failed: results.peers.filter((p) => p.error !== null || p.firstFrameMs === null).length + results.missing,
      firstFrameMedianMs: medianOrNull(results.peers.map((p) => p.firstFrameMs).filter((t): t is number => t !== null)),
      janusPct: cpuPct(b.janus, e.janus, seconds),
      feederPct: cpuPct(b.feeder, e.feeder, seconds),
      receiversPct: cpuPct(b.receivers, e.receivers, seconds),
      machineBusyPct: (100 * (e.machine.busy - b.machine.busy)) / Math.max(1, e.machine.total - b.machine.total),
      error: errors.length ? errors.join("; ") : feeder.exitCode !== null ? `its ffmpeg exited (${feeder.exitCode})` : null,
    };
  } finally {
    await pool.close();
    await pool.end();
    await stopTree(feeder);
  }
}
