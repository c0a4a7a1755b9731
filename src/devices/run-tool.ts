/**
 * Runs a short-lived helper program (v4l2-ctl, ffmpeg -list_formats,
 * rpicam-hello --list-cameras) to its end and returns what it printed. An
 * argument list, never a shell; killed when it overruns its time limit; tied
 * to our life with setpriv's parent-death signal where a working setpriv exists, like
 * the server's own children (src/process/child.ts).
 */
import { parentDeathGuard } from "../process/child.ts";

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The program did not end within its time limit (it was killed). */
export class ToolTimeoutError extends Error {}

/** `argv[0]` must be a program that exists (resolve it with Bun.which first): a missing one is not told apart here. */
export async function runTool(argv: readonly string[], timeoutMs: number): Promise<ToolResult> {
  const cmd = [...parentDeathGuard().prefix, ...argv];
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const overrun = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const finished = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  try {
    const result = await Promise.race([finished, overrun]);
    if (result === "timeout") {
      // Not waiting for the pipes: a grandchild may still hold them open.
      proc.kill("SIGKILL");
      await proc.exited;
      throw new ToolTimeoutError(`${argv.join(" ")}: no answer within ${formatSeconds(timeoutMs)} (killed)`);
    }
    const [stdout, stderr, code] = result;
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** The last non-empty line of a program's output, for an error message. */
export function lastLine(text: string): string | null {
  const lines = text
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return lines[lines.length - 1] ?? null;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
