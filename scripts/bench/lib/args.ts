/** Command-line options of mjpeg-fanout.ts, validated once. */
export interface BenchOptions {
  /** Seconds of the measuring window of each round. */
  duration: number;
  viewers: number[];
  binary: string | null;
  /** Viewer processes sharing a round's viewers. */
  clients: number;
  /** Seconds a round waits for every viewer's first frame before the window starts. */
  settle: number;
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

class UsageError extends Error {}

function positive(name: string, raw: string | undefined, integer: boolean, max: number): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value <= 0 || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name}: ${JSON.stringify(raw ?? "")} is not allowed; ` +
      `give a positive ${integer ? "whole number" : "number"} up to ${max}`);
  }
  return value;
}

export function parseArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = {
    duration: 10, viewers: [1, 10, 50, 100, 200], binary: null, clients: 2, settle: 10,
    encodeIterations: 300, skipEncode: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--duration": o.duration = positive("duration", value(), false, 3600); break;
      case "--viewers": {
        const raw = value() ?? "";
        o.viewers = raw.split(",").map((v) => positive("viewers", v.trim(), true, 5000));
        break;
      }
      case "--binary": {
        const path = value();
        if (!path) throw new UsageError("--binary needs a path");
        o.binary = path;
        break;
      }
      case "--clients": o.clients = positive("clients", value(), true, 16); break;
      case "--settle": o.settle = positive("settle", value(), false, 120); break;
      case "--encode-iterations": o.encodeIterations = positive("encode-iterations", value(), true, 100_000); break;
      case "--skip-encode": o.skipEncode = true; break;
      case "-h": case "--help": console.log(USAGE); process.exit(0); break;
      default: throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    }
  }
  return o;
}

/** parseArgs, or a message naming the option and exit code 2. */
export function parseArgsOrExit(argv: string[]): BenchOptions {
  try {
    return parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`mjpeg-fanout: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
}
