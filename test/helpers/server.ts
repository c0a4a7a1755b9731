/** Starts the real glasscast CLI in a child process, on a free port. */
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const CLI = join(ROOT, "src", "cli.ts");

export interface RunningServer {
  readonly proc: ReturnType<typeof Bun.spawn>;
  readonly port: number;
  readonly url: string;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Everything it wrote to stdout so far (the start line first). */
  stdout(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Servers still running: killed when the test process exits, even after a timed-out test. */
const started = new Set<ReturnType<typeof Bun.spawn>>();
process.on("exit", () => {
  for (const proc of started) proc.kill("SIGKILL");
});

/**
 * The CLI on 127.0.0.1 and a free port. Without --source (or --config) glasscast would look for
 * a camera: the tests that rely on the default get the test pattern on every machine, a Pi with
 * a camera too (test/default-source.test.ts runs the camera-by-default itself, with the fakes).
 */
export function startServer(args: string[], env: Record<string, string> = {}): Promise<RunningServer> {
  const given = args.some((a) => a === "--source" || a.startsWith("--source=") || a === "--config" || a.startsWith("--config=") || a === "-c");
  // RTSP off unless a test asks for it: parallel test servers would all want port 8554.
  const rtsp = args.some((a) => a === "--rtsp-port" || a.startsWith("--rtsp-port=")) ? [] : ["--rtsp-port", "0"];
  return startProgram(
    [
      process.execPath,
      "run",
      CLI,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...rtsp,
      ...(given ? [] : ["--source", "testsrc"]),
      ...alwaysOnUnlessChosen(args),
      ...args,
    ],
    env,
  );
}

/**
 * --always-on unless the test chose how the stream captures: most tests look at a stream that
 * runs from the start (its capture process, its state); test/on-demand.test.ts runs the default.
 */
export function alwaysOnUnlessChosen(args: readonly string[]): string[] {
  const chosen = args.some((a) => /^--(no-)?(on-demand|always-on)(=|$)/.test(a));
  return chosen ? [] : ["--always-on"];
}

/** Starts any program that prints its address as `→ http://HOST:PORT/` or `→ https://…` (the CLI, the examples). */
export async function startProgram(argv: string[], env: Record<string, string> = {}): Promise<RunningServer> {
  const proc = Bun.spawn(argv, {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  started.add(proc);
  void proc.exited.then(() => started.delete(proc));
  let text = "";
  let out = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) text += decoder.decode(chunk, { stream: true });
  })();
  const listening = new Promise<{ scheme: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 60 s:\n${text}`)), 60_000); // a busy machine (or qemu) may take long; it ends at the start line
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
        out += decoder.decode(chunk, { stream: true });
        const m = /→ (https?):\/\/[^:]+:(\d+)\//.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve({ scheme: m[1]!, port: Number(m[2]) });
        }
      }
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${await proc.exited}):\n${text}`));
    })();
  });
  // One that never said where it listens is not left running behind the failed test.
  const { scheme, port } = await listening.catch((err: unknown) => {
    proc.kill("SIGKILL");
    throw err;
  });
  return {
    proc,
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    stderr: () => text,
    stdout: () => out,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      return proc.exited;
    },
  };
}

/** Child processes of `pid`, from /proc. */
export async function childPids(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await Array.fromAsync(new Bun.Glob("[0-9]*").scan({ cwd: "/proc", onlyFiles: false }))) {
    try {
      const stat = await Bun.file(`/proc/${entry}/stat`).text();
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      /* the process went away */
    }
  }
  return out;
}

/** Processes under the server whose command line holds `text` (e.g. libx264, testsrc2). */
export async function processesWith(serverPid: number, text: string): Promise<number> {
  let n = 0;
  for (const pid of await childPids(serverPid)) {
    try {
      if ((await Bun.file(`/proc/${pid}/cmdline`).text()).replaceAll("\0", " ").includes(text)) n++;
    } catch {
      /* gone */
    }
  }
  return n;
}

export function isAlive(pid: number): boolean {
  try {
    const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Resident memory of a process in bytes. */
export async function rssOf(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** Starts a server with `args`, runs `use` on it, and always stops it. */
export async function withServer<T>(args: string[], use: (server: RunningServer) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  const server = await startServer(args, env);
  try {
    return await use(server);
  } finally {
    await server.stop();
  }
}
