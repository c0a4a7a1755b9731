/** Command-line options of passthrough.ts, validated once (the shared ones as in mjpeg-fanout). */
import { forEachOption, parseOrExit, positive, runOption, UsageError, type RunOptions } from "./args.ts";

export interface PassthroughOptions extends RunOptions {
  /** MJPEG viewers of each path. */
  viewers: number;
  /** Seconds between every viewer's first frame and the start of the window. */
  warmup: number;
  /** Rounds of each path, in alternating order; the report gives each path's median round. */
  rounds: number;
}

export const USAGE = `usage: bun run scripts/bench/passthrough.ts [options]
  --duration S   measuring window per path, seconds (default 10)
  --viewers N    MJPEG viewers of each path (default 50)
  --warmup S     wait after every viewer has its first frame, before the window (default 3)
  --rounds N     rounds of each path, alternating which goes first (default 3)
  --binary PATH  run a compiled glasscast binary instead of "bun run src/cli.ts"
  --clients N    viewer processes sharing the viewers (default 2)
  --settle S     longest wait for every first frame (default 10)`;

export function parseArgs(argv: string[]): PassthroughOptions {
  const o: PassthroughOptions = { duration: 10, viewers: 50, warmup: 3, rounds: 3, binary: null, clients: 2, settle: 10 };
  forEachOption(argv, (flag, value, arg) => {
    if (runOption(o, flag, value)) return;
    switch (flag) {
      case "--viewers":
        o.viewers = positive("viewers", value(), true, 5000);
        break;
      case "--warmup":
        o.warmup = positive("warmup", value(), false, 120);
        break;
      case "--rounds":
        o.rounds = positive("rounds", value(), true, 20);
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

/** parseArgs, or a message naming the option and exit code 2. */
export function parseArgsOrExit(argv: string[]): PassthroughOptions {
  return parseOrExit("passthrough", USAGE, () => parseArgs(argv));
}
