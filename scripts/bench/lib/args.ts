/**
 * The options the server benchmarks share (same flags, same limits), as
 * cli.ts specs; and the parsing pieces under their old names, for the
 * benchmarks that still walk their arguments by hand (webrtc-peers).
 */
import { num, text } from "./cli.ts";

export { count, forEachOption, parseOrExit, positive, UsageError } from "./cli.ts";

/** --duration: the measuring window of each round, seconds. */
export const duration = (fallback = 10, max = 3600, help = "measuring window per round, seconds") => num({ flag: "duration", default: fallback, max, help });

/** --binary: a compiled glasscast binary instead of `bun run src/cli.ts`. */
export const binary = () => text({ flag: "binary", default: null, help: 'run a compiled glasscast binary instead of "bun run src/cli.ts"' });

/** --clients: viewer processes sharing a round's viewers. */
export const clients = (help = "viewer processes sharing the viewers") => num({ flag: "clients", default: 2, max: 16, whole: true, help });

/** --settle: longest wait for every viewer's first frame before a window, seconds. */
export const settle = (fallback = 10) => num({ flag: "settle", default: fallback, max: 120, help: "longest wait for every first frame before a window" });

/** The options every MJPEG round takes (runRound in viewer-pool.ts). */
export const runOptions = () => ({ duration: duration(), binary: binary(), clients: clients(), settle: settle() });

export interface RunOptions {
  duration: number;
  binary: string | null;
  clients: number;
  settle: number;
}

/** Applies --duration, --binary, --clients or --settle to o; false for any other flag. */
export function runOption(o: RunOptions, flag: string, value: () => string | undefined): boolean {
  const key = flag.slice(2) as keyof RunOptions;
  if (!flag.startsWith("--") || !Object.hasOwn(o, key)) return false;
  const spec = runOptions()[key];
  Object.assign(o, { [key]: spec.parse(value()) });
  return true;
}
