/**
 * User names and passwords (--auth, --metrics-auth) and the HTTP Basic check
 * against them. A password is either given plainly (compared in constant
 * time, as digests of equal length) or as an argon2/bcrypt hash checked with
 * Bun.password; a successful check of a hash is remembered for a minute per
 * Authorization header, so two hundred MJPEG viewers reconnecting do not cost
 * two hundred argon2 runs.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { HashGateFull, hashGate, type HashGate } from "./hash-gate.ts";

/** The outcome of a check: right, wrong, or not checked because too many checks wait already (see hash-gate.ts). */
export type CheckOutcome = boolean | "busy";

export interface Credential {
  readonly user: string;
  /** The password, or its hash when `hashed`. */
  readonly secret: string;
  readonly hashed: boolean;
}

/** How long a verified Authorization header is trusted without checking its hash again. */
export const VERIFIED_CACHE_MS = 60_000;
/** Most Authorization headers remembered at once (the oldest are forgotten first). */
export const VERIFIED_CACHE_SIZE = 1024;

const ARGON2_HASH = /^\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/;
const BCRYPT_HASH = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

/** A password given as a hash: it starts like one ($argon2… or $2…). */
export function looksHashed(secret: string): boolean {
  return secret.startsWith("$argon2") || secret.startsWith("$2");
}

/** Why a secret that starts like a hash is not one Bun.password can check, or null. */
export function hashProblem(secret: string): string | null {
  if (!looksHashed(secret) || ARGON2_HASH.test(secret) || BCRYPT_HASH.test(secret)) return null;
  return "starts like a password hash ($argon2… or $2…) but is not a whole argon2 or bcrypt hash";
}

/** `USER:PASS` or `USER:HASH` (the user name ends at the first colon). */
export function parseCredential(value: string): Credential {
  const colon = value.indexOf(":");
  const user = value.slice(0, colon);
  const secret = value.slice(colon + 1);
  return { user, secret, hashed: looksHashed(secret) };
}

/** The user and password of an `Authorization: Basic …` header, or null when it is not one. */
export function parseBasic(header: string | null): { user: string; password: string } | null {
  const m = header === null ? null : /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A hash of `plain` for `--auth USER:HASH` (argon2id), as `glasscast hash-password` prints it. */
export function hashPassword(plain: string): Promise<string> {
  return Bun.password.hash(plain, { algorithm: "argon2id" });
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** A set of credentials that an `Authorization: Basic` header is checked against. */
export class CredentialList {
  readonly #plain: { readonly whole: Buffer }[];
  readonly #hashed: { readonly user: Buffer; readonly hash: string }[];
  /** sha256 of a header that passed → until when it is trusted. */
  readonly #verified = new Map<string, number>();
  /** Checks under way, by header digest: the same header arriving 200 times at once shares one. */
  readonly #pending = new Map<string, Promise<CheckOutcome>>();
  #dummyHash: Promise<string> | null = null;

  constructor(
    values: readonly string[],
    private readonly now: () => number = Date.now,
    private readonly gate: HashGate = hashGate,
  ) {
    const credentials = values.map(parseCredential);
    this.#plain = credentials.filter((c) => !c.hashed).map((c) => ({ whole: digest(`${c.user}:${c.secret}`) }));
    this.#hashed = credentials.filter((c) => c.hashed).map((c) => ({ user: digest(c.user), hash: c.secret }));
  }

  get size(): number {
    return this.#plain.length + this.#hashed.length;
  }

  /**
   * The outcome for a header already passed or being checked right now, or
   * null when checking it would be a new attempt (which the caller counts).
   */
  known(header: string): Promise<CheckOutcome> | null {
    const key = digest(header).toString("base64");
    const until = this.#verified.get(key);
    if (until !== undefined) {
      if (until > this.now()) return Promise.resolve(true);
      this.#verified.delete(key);
    }
    return this.#pending.get(key) ?? null;
  }

  /** True when the header names one of the credentials with its password; "busy" when its hash could not be checked now. */
  verify(header: string): Promise<CheckOutcome> {
    const known = this.known(header);
    if (known) return known;
    const key = digest(header).toString("base64");
    const check = this.#check(header).then(
      (ok) => {
        this.#pending.delete(key);
        if (ok) this.#remember(key);
        return ok;
      },
      (err: unknown): CheckOutcome => {
        this.#pending.delete(key);
        return err instanceof HashGateFull ? "busy" : false;
      },
    );
    this.#pending.set(key, check);
    return check;
  }

  async #check(header: string): Promise<boolean> {
    const given = parseBasic(header);
    if (!given) return false;
    const whole = digest(`${given.user}:${given.password}`);
    let ok = false;
    for (const c of this.#plain) ok = timingSafeEqual(c.whole, whole) || ok;
    if (ok || this.#hashed.length === 0) return ok;
    const user = digest(given.user);
    const hash = this.#hashed.find((c) => timingSafeEqual(c.user, user))?.hash;
    if (hash !== undefined) return this.gate.run(() => Bun.password.verify(given.password, hash));
    // An unknown user costs as long as a known one: the time says nothing about which part was wrong.
    this.#dummyHash ??= Bun.password.hash(crypto.randomUUID(), { algorithm: "argon2id" });
    const dummy = await this.#dummyHash;
    await this.gate.run(() => Bun.password.verify(given.password, dummy));
    return false;
  }

  #remember(key: string): void {
    this.#verified.delete(key);
    this.#verified.set(key, this.now() + VERIFIED_CACHE_MS);
    while (this.#verified.size > VERIFIED_CACHE_SIZE) {
      const oldest = this.#verified.keys().next().value;
      if (oldest === undefined) break;
      this.#verified.delete(oldest);
    }
  }
}
