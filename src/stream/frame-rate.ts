/**
 * A stream's frame rate as a person would count it: the frames that arrived
 * in the last WINDOW_MS of wall time, divided by that time. Frames that come
 * in bursts (a busy machine, a network camera, ffmpeg flushing its pipe)
 * average out over the window; a median of intervals would say 124 or 40 for
 * a 30 fps source. The first SKIP_MS of a run (ffmpeg catching up) are not
 * counted, and nothing is said before MIN_SPAN_MS were counted. It drops to 0
 * within WINDOW_MS when frames stop.
 */
export const WINDOW_MS = 2000;
export const MIN_SPAN_MS = 1000;
export const SKIP_MS = 300;

export class FrameRate {
  /** Arrival times in this run, oldest first; none older than WINDOW_MS is kept past the next frame. */
  #arrivals: number[] = [];
  #runStart: number | null = null;

  /** `now`: the clock, in milliseconds (tests give their own). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A new run of the source: earlier frames and the gap since are no part of its rate. */
  reset(): void {
    this.#arrivals = [];
    this.#runStart = null;
  }

  frame(): void {
    const t = this.now();
    this.#runStart ??= t;
    this.#arrivals.push(t);
    let old = 0;
    while (old < this.#arrivals.length && this.#arrivals[old]! <= t - WINDOW_MS) old++;
    if (old > 0) this.#arrivals.splice(0, old);
  }

  /** Frames per second over the window; 0 while not yet measured, or when frames stopped. */
  rate(): number {
    if (this.#runStart === null) return 0;
    const t = this.now();
    const from = Math.max(t - WINDOW_MS, this.#runStart + SKIP_MS);
    const span = t - from;
    if (span < MIN_SPAN_MS) return 0;
    let count = 0;
    for (const at of this.#arrivals) if (at > from) count++;
    return (count * 1000) / span;
  }
}
