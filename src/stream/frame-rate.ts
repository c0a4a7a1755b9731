/**
 * A stream's frame rate as a person would count it: the frames that arrived
 * in the last WINDOW_MS of wall time, divided by that time. Frames that come
 * in bursts (a busy machine, a network camera, ffmpeg flushing its pipe)
 * average out over the window; a median of intervals would say 124 or 40 for
 * a 30 fps source. The first SKIP_MS of a run (ffmpeg catching up) are not
 * counted, and nothing is said before MIN_SPAN_MS were counted. A slow source
 * (fewer than SLOW_FRAMES frames in the window: an image every few seconds)
 * is measured over its last SLOW_FRAMES frames instead. It drops to 0 when
 * frames stop: within WINDOW_MS, or three of a slow source's intervals.
 * (Between the two, a fast source that stopped never reads its old rate
 * again: three of its intervals have long passed.)
 */
export const WINDOW_MS = 2000;
export const MIN_SPAN_MS = 1000;
export const SKIP_MS = 300;
export const SLOW_FRAMES = 4;

export class FrameRate {
  /** Arrival times in this run, oldest first: those of the window, and at least the last SLOW_FRAMES. */
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
    while (this.#arrivals.length - old > SLOW_FRAMES && this.#arrivals[old]! <= t - WINDOW_MS) old++;
    if (old > 0) this.#arrivals.splice(0, old);
  }

  /** Frames per second; 0 while not yet measured, or when frames stopped. */
  rate(): number {
    if (this.#runStart === null) return 0;
    const t = this.now();
    const from = Math.max(t - WINDOW_MS, this.#runStart + SKIP_MS);
    let count = 0;
    for (const at of this.#arrivals) if (at > from) count++;
    if (count >= SLOW_FRAMES) {
      const span = t - from;
      return span < MIN_SPAN_MS ? 0 : (count * 1000) / span;
    }
    // A slow source: the mean interval of its last frames (over at least MIN_SPAN_MS: not a
    // burst at the start of a run), and 0 once three of them passed without one.
    const last = this.#arrivals.slice(-SLOW_FRAMES);
    const spanned = last.length < 2 ? 0 : last[last.length - 1]! - last[0]!;
    if (spanned < MIN_SPAN_MS) return 0;
    const interval = spanned / (last.length - 1);
    if (interval <= 0 || t - last[last.length - 1]! > 3 * interval) return 0;
    return 1000 / interval;
  }
}
