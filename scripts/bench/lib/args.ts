/**
 * Command-line options of mjpeg-fanout.ts, validated once, and the pieces the
 * other MJPEG benchmarks (passthrough.ts) parse theirs with.
 */

/** The options every MJPEG benchmark takes (same flags, same limits). */
export interface RunOptions {
  /** Seconds of the measuring window of each round. */
  duration: number;
  binary: string | null;
  /** Viewer processes sharing a round's viewers. */
  clients: number;
  /** Seconds a round waits for every viewer's first frame before the window starts. */
  settle: number;
}

export interface BenchOptions extends RunOptions {
  viewers: number[];
  encodeIterations: number;
  skipEncode: boolean;
}

export const USAGE = `usage: bun run scripts/bench/mjpeg-fanout.ts [options]
  --duration S           measuring window per round, seconds (default 10)
  --viewers LIST         viewer counts, comma-separated (default 1,10,50,100,200)
  --binary PATH          run a compiled glasscast binary instead of "bun run src/cli.ts"
  --clients N            viewer processes sharing the viewers (default 2)
  --settle S             longest wait for every first frame before a window (default 10)
  --encode-iterations N  frames per timed encode loop (default 300)
  --skip-encode          leave out the encode comparison`;

/** A wrong option: the message names it; the benchmark exits with status 2 and its usage. */
export class UsageError extends Error {}

/** A positive number (whole when `integer`) up to max, or a UsageError naming --name and the value. */
export function positive(name: string, raw: string | undefined, integer: boolean, max: number): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value <= 0 || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name}: ${JSON.stringify(raw ?? "")} is not allowed; ` + `give a positive ${integer ? "whole number" : "number"} up to ${max}`);
  }
  return value;
}

/** A whole number from 0 to max, or a UsageError naming --name and the value. */
export function count(name: string, raw: string | undefined, max: number): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === "" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new UsageError(`--${name}: ${JSON.stringify(raw ?? "")} is not allowed; give a whole number from 0 to ${max}`);
  }
  return value;
}

/**
 * Walks argv as `--flag VALUE` or `--flag=VALUE`: handle gets the flag, a
 * function that takes its value (only options with a value call it) and the
 * whole argument.
 */
export function forEachOption(argv: string[], handle: (flag: string, value: () => string | undefined, arg: string) => void): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    handle(flag, () => inline ?? argv[++i], arg);
  }
}

/** Applies --duration, --binary, --clients or --settle to o; false for any other flag. */
export function runOption(o: RunOptions, flag: string, value: () => string | undefined): boolean {
  switch (flag) {
    case "--duration":
      o.duration = positive("duration", value(), false, 3600);
      return true;
    case "--binary": {
      const path = value();
      if (!path) throw new UsageError("--binary needs a path");
      o.binary = path;
      return true;
    }
    case "--clients":
      o.clients = positive("clients", value(), true, 16);
      return true;
    case "--settle":
      o.settle = positive("settle", value(), false, 120);
      return true;
    default:
      return false;
  }
}

export function parseArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = {
    duration: 10,
    viewers: [1, 10, 50, 100, 200],
    binary: null,
    clients: 2,
    settle: 10,
    encodeIterations: 300,
    skipEncode: false,
  };
  forEachOption(argv, (flag, value, arg) => {
    if (runOption(o, flag, value)) return;
    switch (flag) {
      case "--viewers": {
        const raw = value() ?? "";
        o.viewers = raw.split(",").map((v) => positive("viewers", v.trim(), true, 5000));
        break;
      }
      case "--encode-iterations":
        o.encodeIterations = positive("encode-iterations", value(), true, 100_000);
        break;
      case "--skip-encode":
        o.skipEncode = true;
        break;
      case "-h":
      case "--help":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    }
  });
  return o;
}

/** parse(), or on a UsageError "program: message", the usage and exit code 2. */
export function parseOrExit<T>(program: string, usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${program}: ${err.message}\n${usage}`);
    process.exit(2);
  }
}

/** parseArgs, or a message naming the option and exit code 2. */
export function parseArgsOrExit(argv: string[]): BenchOptions {
  return parseOrExit("mjpeg-fanout", USAGE, () => parseArgs(argv));
}
