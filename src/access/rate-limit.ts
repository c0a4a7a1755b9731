/**
 * Failed logins per client: after `maxFailures` failures within a window
 * (counted from the first one), the client is refused until the window ends,
 * without its credentials even being checked. Successful logins do not count.
 * The table is bounded: ended windows are dropped, and past `capacity`
 * clients the oldest window is forgotten first.
 */

export interface LimiterSettings {
  readonly maxFailures?: number;
  readonly windowMs?: number;
  readonly capacity?: number;
  /** The clock (ms), replaceable in tests. */
  readonly now?: () => number;
}

export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_MS = 60_000;
export const LOGIN_TABLE_SIZE = 10_000;

interface Window {
  readonly start: number;
  failures: number;
}

export class LoginLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #max: number;
  readonly #windowMs: number;
  readonly #capacity: number;
  readonly #now: () => number;

  constructor({ maxFailures = LOGIN_MAX_FAILURES, windowMs = LOGIN_WINDOW_MS, capacity = LOGIN_TABLE_SIZE, now = Date.now }: LimiterSettings = {}) {
    this.#max = maxFailures;
    this.#windowMs = windowMs;
    this.#capacity = capacity;
    this.#now = now;
  }

  /** Clients remembered now. */
  get size(): number {
    return this.#windows.size;
  }

  /** Milliseconds until `client` may try again, or 0 when it may now. */
  retryAfterMs(client: string): number {
    const w = this.#current(client);
    return w && w.failures >= this.#max ? w.start + this.#windowMs - this.#now() : 0;
  }

  /** Counts a failed (or not yet checked) login of `client`. */
  fail(client: string): void {
    const w = this.#current(client);
    if (w) {
      w.failures += 1;
      return;
    }
    this.#windows.set(client, { start: this.#now(), failures: 1 });
    if (this.#windows.size > this.#capacity) this.#shrink();
  }

  /** Takes back a `fail` counted before a check that then succeeded. */
  refund(client: string): void {
    const w = this.#current(client);
    if (w && w.failures > 0) w.failures -= 1;
  }

  /** The client's window while it lasts (an ended one is dropped). */
  #current(client: string): Window | null {
    const w = this.#windows.get(client);
    if (!w) return null;
    if (this.#now() - w.start < this.#windowMs) return w;
    this.#windows.delete(client);
    return null;
  }

  /** Windows are kept in the order they started: drop the ended ones, then the oldest. */
  #shrink(): void {
    const now = this.#now();
    for (const [client, w] of this.#windows) {
      if (now - w.start < this.#windowMs) break;
      this.#windows.delete(client);
    }
    while (this.#windows.size > this.#capacity) {
      const oldest = this.#windows.keys().next().value;
      if (oldest === undefined) break;
      this.#windows.delete(oldest);
    }
  }
}

/**
 * Who a request comes from, for counting: an IPv4 address (also when written
 * as IPv4-mapped IPv6), or the /64 network of an IPv6 address (one machine
 * usually owns a whole /64).
 */
export function clientKey(address: string | null | undefined): string {
  if (!address) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(":")) return address;
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
