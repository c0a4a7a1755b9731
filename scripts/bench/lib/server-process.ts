/** Starts the glasscast server under test as a child process and waits until it serves. */
import type { Subprocess } from "bun";
import { ownChild, stopTree } from "./children.ts";

export const REPO_ROOT = new URL("../../../", import.meta.url).pathname;

/** glasscast's picture options: --width W --height H --fps F. */
export const pictureArgs = (width: number, height: number, fps: number): string[] => [
  "--width",
  String(width),
  "--height",
  String(height),
  "--fps",
  String(fps),
];

export interface ServerOptions {
  /** A compiled glasscast binary; default: `bun run src/cli.ts`. */
  binary: string | null;
  width: number;
  height: number;
  fps: number;
  /** --source; default "testsrc". */
  source?: string;
  /** More glasscast options, after the others (e.g. ["--ffmpeg", PATH, "--no-passthrough"]). */
  args?: string[];
  /** Added to the server's environment (e.g. the fake camera's settings). */
  env?: Record<string, string>;
  /** Leave the capture as the defaults have it (on demand) instead of adding --always-on (see alwaysOn). */
  defaultCapture?: boolean;
  /** What is asked until it answers 200; default /snapshot.jpg (with --auth: add ?token=…). */
  readyPath?: string;
}

export interface RunningServer {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  port: number;
  command: string[];
  /** The last lines the server wrote on stderr. */
  stderrTail: string[];
}

/** A port that was free a moment ago (bound on port 0, then released). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/**
 * --always-on unless the benchmark chose how its stream captures: the benchmarks measure a stream
 * that runs (viewers joining it, its cost per viewer), not one that starts with them (idle.ts does).
 */
export function alwaysOn(args: readonly string[]): string[] {
  return args.some((a) => a === "--on-demand" || a === "--always-on" || a === "--no-on-demand") ? [] : ["--always-on"];
}

function serverCommand(options: ServerOptions, port: number): string[] {
  const head = options.binary ? [options.binary] : [process.execPath, "run", "src/cli.ts"];
  return [
    ...head,
    "--source",
    options.source ?? "testsrc",
    ...pictureArgs(options.width, options.height, options.fps),
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--log-level",
    "warn",
    ...(options.defaultCapture ? [] : alwaysOn(options.args ?? [])),
    ...(options.args ?? []),
  ];
}

/** Forwards the server's stderr to ours (prefixed) and keeps its last lines. */
export async function drainStderr(server: { proc: { stderr: ReadableStream<Uint8Array> }; stderrTail: string[] }): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for await (const chunk of server.proc.stderr) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        process.stderr.write(`[server] ${line}\n`);
        server.stderrTail.push(line);
        if (server.stderrTail.length > 20) server.stderrTail.shift();
      }
    }
  } catch {
    /* the server is gone */
  }
}

/** True once GET readyPath answers 200; false if the server exits or timeoutMs passes. */
async function waitReady(server: RunningServer, timeoutMs: number, readyPath = "/snapshot.jpg"): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && server.proc.exitCode === null && server.proc.signalCode === null) {
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}${readyPath}`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      /* not listening yet */
    }
    await Bun.sleep(50);
  }
  return false;
}

/** Starts the server on a free port (3 tries) and waits up to 15 s for it to serve. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  let lastError = "";
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = freePort();
    const command = serverCommand(options, port);
    const proc = Bun.spawn(command, { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    ownChild(proc);
    const server: RunningServer = { proc, port, command, stderrTail: [] };
    void drainStderr(server);
    if (await waitReady(server, 15_000, options.readyPath)) return server;
    const exited = proc.exitCode !== null || proc.signalCode !== null;
    await stopTree(proc);
    lastError = exited ? `the server exited (code ${proc.exitCode ?? proc.signalCode}) before serving` : "GET /snapshot.jpg did not answer 200 within 15 s";
    lastError += `\n  command: ${command.join(" ")}\n  stderr: ${server.stderrTail.join("\n          ") || "(none)"}`;
    if (!exited) break; // a server that runs but never serves will not do better on another port
  }
  throw new Error(lastError);
}
