/**
 * The benchmarks' one child-process pool protocol, parent side: a
 * load-generator child takes JSON commands on stdin (stdin-commands.ts is the
 * child side) and answers in JSON lines on stdout (one `{"type": …}` message
 * a line). The viewer, reader, player and receiver pools all speak it.
 */
import type { Subprocess } from "bun";
import { disownChild, ownChild } from "./children.ts";

export type PipedChild = Subprocess<"pipe", "pipe", "inherit">;

export class JsonLinesChild<M extends { type: string }> {
  readonly #messages: M[] = [];
  /** Wakes every waiting next() (several may wait at once, for different message types). */
  readonly #wakers = new Set<() => void>();
  #closed = false;

  constructor(readonly proc: PipedChild) {
    void this.#read();
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Writes one line to the child's stdin; a child that is gone lets its answers time out. */
  protected writeLine(line: string): void {
    try {
      this.proc.stdin.write(`${line}\n`);
      void this.proc.stdin.flush();
    } catch {
      /* the process is gone */
    }
  }

  /** Takes the first message of that type (and matching `accept`), waiting at most timeoutMs; null on timeout or exit. */
  async next<T extends M["type"]>(
    type: T,
    timeoutMs: number,
    accept: (m: Extract<M, { type: T }>) => boolean = () => true,
  ): Promise<Extract<M, { type: T }> | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.#messages.findIndex((m) => m.type === type && accept(m as Extract<M, { type: T }>));
      if (i >= 0) return this.#messages.splice(i, 1)[0] as Extract<M, { type: T }>;
      const left = deadline - performance.now();
      if (this.#closed || left <= 0) return null;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#wakers.add(wake);
      });
    }
  }

  /** Ends stdin (the process exits by itself), SIGKILL if it has not after 3 s; then it is no longer ours to stop. */
  async end(): Promise<void> {
    try {
      this.proc.stdin.end();
    } catch {
      /* already gone */
    }
    const exited = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
    if (!exited) {
      this.proc.kill("SIGKILL");
      await Promise.race([this.proc.exited, Bun.sleep(1000)]);
    }
    disownChild(this.proc);
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    try {
      for await (const chunk of this.proc.stdout) {
        pending += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.startsWith("{")) this.#messages.push(JSON.parse(line) as M);
          this.#notify();
        }
      }
    } catch {
      /* the process went away */
    } finally {
      this.#closed = true;
      this.#notify();
    }
  }

  #notify(): void {
    for (const wake of [...this.#wakers]) wake();
  }
}

/** A pool child that takes commands of type C. */
export class PoolChild<M extends { type: string }, C = string> extends JsonLinesChild<M> {
  /** Sends one command, as a JSON line. */
  send(command: C): void {
    this.writeLine(JSON.stringify(command));
  }
}

/** Starts argv (stdin and stdout piped, stderr ours) as a child of ours. */
export function spawnChild<M extends { type: string }, C = string>(argv: string[]): PoolChild<M, C> {
  const proc = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  ownChild(proc);
  return new PoolChild<M, C>(proc);
}

/** `processes` children of `script` (bun run) sharing `total` viewers, readers or players: each gets `args` and `--count` its share. */
export function spawnShares<M extends { type: string }, C = string>(script: string, total: number, processes: number, args: string[]): PoolChild<M, C>[] {
  const n = Math.max(1, Math.min(processes, total));
  return Array.from({ length: n }, (_, i) => {
    const share = Math.floor(total / n) + (i < total % n ? 1 : 0);
    return spawnChild<M, C>([process.execPath, "run", script, ...args, "--count", String(share)]);
  });
}

/** "ready" from every child (together within timeoutMs): the ready messages, or an Error saying `what` did not start. */
export async function allReady<M extends { type: string }>(
  children: JsonLinesChild<M>[],
  timeoutMs: number,
  what: string,
): Promise<Extract<M, { type: "ready" }>[]> {
  const deadline = performance.now() + timeoutMs;
  const out: Extract<M, { type: "ready" }>[] = [];
  for (const c of children) {
    const ready = await c.next("ready" as M["type"], Math.max(0, deadline - performance.now()));
    if (!ready) throw new Error(`${what} did not start`);
    out.push(ready as Extract<M, { type: "ready" }>);
  }
  return out;
}

/** Ends every child (see end()). */
export async function endAll(children: JsonLinesChild<{ type: string }>[]): Promise<void> {
  await Promise.all(children.map((c) => c.end()));
}
