/**
 * A clock that moves only when a test says so (see src/stream/clock.ts):
 * `advance(ms)` runs every timer due on the way, in order, each seeing the
 * time it was due at. Nothing sleeps, so a busy machine cannot make the test
 * late.
 */
import type { Clock, TimerHandle } from "../../src/stream/clock.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<Timer>();

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return timer as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as unknown as Timer);
  }

  /** Timers waiting to run. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time on by `ms`, running the timers that come due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: Timer | null = null;
      for (const t of this.#timers) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = end;
  }

  /**
   * Moves time on in steps, letting what the timers set going run to its next
   * wait after each (promise continuations, and I/O-free callbacks).
   */
  async advanceAsync(ms: number, step = ms): Promise<void> {
    await settle();
    for (let done = 0; done < ms; done += step) {
      this.advance(Math.min(step, ms - done));
      await settle();
    }
  }
}

/** Lets every pending promise continuation run (a macrotask turn, twice: chains that await a resolved promise). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
