/** Command-line options of soak.ts (cli.ts specs), with the checks that look at them together. */
import { binary } from "./args.ts";
import { cli, num, toggle, UsageError } from "./cli.ts";

const CLI = cli(
  "soak",
  {
    minutes: num({ flag: "minutes", default: 30, max: 24 * 60, arg: "M", help: "length of the run (fractions allowed, e.g. 0.5)" }),
    mjpeg: num({ flag: "mjpeg", default: 20, max: 500, zero: true, help: "MJPEG viewers coming and going, plus one stalled viewer" }),
    webrtc: num({ flag: "webrtc", default: 3, max: 40, zero: true, help: "WebRTC peers (werift) coming and going" }),
    killEvery: num({ flag: "kill-every", default: 120, max: 24 * 3600, help: "seconds between two SIGKILLs of the capture process (at least 5)" }),
    sampleEvery: num({ flag: "sample-every", default: 60, max: 24 * 3600, help: "seconds between two sample lines" }),
    warmup: num({
      flag: "warmup",
      default: 120,
      max: 24 * 3600,
      zero: true,
      arg: "S",
      help: "seconds before the baseline sample (at most a third of the run)",
    }),
    binary: binary(),
    clients: num({ flag: "clients", default: 2, max: 16, whole: true, help: "processes sharing the MJPEG viewers" }),
    testsrc: toggle({ flag: "testsrc", help: "capture ffmpeg's testsrc pattern instead of the fake MJPEG webcam" }),
  },
  (o) => {
    const seconds = Math.round(o.minutes * 60);
    const watch = recoveryWindowS(o);
    if (o.killEvery < 5) {
      throw new UsageError(
        `--kill-every: ${o.killEvery} is too short; give at least 5 s (glasscast waits 1 s before it restarts the capture, and each kill's recovery is watched until the next)`,
      );
    }
    if (o.killEvery + watch > seconds) {
      throw new UsageError(
        `--kill-every: ${o.killEvery} s leaves no kill in a ${seconds} s run ` +
          `(a kill and the ${watch} s watch after it must fit); give a longer --minutes or a shorter --kill-every`,
      );
    }
    if (o.sampleEvery > seconds / 2) {
      throw new UsageError(`--sample-every: ${o.sampleEvery} s gives fewer than two samples in a ${seconds} s run; give at most ${seconds / 2}`);
    }
    if (o.mjpeg === 0 && o.webrtc === 0) throw new UsageError("--mjpeg and --webrtc are both 0: nobody would watch");
  },
);

/** The options; `seconds` is the length of the run. */
export type SoakOptions = ReturnType<typeof CLI.parse> & { seconds: number };

/** Seconds after a kill during which each viewer's return is watched for (shorter for short kill intervals). */
export function recoveryWindowS(o: { killEvery: number }): number {
  return Math.min(20, o.killEvery - 1);
}

/** The warm-up the run uses: as asked, but at most a third of the run. */
export function warmupS(o: SoakOptions): number {
  return Math.min(o.warmup, o.seconds / 3);
}

/** The options, or a message naming the option and exit code 2. */
export function parseArgsOrExit(argv: string[]): SoakOptions {
  const o = CLI.parseOrExit(argv);
  return { ...o, seconds: Math.round(o.minutes * 60) };
}
