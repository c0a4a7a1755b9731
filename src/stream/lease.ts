/**
 * "Run while held, stop after a linger", written once: the on-demand
 * capture, the H.264 feed's encoder, the picture decoder and the HLS muxer
 * all use it. The first hold starts the work; when the last holder lets go
 * the work keeps running `lingerMs` (a reloaded page does not restart it),
 * then stops. A touch is a hold let go at once: work asked for now and then
 * (pictures from an H.264 decoder) runs until nobody asked for `lingerMs`.
 *
 * A touch costs no timer of its own: one timer per idle spell, which on
 * firing waits out what is left since the newest touch.
 */
import { realClock, type Clock, type TimerHandle } from "./clock.ts";

export interface LeaseOptions {
  readonly start: () => void;
  /** Called once per start, after the linger (or at close); not awaited by the lease. */
  readonly stop: () => void | Promise<void>;
  readonly lingerMs: number;
  readonly clock?: Clock;
}

export class Lease {
  readonly #options: LeaseOptions;
  readonly #clock: Clock;
  #holders = 0;
  #active = false;
  #closed = false;
  #idleSince = 0;
  #timer: TimerHandle | null = null;

  constructor(options: LeaseOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  /** The work runs (started and not yet stopped). */
  get active(): boolean {
    return this.#active;
  }
  /** Holds not yet let go. */
  get holders(): number {
    return this.#holders;
  }

  /** Starts the work if it is not running and keeps it until the returned function is called (idempotent). */
  hold(): () => void {
    this.#holders++;
    this.#disarm();
    this.#ensureStarted();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#holders === 0) this.#idle();
    };
  }

  /** Asks for the work now: started if it is not running, stopped `lingerMs` after the last touch or release. */
  touch(): void {
    this.#ensureStarted();
    if (this.#holders === 0) this.#idle();
  }

  /** Stops now if running (shutdown): holds are dropped, and later holds and touches start nothing. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.stopNow();
  }

  /** Stops now if running, without waiting for the linger; the next hold or touch starts again. */
  async stopNow(): Promise<void> {
    this.#holders = 0;
    this.#disarm();
    await this.#stop();
  }

  #ensureStarted(): void {
    if (this.#active || this.#closed) return;
    this.#active = true;
    this.#options.start();
  }

  #idle(): void {
    this.#idleSince = this.#clock.now();
    if (this.#timer === null && this.#active) this.#arm(this.#options.lingerMs);
  }

  #arm(ms: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      if (this.#holders > 0 || !this.#active) return;
      const left = this.#idleSince + this.#options.lingerMs - this.#clock.now();
      if (left > 0) return this.#arm(left);
      void this.#stop();
    }, ms);
  }

  #disarm(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #stop(): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    await this.#options.stop();
  }
}
