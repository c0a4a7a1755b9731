/** Command-line options of soak.ts, validated once. */
import { count, forEachOption, parseOrExit, positive, UsageError } from "./args.ts";

export interface SoakOptions {
  /** Length of the run, seconds. */
  seconds: number;
  /** MJPEG viewers coming and going (the stalled one comes on top). */
  mjpeg: number;
  /** WebRTC peers coming and going. */
  webrtc: number;
  /** Seconds between two kills of the capture process. */
  killEvery: number;
  /** Seconds between two sample lines. */
  sampleEvery: number;
  /** Warm-up asked for, seconds (the run uses at most a third of its length). */
  warmup: number;
  binary: string | null;
  /** Processes sharing the MJPEG viewers. */
  clients: number;
  /** The built-in test pattern instead of the fake webcam. */
  testsrc: boolean;
}

export const USAGE = `usage: bun run scripts/bench/soak.ts [options]
  --minutes M        length of the run (default 30; fractions allowed, e.g. 0.5)
  --mjpeg N          MJPEG viewers coming and going (default 20), plus one stalled viewer
  --webrtc N         WebRTC peers (werift) coming and going (default 3)
  --kill-every S     seconds between two SIGKILLs of the capture process (default 120, at least 5)
  --sample-every S   seconds between two sample lines (default 60)
  --warmup S         seconds before the baseline sample (default 120; at most a third of the run)
  --binary PATH      run a compiled glasscast binary instead of "bun run src/cli.ts"
  --clients N        processes sharing the MJPEG viewers (default 2)
  --testsrc          capture ffmpeg's testsrc pattern instead of the fake MJPEG webcam`;

/** Seconds after a kill during which each viewer's return is watched for (shorter for short kill intervals). */
export function recoveryWindowS(o: SoakOptions): number {
  return Math.min(20, o.killEvery - 1);
}

/** The warm-up the run uses: as asked, but at most a third of the run. */
export function warmupS(o: SoakOptions): number {
  return Math.min(o.warmup, o.seconds / 3);
}

export function parseArgs(argv: string[]): SoakOptions {
  const o: SoakOptions = { seconds: 30 * 60, mjpeg: 20, webrtc: 3, killEvery: 120, sampleEvery: 60, warmup: 120, binary: null, clients: 2, testsrc: false };
  forEachOption(argv, (flag, value, arg) => {
    switch (flag) {
      case "--minutes":
        o.seconds = Math.round(positive("minutes", value(), false, 24 * 60) * 60);
        break;
      case "--mjpeg":
        o.mjpeg = count("mjpeg", value(), 500);
        break;
      case "--webrtc":
        o.webrtc = count("webrtc", value(), 40);
        break;
      case "--kill-every":
        o.killEvery = positive("kill-every", value(), false, 24 * 3600);
        break;
      case "--sample-every":
        o.sampleEvery = positive("sample-every", value(), false, 24 * 3600);
        break;
      case "--warmup":
        o.warmup = count("warmup", value(), 24 * 3600);
        break;
      case "--binary": {
        const path = value();
        if (!path) throw new UsageError("--binary needs a path");
        o.binary = path;
        break;
      }
      case "--clients":
        o.clients = positive("clients", value(), true, 16);
        break;
      case "--testsrc":
        o.testsrc = true;
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
  if (o.killEvery < 5) {
    throw new UsageError(
      `--kill-every: ${o.killEvery} is too short; give at least 5 s (glasscast waits 1 s before it restarts the capture, and each kill's recovery is watched until the next)`,
    );
  }
  if (o.killEvery + recoveryWindowS(o) > o.seconds) {
    throw new UsageError(
      `--kill-every: ${o.killEvery} s leaves no kill in a ${o.seconds} s run ` +
        `(a kill and the ${recoveryWindowS(o)} s watch after it must fit); give a longer --minutes or a shorter --kill-every`,
    );
  }
  if (o.sampleEvery > o.seconds / 2) {
    throw new UsageError(`--sample-every: ${o.sampleEvery} s gives fewer than two samples in a ${o.seconds} s run; give at most ${o.seconds / 2}`);
  }
  if (o.mjpeg === 0 && o.webrtc === 0) throw new UsageError("--mjpeg and --webrtc are both 0: nobody would watch");
  return o;
}

/** parseArgs, or a message naming the option and exit code 2. */
export function parseArgsOrExit(argv: string[]): SoakOptions {
  return parseOrExit("soak", USAGE, () => parseArgs(argv));
}
