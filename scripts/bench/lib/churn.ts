/**
 * Viewers that come and go at random: each slot's viewer stays connected for
 * a random time, goes away for a random time, comes back, and so on. The
 * caller says what joining and leaving mean (an MJPEG connection, a WebRTC
 * peer). `hold()` brings every viewer back and keeps them all connected
 * (the soak's checkpoints compare the server at equal load); `resume()`
 * starts the comings and goings again.
 */

export interface ChurnTiming {
  /** Seconds connected: uniform in [min, max]. */
  onS: [number, number];
  /** Seconds away. */
  offS: [number, number];
}

export const DEFAULT_CHURN: ChurnTiming = { onS: [5, 60], offS: [1, 10] };

const uniform = ([min, max]: [number, number]) => (min + Math.random() * (max - min)) * 1000;

export class Churn {
  readonly #connected: boolean[];
  readonly #timers: (ReturnType<typeof setTimeout> | null)[];
  #running = false;
  /** Joins and leaves so far. */
  joins = 0;
  leaves = 0;

  constructor(
    readonly slots: number,
    private readonly join: (slot: number) => void,
    private readonly leave: (slot: number) => void,
    private readonly timing: ChurnTiming = DEFAULT_CHURN,
  ) {
    this.#connected = Array.from({ length: slots }, () => false);
    this.#timers = Array.from({ length: slots }, () => null);
  }

  /** Viewers connected now (as far as the churn knows: it asked them to join and not yet to leave). */
  get connected(): number {
    return this.#connected.filter(Boolean).length;
  }

  /** Every viewer joins now, each with its own random time to stay. */
  start(): void {
    this.#running = true;
    for (let slot = 0; slot < this.slots; slot++) this.#join(slot);
  }

  /** Every viewer that is away joins now; nobody leaves until resume(). */
  hold(): void {
    this.#running = false;
    for (let slot = 0; slot < this.slots; slot++) {
      this.#clear(slot);
      if (!this.#connected[slot]) this.#join(slot);
    }
  }

  /** Comings and goings again: each viewer (all connected after hold) stays a new random time. */
  resume(): void {
    this.#running = true;
    for (let slot = 0; slot < this.slots; slot++) {
      this.#clear(slot);
      this.#schedule(
        slot,
        this.#connected[slot] ? () => this.#leave(slot) : () => this.#join(slot),
        this.#connected[slot] ? this.timing.onS : this.timing.offS,
      );
    }
  }

  /** No more comings and goings (the viewers stay as they are). */
  stop(): void {
    this.#running = false;
    for (let slot = 0; slot < this.slots; slot++) this.#clear(slot);
  }

  #join(slot: number): void {
    this.#connected[slot] = true;
    this.joins++;
    this.join(slot);
    if (this.#running) this.#schedule(slot, () => this.#leave(slot), this.timing.onS);
  }

  #leave(slot: number): void {
    this.#connected[slot] = false;
    this.leaves++;
    this.leave(slot);
    if (this.#running) this.#schedule(slot, () => this.#join(slot), this.timing.offS);
  }

  #schedule(slot: number, next: () => void, range: [number, number]): void {
    this.#timers[slot] = setTimeout(() => {
      this.#timers[slot] = null;
      next();
    }, uniform(range));
  }

  #clear(slot: number): void {
    const timer = this.#timers[slot];
    if (timer) clearTimeout(timer);
    this.#timers[slot] = null;
  }
}
