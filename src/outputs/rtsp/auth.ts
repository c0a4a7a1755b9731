/**
 * Who may watch over RTSP: the same people as over HTTP (see
 * ../../access/policy.ts). With --auth, a request needs one of those users,
 * by Basic or by Digest (RFC 2617, MD5: many NVRs and cameras' clients speak
 * nothing else), or a viewer token in the URL (rtsp://host:8554/NAME?token=…);
 * with --viewer-token alone, a token. A token for one stream opens that
 * stream only. Failed logins count in the HTTP server's LoginLimiter, so an
 * address locked out over HTTP is locked out here too, and the other way round.
 *
 * Digest needs the password itself (the server hashes user:realm:password):
 * users given as `--auth USER:PASS` can log in both ways; users given with an
 * argon2/bcrypt hash only with Basic. Digest is offered (first, so clients
 * prefer it) when at least one user has a plain password.
 *
 * Nonces are not stored: a nonce is its issue time and an HMAC of it under a
 * key made at start, valid for NONCE_TTL_S; an older one gets 401 stale=TRUE
 * and the client answers the new nonce without asking anyone for a password.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { parseCredential, type CredentialList } from "../../access/credentials.ts";
import { clientKey, type LoginLimiter } from "../../access/rate-limit.ts";
import type { ViewerTokens } from "../../access/tokens.ts";

export const REALM = "glasscast";
/** How long a Digest nonce is accepted. */
export const NONCE_TTL_S = 12 * 3600;

export interface RtspAccessSettings {
  /** --auth users (null without --auth): checks Basic, plain and hashed. */
  readonly admins: CredentialList | null;
  /** The --auth values, for Digest (only the plain ones are usable). */
  readonly auth: readonly string[];
  readonly tokens: ViewerTokens;
  readonly limiter: LoginLimiter;
  /** Viewing needs credentials (--auth or --viewer-token given). */
  readonly protected: boolean;
  readonly now?: () => number;
}

export type AuthVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401 | 403 | 429 | 503; readonly headers: Record<string, string | string[]>; readonly reason: string };

const md5 = (s: string) => createHash("md5").update(s, "utf8").digest("hex");

/** The fields of a `Digest k=v, k="v"` header, or null. */
export function parseDigest(header: string): Map<string, string> | null {
  const m = /^Digest\s+(.*)$/is.exec(header.trim());
  if (!m) return null;
  const fields = new Map<string, string>();
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/g;
  for (const f of m[1]!.matchAll(re)) fields.set(f[1]!.toLowerCase(), (f[2] ?? f[3] ?? "").replace(/\\(.)/g, "$1"));
  return fields;
}

export class RtspAccess {
  /** user → MD5(user:realm:password), for the users with a plain password. */
  readonly #ha1 = new Map<string, string>();
  readonly #nonceKey = randomBytes(32);
  readonly #now: () => number;

  constructor(private readonly s: RtspAccessSettings) {
    this.#now = s.now ?? Date.now;
    for (const c of s.auth.map(parseCredential)) {
      if (!c.hashed && !this.#ha1.has(c.user)) this.#ha1.set(c.user, md5(`${c.user}:${REALM}:${c.secret}`));
    }
  }

  /** Digest is offered: some --auth user has a plain password. */
  get digest(): boolean { return this.#ha1.size > 0; }

  #nonce(): string {
    const issued = Math.floor(this.#now() / 1000).toString(16);
    return `${issued}${createHmac("sha256", this.#nonceKey).update(issued).digest("hex").slice(0, 32)}`;
  }

  /** "fresh", "stale" (signed by us, too old) or "bad". */
  #nonceState(nonce: string): "fresh" | "stale" | "bad" {
    const m = /^([0-9a-f]{1,12})([0-9a-f]{32})$/.exec(nonce);
    if (!m) return "bad";
    const expected = Buffer.from(createHmac("sha256", this.#nonceKey).update(m[1]!).digest("hex").slice(0, 32));
    if (!timingSafeEqual(expected, Buffer.from(m[2]!))) return "bad";
    return this.#now() / 1000 - parseInt(m[1]!, 16) > NONCE_TTL_S ? "stale" : "fresh";
  }

  challenges(stale = false): Record<string, string[]> {
    if (!this.s.admins) return { "WWW-Authenticate": [`Bearer realm="${REALM}"`] };
    const list: string[] = [];
    if (this.digest) list.push(`Digest realm="${REALM}", nonce="${this.#nonce()}", algorithm=MD5${stale ? ", stale=TRUE" : ""}`);
    list.push(`Basic realm="${REALM}"`);
    return { "WWW-Authenticate": list };
  }

  /**
   * May this request (method, its URI, its Authorization header, the token in
   * its URL) from `address` watch `stream`?
   */
  async check(o: { method: string; authorization: string | null; token: string | null; stream: string; address: string }): Promise<AuthVerdict> {
    if (!this.s.protected) return { ok: true };
    const client = clientKey(o.address);
    const wait = this.s.limiter.retryAfterMs(client);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      return { ok: false, status: 429, headers: { "Retry-After": String(seconds) }, reason: `too many failed logins; retry in ${seconds} s` };
    }
    const refuse = (reason: string, stale = false): AuthVerdict => ({ ok: false, status: 401, headers: this.challenges(stale), reason });
    const auth = o.authorization;
    if (auth && /^Digest\s/i.test(auth) && this.s.admins) {
      const f = parseDigest(auth);
      const user = f?.get("username");
      const nonce = f?.get("nonce") ?? "";
      const state = this.#nonceState(nonce);
      if (!f || user === undefined || state === "bad") {
        this.s.limiter.fail(client);
        return refuse("a Digest answer to a nonce this server did not give");
      }
      if (state === "stale") return refuse("the Digest nonce is too old", true);
      const ha1 = this.#ha1.get(user) ?? md5(`${user}:${REALM}:${randomBytes(8).toString("hex")}`);
      const ha2 = md5(`${o.method}:${f.get("uri") ?? ""}`);
      const qop = f.get("qop");
      const expected = qop
        ? md5(`${ha1}:${nonce}:${f.get("nc") ?? ""}:${f.get("cnonce") ?? ""}:${qop}:${ha2}`)
        : md5(`${ha1}:${nonce}:${ha2}`);
      const given = (f.get("response") ?? "").toLowerCase();
      const ok = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected)) && this.#ha1.has(user);
      if (ok) return { ok: true };
      this.s.limiter.fail(client);
      return refuse("wrong user name or password");
    }
    if (auth && /^Basic\s/i.test(auth) && this.s.admins) {
      const known = this.s.admins.known(auth);
      // Only `true` lets in: a check that could not be made (a busy password-hash gate) is not a pass.
      let outcome: unknown;
      if (known) {
        outcome = await known;
      } else {
        this.s.limiter.fail(client); // counted before the (slow) check, refunded when it passes or was not made
        outcome = await this.s.admins.verify(auth);
        if (outcome !== false) this.s.limiter.refund(client);
      }
      if (outcome === "busy") return { ok: false, status: 503, headers: { "Retry-After": "1" }, reason: "too many logins are being checked" };
      return outcome === true ? { ok: true } : refuse("wrong user name or password");
    }
    if (o.token) {
      const result = this.s.tokens.check(o.token);
      if (!result.ok) {
        if (result.reason === "invalid" && !/^v1\./.test(o.token)) this.s.limiter.fail(client);
        return refuse(result.reason === "expired" ? "the token expired" : "the token is not valid");
      }
      if (result.stream !== null && result.stream !== o.stream) {
        return { ok: false, status: 403, headers: {}, reason: `this token opens stream ${result.stream} only` };
      }
      return { ok: true };
    }
    return refuse("this needs a login or a viewer token (?token=…)");
  }
}
