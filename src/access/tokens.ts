/**
 * Viewer tokens: let someone watch without the admin password. Two kinds:
 * static ones (--viewer-token, valid until the server is started without
 * them) and signed links with an expiry,
 *
 *     v1.<expiry, unix seconds>.<stream name or *>.<base64url HMAC-SHA256>
 *
 * where the HMAC covers everything before its dot, keyed with --token-secret
 * (or with random bytes made at start: links then die with a restart).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { STREAM_NAME } from "../stream/name.ts";

/** A link lasts an hour unless asked otherwise, and at most a year. */
export const DEFAULT_TOKEN_TTL_S = 3600;
export const MAX_TOKEN_TTL_S = 365 * 24 * 3600;
/** The `stream` field of a token that opens every stream. */
export const ALL_STREAMS = "*";

export type TokenCheck =
  /** `stream`: the one stream it opens, or null for all. `expires`: unix seconds, or null (a static token). */
  | { readonly ok: true; readonly stream: string | null; readonly expires: number | null }
  | { readonly ok: false; readonly reason: "invalid" }
  | { readonly ok: false; readonly reason: "expired"; readonly expires: number };

export interface SignedToken {
  readonly token: string;
  /** Unix seconds. */
  readonly expires: number;
}

function keyBytes(secret: string | Uint8Array): Uint8Array {
  return typeof secret === "string" ? Buffer.from(secret, "utf8") : secret;
}

function mac(key: Uint8Array, body: string): Buffer {
  return createHmac("sha256", key).update(body, "utf8").digest();
}

/** A signed token for `stream` (null: every stream) that expires at `expires` (unix seconds). */
export function signViewerToken(secret: string | Uint8Array, expires: number, stream: string | null = null): string {
  if (!Number.isSafeInteger(expires) || expires < 0) throw new RangeError(`expires: ${expires} is not a time in unix seconds`);
  if (stream !== null && !STREAM_NAME.test(stream)) throw new RangeError(`stream: ${JSON.stringify(stream)} is not a stream name`);
  const body = `v1.${expires}.${stream ?? ALL_STREAMS}`;
  return `${body}.${mac(keyBytes(secret), body).toString("base64url")}`;
}

/**
 * A signed token valid for `ttl` seconds from `now` (ms, as Date.now()),
 * for `glasscast token` and POST /api/tokens.
 */
export function makeViewerToken(
  secret: string | Uint8Array,
  { ttl = DEFAULT_TOKEN_TTL_S, stream = null, now = Date.now() }: { ttl?: number; stream?: string | null; now?: number } = {},
): SignedToken {
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_S)
    throw new RangeError(`ttl: ${ttl} is not a whole number of seconds from 1 to ${MAX_TOKEN_TTL_S} (a year)`);
  const expires = Math.floor(now / 1000) + ttl;
  return { token: signViewerToken(secret, expires, stream), expires };
}

const SIGNED = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{1,32}|\*)\.([A-Za-z0-9_-]{43})$/;

/** True when `token` has the shape of a signed token (whether its signature is right or not). */
export function looksSigned(token: string): boolean {
  return SIGNED.test(token);
}

/** The tokens a server accepts: its static ones and those signed with its key. */
export class ViewerTokens {
  readonly #key: Uint8Array;
  readonly #static: Buffer[];
  /** True when the key was made at start (no --token-secret): links die with a restart. */
  readonly ephemeral: boolean;

  constructor(
    staticTokens: readonly string[],
    secret: string | null,
    private readonly now: () => number = Date.now,
  ) {
    this.#static = staticTokens.map((t) => createHash("sha256").update(t, "utf8").digest());
    this.#key = secret === null ? randomBytes(32) : keyBytes(secret);
    this.ephemeral = secret === null;
  }

  /** A new signed token of this server. */
  make(ttl: number, stream: string | null): SignedToken {
    return makeViewerToken(this.#key, { ttl, stream, now: this.now() });
  }

  check(token: string): TokenCheck {
    const given = createHash("sha256").update(token, "utf8").digest();
    let known = false;
    for (const t of this.#static) known = timingSafeEqual(t, given) || known;
    if (known) return { ok: true, stream: null, expires: null };
    const m = SIGNED.exec(token);
    if (!m) return { ok: false, reason: "invalid" };
    const body = token.slice(0, token.lastIndexOf("."));
    // Compared as text: two spellings of the same bytes (the last character's spare bits) are not both valid.
    const expected = Buffer.from(mac(this.#key, body).toString("base64url"), "latin1");
    if (!timingSafeEqual(Buffer.from(m[3]!, "latin1"), expected)) return { ok: false, reason: "invalid" };
    const expires = Number(m[1]);
    if (expires * 1000 <= this.now()) return { ok: false, reason: "expired", expires };
    return { ok: true, stream: m[2] === ALL_STREAMS ? null : m[2]!, expires };
  }
}
