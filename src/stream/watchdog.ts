/**
 * One capture run's signal: aborted with the stream, or by the watchdog when
 * the source delivers nothing for the source timeout (and at least three
 * frame intervals, so a slow image sequence is not taken for a dead camera).
 * A pushed source may wait for its publisher as long as it takes: it is
 * watched from its first frame on.
 */
import type { Clock, TimerHandle } from "./clock.ts";

export interface RunWatch {
  readonly signal: AbortSignal;
  /** The watchdog aborted the run. */
  readonly stalled: boolean;
  /** The limit it went by, in seconds (one decimal). */
  readonly limitS: number;
  /** A frame came. */
  fed(): void;
  /** The run is over: no more checks. */
  done(): void;
}

export interface WatchOptions {
  /** None: never stalls (a source that is not restartable, or no --source-timeout). */
  readonly timeoutMs: number | undefined;
  /** Armed only from the first frame on (a pushed source waiting for its publisher). */
  readonly armOnFirstFrame: boolean;
  /** The source's frame rate now (0 when unknown). */
  readonly fps: () => number;
  readonly clock: Clock;
}

export function watchRun(stream: AbortSignal, { timeoutMs, armOnFirstFrame, fps, clock }: WatchOptions): RunWatch {
  const controller = new AbortController();
  const abort = () => controller.abort();
  stream.addEventListener("abort", abort, { once: true });
  let armed = !armOnFirstFrame;
  let fedAt = clock.now();
  const state = { stalled: false, limitS: 0 };
  let timer: TimerHandle | null = null;
  const check = (everyMs: number, limitMs: number) => {
    timer = clock.setTimeout(() => {
      timer = null;
      if (armed) {
        const rate = fps();
        const limit = Math.max(limitMs, rate > 0 ? 3000 / rate : 0);
        if (clock.now() - fedAt > limit) {
          state.stalled = true;
          state.limitS = Math.round(limit / 100) / 10;
          controller.abort();
          return;
        }
      }
      check(everyMs, limitMs);
    }, everyMs);
  };
  if (timeoutMs !== undefined) check(Math.min(1000, Math.max(100, timeoutMs / 4)), timeoutMs);
  return {
    signal: controller.signal,
    get stalled() {
      return state.stalled;
    },
    get limitS() {
      return state.limitS;
    },
    fed: () => {
      fedAt = clock.now();
      armed = true;
    },
    done: () => {
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      stream.removeEventListener("abort", abort);
    },
  };
}
