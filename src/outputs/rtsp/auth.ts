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
 * Publishing (ANNOUNCE, for `rtsp-push:` streams) is let in as WHIP ingest
 * is (access/policy.ts): an --auth login or an --ingest-token, never a
 * viewer token (403). RTSP clients cannot send a Bearer token, so an ingest
 * token is also the password of a Basic or Digest login, under any user
 * name (`rtsp://publisher:TOKEN@host:8554/NAME`). With neither option given
 * publishing is open (startup allows that only on a loopback --host); with
 * only viewer tokens nobody publishes (403).
 *
 * Nonces are not stored: a nonce is its issue time and an HMAC of it under a
 * key made at start, valid for NONCE_TTL_S; an older one gets 401 stale=TRUE
 * and the client answers the new nonce without asking anyone for a password.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { parseBasic, parseCredential, type CredentialList } from "../../access/credentials.ts";
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
  /** --ingest-token values: they publish (as a password, or Bearer). */
  readonly ingestTokens?: readonly string[];
  readonly now?: () => number;
}

export type AuthVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401 | 403 | 429 | 503; readonly headers: Record<string, string | string[]>; readonly reason: string };

const md5 = (s: string) => createHash("md5").update(s, "utf8").digest("hex");
const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest();

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
  /** SHA-256 of each ingest token, compared in constant time. */
  readonly #ingest: readonly Buffer[];

  constructor(private readonly s: RtspAccessSettings) {
    this.#now = s.now ?? Date.now;
    this.#ingest = (s.ingestTokens ?? []).map(sha256);
    for (const c of s.auth.map(parseCredential)) {
      if (!c.hashed && !this.#ha1.has(c.user)) this.#ha1.set(c.user, md5(`${c.user}:${REALM}:${c.secret}`));
    }
  }

  /** Digest is offered: some --auth user has a plain password. */
  get digest(): boolean {
    return this.#ha1.size > 0;
  }

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

  challenges(stale = false, publish = false): Record<string, string[]> {
    if (!this.s.admins && !publish) return { "WWW-Authenticate": [`Bearer realm="${REALM}"`] };
    const list: string[] = [];
    if (this.digest || (publish && this.#ingest.length > 0))
      list.push(`Digest realm="${REALM}", nonce="${this.#nonce()}", algorithm=MD5${stale ? ", stale=TRUE" : ""}`);
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
    const locked = this.#lockedOut(client);
    if (locked) return locked;
    const refuse = (reason: string, stale = false): AuthVerdict => ({ ok: false, status: 401, headers: this.challenges(stale), reason });
    const auth = o.authorization;
    if (auth && /^Digest\s/i.test(auth) && this.s.admins) return this.#digest(auth, o.method, client, () => [], refuse);
    if (auth && /^Basic\s/i.test(auth) && this.s.admins) return this.#basic(auth, client, refuse);
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

  /** May this request (ANNOUNCE) from `address` publish? (See the top of this file.) */
  async checkPublish(o: { method: string; authorization: string | null; token: string | null; address: string }): Promise<AuthVerdict> {
    const credentials = this.s.admins !== null || this.#ingest.length > 0;
    if (!credentials) {
      if (!this.s.protected) return { ok: true };
      return {
        ok: false,
        status: 403,
        headers: {},
        reason: "publishing needs an --auth login or an --ingest-token, and this server has neither; a viewer token does not publish",
      };
    }
    const client = clientKey(o.address);
    const locked = this.#lockedOut(client);
    if (locked) return locked;
    const refuse = (reason: string, stale = false): AuthVerdict => ({ ok: false, status: 401, headers: this.challenges(stale, true), reason });
    const auth = o.authorization;
    if (auth && /^Digest\s/i.test(auth)) {
      return this.#digest(auth, o.method, client, (user) => (this.s.ingestTokens ?? []).map((t) => md5(`${user}:${REALM}:${t}`)), refuse);
    }
    if (auth && /^Basic\s/i.test(auth)) {
      const given = parseBasic(auth);
      if (given && this.#isIngestToken(given.password)) return { ok: true };
      if (this.s.admins) return this.#basic(auth, client, refuse);
      this.s.limiter.fail(client);
      return refuse("wrong ingest token");
    }
    if (auth && /^Bearer\s/i.test(auth)) {
      if (this.#isIngestToken(auth.replace(/^Bearer\s+/i, "").trim())) return { ok: true };
      this.s.limiter.fail(client);
      return refuse("wrong ingest token");
    }
    if (o.token) {
      if (this.s.tokens.check(o.token).ok)
        return { ok: false, status: 403, headers: {}, reason: "a viewer token does not let you publish; use an ingest token or a login" };
      if (!/^v1\./.test(o.token)) this.s.limiter.fail(client);
      return refuse("the token is not valid");
    }
    return refuse("publishing needs a login or an ingest token (as the password)");
  }

  #isIngestToken(given: string): boolean {
    const digest = sha256(given);
    let ok = false;
    for (const t of this.#ingest) ok = timingSafeEqual(t, digest) || ok;
    return ok;
  }

  #lockedOut(client: string): AuthVerdict | null {
    const wait = this.s.limiter.retryAfterMs(client);
    if (wait <= 0) return null;
    const seconds = Math.ceil(wait / 1000);
    return { ok: false, status: 429, headers: { "Retry-After": String(seconds) }, reason: `too many failed logins; retry in ${seconds} s` };
  }

  /** A Digest answer: right for an --auth user with a plain password, or for one of `more(user)` (HA1 values). */
  #digest(
    auth: string,
    method: string,
    client: string,
    more: (user: string) => string[],
    refuse: (reason: string, stale?: boolean) => AuthVerdict,
  ): AuthVerdict {
    const f = parseDigest(auth);
    const user = f?.get("username");
    const nonce = f?.get("nonce") ?? "";
    const state = this.#nonceState(nonce);
    if (!f || user === undefined || state === "bad") {
      this.s.limiter.fail(client);
      return refuse("a Digest answer to a nonce this server did not give");
    }
    if (state === "stale") return refuse("the Digest nonce is too old", true);
    const ha2 = md5(`${method}:${f.get("uri") ?? ""}`);
    const qop = f.get("qop");
    const given = Buffer.from((f.get("response") ?? "").toLowerCase());
    const known = this.#ha1.get(user);
    // An unknown user is checked against a random password, so the time says nothing about which part was wrong.
    const candidates = [known ?? md5(`${user}:${REALM}:${randomBytes(8).toString("hex")}`), ...more(user)];
    let ok = false;
    candidates.forEach((ha1, i) => {
      const expected = Buffer.from(qop ? md5(`${ha1}:${nonce}:${f.get("nc") ?? ""}:${f.get("cnonce") ?? ""}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`));
      const match = given.length === expected.length && timingSafeEqual(given, expected);
      ok = (match && (i > 0 || known !== undefined)) || ok;
    });
    if (ok) return { ok: true };
    this.s.limiter.fail(client);
    return refuse("wrong user name or password");
  }

  async #basic(auth: string, client: string, refuse: (reason: string) => AuthVerdict): Promise<AuthVerdict> {
    const admins = this.s.admins!;
    const known = admins.known(auth);
    // Only `true` lets in: a check that could not be made (a busy password-hash gate) is not a pass.
    let outcome: unknown;
    if (known) {
      outcome = await known;
    } else {
      this.s.limiter.fail(client); // counted before the (slow) check, refunded when it passes or was not made
      outcome = await admins.verify(auth);
      if (outcome !== false) this.s.limiter.refund(client);
    }
    if (outcome === "busy") return { ok: false, status: 503, headers: { "Retry-After": "1" }, reason: "too many logins are being checked" };
    return outcome === true ? { ok: true } : refuse("wrong user name or password");
  }
}
