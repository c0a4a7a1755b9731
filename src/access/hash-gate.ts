/**
 * How many password hashes (argon2, bcrypt) are checked at once, over every
 * credential list of the process. A check costs tens of milliseconds of a
 * core and runs on Bun's thread pool: unbounded, a flood of wrong logins
 * from many addresses (each under the per-address limit) takes every core
 * from the capture and the viewers. Past `running` checks at once, `queued`
 * more wait their turn; past those, a login is refused at once (the client
 * gets 503 and tries again), its password unchecked.
 */

/** Thrown (as a rejection) when the queue is full. */
export class HashGateFull extends Error {}

/** One check at a time leaves the other core(s) to the capture and the viewers. */
export const HASH_CHECKS_AT_ONCE = 1;
/** Logins waiting for their check; at ~50 ms each, a second or so of waiting at most. */
export const HASH_CHECKS_QUEUED = 16;

export class HashGate {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    private readonly running = HASH_CHECKS_AT_ONCE,
    private readonly queued = HASH_CHECKS_QUEUED,
  ) {}

  /** Checks running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }

  /** Runs `check` when a place is free; rejects with HashGateFull when too many wait already. */
  async run<T>(check: () => Promise<T>): Promise<T> {
    if (this.#running >= this.running) {
      if (this.#waiting.length >= this.queued) throw new HashGateFull("too many logins are being checked; try again in a moment");
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await check();
    } finally {
      const next = this.#waiting.shift();
      // The place passes straight to the next in line; only when nobody waits is it freed.
      if (next) next();
      else this.#running -= 1;
    }
  }
}

/** The process's one gate: every --auth and --metrics-auth list shares the same cores. */
export const hashGate = new HashGate();
