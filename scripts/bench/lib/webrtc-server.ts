/**
 * The glasscast server under test for webrtc-peers: started on port 0 (the
 * port is read from the "→ http://HOST:PORT/" line it prints when ready),
 * listening on one address and announcing the given ones as ICE candidates.
 * Also finds its H.264 encoder among its children.
 */
import { drainStderr } from "./server-process.ts";
import type { Subprocess } from "bun";
import { ownChild, stopTree } from "./children.ts";
import { cmdline, processTree, type ProcStat } from "./proc-stats.ts";
import { pictureArgs, REPO_ROOT } from "./server-process.ts";
import { dieWithUs } from "./webrtc-pool.ts";

export interface WebRtcServerOptions {
  host: string;
  candidates: string[];
  width: number;
  height: number;
  fps: number;
}

export interface WebRtcServer {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  /** http://HOST:PORT */
  base: string;
  /** The command as a user would type it (without the setpriv wrapper). */
  command: string[];
  stderrTail: string[];
}

export function serverCommand(o: WebRtcServerOptions): string[] {
  return [
    process.execPath,
    "run",
    "src/cli.ts",
    "--source",
    "testsrc",
    ...pictureArgs(o.width, o.height, o.fps),
    "--host",
    o.host,
    "--port",
    "0",
    ...o.candidates.flatMap((c) => ["--webrtc-candidate", c]),
    "--log-level",
    "warn",
    "--always-on",
  ];
}

/** Resolves with the port of the first "→ http://HOST:PORT/" line; rejects if the server exits or 20 s pass. */
async function readPort(proc: Subprocess<"ignore", "pipe", "pipe">): Promise<number> {
  const decoder = new TextDecoder();
  let out = "";
  const reader = proc.stdout.getReader();
  const found = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return null;
      out += decoder.decode(value, { stream: true });
      const m = /→ http:\/\/\S+?:(\d+)\//.exec(out);
      if (m) {
        // Keep the pipe drained (and open) for whatever the server prints later.
        void (async () => {
          try {
            while (!(await reader.read()).done) {
              /* discard */
            }
          } catch {
            /* gone */
          }
        })();
        return Number(m[1]);
      }
    }
  })();
  const port = await Promise.race([found, Bun.sleep(20_000).then(() => undefined)]);
  if (port === undefined) throw new Error("the server printed no address within 20 s");
  if (port === null) throw new Error(`the server exited (code ${await proc.exited}) before listening`);
  return port;
}

export async function startWebRtcServer(o: WebRtcServerOptions): Promise<WebRtcServer> {
  const command = serverCommand(o);
  const proc = Bun.spawn(dieWithUs(command), { cwd: REPO_ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  ownChild(proc);
  const server: WebRtcServer = { proc, port: 0, base: "", command, stderrTail: [] };
  void drainStderr(server);
  try {
    server.port = await readPort(proc);
  } catch (err) {
    await stopTree(proc);
    throw new Error(`${(err as Error).message}\n  command: ${command.join(" ")}\n  stderr: ${server.stderrTail.join("\n          ") || "(none)"}`);
  }
  server.base = `http://${o.host}:${server.port}`;
  return server;
}

/** Any server started by these benchmarks (this file's, or server-process.ts's RunningServer). */
export interface StartedServer {
  proc: { pid: number; exitCode: number | null; signalCode: string | number | null };
}

export function serverAlive(server: StartedServer): boolean {
  return server.proc.exitCode === null && server.proc.signalCode === null;
}

export type Role = "server" | "capture" | "encoder" | "other";

/** The server's process tree, each process named by its role (the H.264 encoder is the ffmpeg with libx264). */
export function serverTree(server: StartedServer): (ProcStat & { role: Role })[] {
  return processTree(server.proc.pid).map((s) => {
    const role: Role =
      s.pid === server.proc.pid ? "server" : s.comm !== "ffmpeg" ? "other" : /\blibx264\b|\bh264_v4l2m2m\b/.test(cmdline(s.pid)) ? "encoder" : "capture";
    return { ...s, role };
  });
}

export function encoderCount(server: StartedServer): number {
  return serverTree(server).filter((s) => s.role === "encoder").length;
}

/** One stream as /api/streams describes it (the fields these benchmarks read). */
export interface ApiStream {
  name: string;
  state: string;
  viewers: number;
  webrtcViewers: number;
}

/** /api/streams: the server's instance id (changes when the process is replaced) and its streams; null when it does not answer in 3 s. */
export async function apiStreams(base: string): Promise<{ instance: string; streams: ApiStream[] } | null> {
  try {
    const res = await fetch(`${base}/api/streams`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { instance?: unknown; streams?: Partial<ApiStream>[] };
    return {
      instance: String(body.instance ?? ""),
      streams: (body.streams ?? []).map((s) => ({
        name: String(s.name ?? ""),
        state: String(s.state ?? ""),
        viewers: Number(s.viewers ?? 0),
        webrtcViewers: Number(s.webrtcViewers ?? 0),
      })),
    };
  } catch {
    return null;
  }
}

/** Streams' WebRTC viewer counts as the server sees them (/api/streams), or null. */
export async function webrtcViewers(server: { base: string }): Promise<number | null> {
  const api = await apiStreams(server.base);
  return api ? api.streams.reduce((sum, s) => sum + s.webrtcViewers, 0) : null;
}
