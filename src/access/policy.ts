/**
 * Who may do what (--auth, --viewer-token, --token-secret, --metrics-auth),
 * decided once per request before any route runs:
 *
 * - nothing given: everything is open;
 * - --auth: every route needs HTTP Basic with one of those users, except
 *   /healthz; viewing routes also take a viewer token, stats routes also a
 *   --metrics-auth user, POST /api/tokens only an --auth user;
 * - --viewer-token without --auth: viewing needs a token;
 * - --metrics-auth: /state and /metrics need one of those users (or an --auth one);
 * - publishing (WHIP ingest, /whip/…): with --auth or --ingest-token, an
 *   --auth login or an ingest token (Bearer); a viewer token never (403);
 *   with only viewer tokens, nobody may publish (403); else open.
 *
 * Failed logins count per client; past the limit the client gets 429 without
 * its credentials being checked; past the bound of password checks waiting
 * (hash-gate.ts) a login gets 503, unchecked and uncounted. Refusals never
 * say which part was wrong. The path, query and offer body are read through
 * the same parse as the routes' (routes/request-target.ts,
 * routes/signalling-body.ts): what two parsers could read differently is a
 * 400 before any rule is looked at.
 */
import { isProblem, requestTarget, type RequestTarget } from "../http/request-target.ts";
import { BodyError, offerStream } from "../http/signalling-body.ts";
import { createHash, timingSafeEqual } from "node:crypto";
import { CredentialList, parseBasic } from "./credentials.ts";
import { clientKey, LoginLimiter } from "./rate-limit.ts";
import { routeKinds, type RouteKind, type StreamAddresses } from "./route-kind.ts";
import { limitToStream, markLogin } from "./scope.ts";
import { clearTokenCookie, tokenCookie, tokenFromCookie } from "./token-cookie.ts";
import { looksSigned, ViewerTokens } from "./tokens.ts";

export interface AccessOptions {
  readonly auth: readonly string[];
  readonly viewerToken: readonly string[];
  readonly tokenSecret: string | null;
  readonly metricsAuth: readonly string[];
  /** Bearer tokens that may publish to WHIP ingests (--ingest-token). */
  readonly ingestToken?: readonly string[];
  /** Served over HTTPS: the token cookie is marked Secure. */
  readonly tls: boolean;
}

/** What the guard does with a request. */
export type Verdict =
  | { readonly pass: true; readonly setCookie?: string }
  | { readonly pass: false; readonly status: 400 | 401 | 403 | 429 | 503; readonly detail: string; readonly headers: Readonly<Record<string, string>> };

/** What may open a route: Basic with one of `basic`, and/or a viewer token (`tokens`: any, or only one for all streams). */
interface Rule {
  readonly basic: CredentialList | null;
  /** "ingest": only an --ingest-token (publishing). */
  readonly tokens: "none" | "any" | "all-streams" | "ingest";
}

export const BASIC_CHALLENGE = 'Basic realm="glasscast", charset="UTF-8"';
const BEARER_CHALLENGE = 'Bearer realm="glasscast"';
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="glasscast", error="invalid_token"';

type Given =
  | { readonly type: "basic"; readonly header: string }
  | { readonly type: "token"; readonly token: string; readonly from: "header" | "query" | "cookie" };

/** The credentials a request carries: its Authorization header first, then ?token=, then the cookie. */
function credentialsOf(request: Request, target: RequestTarget): Given | null {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    if (parseBasic(authorization)) return { type: "basic", header: authorization };
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (bearer) return { type: "token", token: bearer[1]!, from: "header" };
  }
  const query = target.query.get("token");
  if (query) return { type: "token", token: query, from: "query" };
  const cookie = tokenFromCookie(request.headers.get("cookie"));
  return cookie ? { type: "token", token: cookie, from: "cookie" } : null;
}

export class AccessControl {
  /** --auth users (null without --auth). */
  readonly admins: CredentialList | null;
  /** Who opens /state and /metrics: --metrics-auth and --auth users (null: open). */
  readonly stats: CredentialList | null;
  readonly tokens: ViewerTokens;
  readonly limiter: LoginLimiter;
  /** The page and the video need credentials. */
  readonly viewingProtected: boolean;
  readonly #kindOf: (target: RequestTarget) => RouteKind;
  readonly #ingestTokens: readonly Buffer[];
  readonly #tls: boolean;
  readonly #now: () => number;

  constructor(options: AccessOptions, streams: readonly StreamAddresses[], now: () => number = Date.now) {
    this.admins = options.auth.length > 0 ? new CredentialList(options.auth, now) : null;
    const statsUsers = [...options.metricsAuth, ...options.auth];
    this.stats = options.metricsAuth.length === 0 ? this.admins : new CredentialList(statsUsers, now);
    this.tokens = new ViewerTokens(options.viewerToken, options.tokenSecret, now);
    this.limiter = new LoginLimiter({ now });
    this.viewingProtected = this.admins !== null || options.viewerToken.length > 0;
    this.#kindOf = routeKinds(streams);
    this.#ingestTokens = (options.ingestToken ?? []).map((t) => createHash("sha256").update(t).digest());
    this.#tls = options.tls;
    this.#now = now;
  }

  /** The token is an --ingest-token (compared as SHA-256 digests, in constant time). */
  #isIngestToken(token: string): boolean {
    const digest = createHash("sha256").update(token).digest();
    let ok = false;
    for (const t of this.#ingestTokens) ok = timingSafeEqual(t, digest) || ok;
    return ok;
  }

  #ruleFor(route: RouteKind): Rule | null | "no-admin" | "no-publisher" {
    if (route.kind === "publish") {
      if (this.admins || this.#ingestTokens.length > 0) return { basic: this.admins, tokens: "ingest" };
      return this.viewingProtected ? "no-publisher" : null;
    }
    switch (route.kind) {
      case "health":
        return null;
      case "stats":
        return this.stats ? { basic: this.stats, tokens: "none" } : null;
      case "tokens":
      case "talkback":
        return this.admins ? { basic: this.admins, tokens: "none" } : "no-admin";
      case "view":
      case "offer":
        return this.viewingProtected ? { basic: this.admins, tokens: "any" } : null;
      case "other":
        if (this.admins) return { basic: this.admins, tokens: "none" };
        return this.viewingProtected ? { basic: null, tokens: "all-streams" } : null;
    }
  }

  /** Decides on a request from `address` (the client's IP). */
  async check(request: Request, address: string | null | undefined): Promise<Verdict> {
    // One parse of the path and query, shared with the route that answers (see routes/request-target.ts).
    const target = requestTarget(request);
    if (isProblem(target)) return refuse(target.status, target.detail, {});
    const route = this.#kindOf(target);
    const rule = this.#ruleFor(route);
    if (rule === null) return { pass: true };
    if (rule === "no-publisher") {
      return refuse(403, "publishing needs an --auth login or an --ingest-token, and this server has neither; a viewer token does not publish", {});
    }
    if (rule === "no-admin") {
      return refuse(403, "making viewer links needs an --auth user: start glasscast with --auth USER:PASS", {});
    }
    const challenge = rule.basic ? BASIC_CHALLENGE : BEARER_CHALLENGE;
    const client = clientKey(address);
    const wait = this.limiter.retryAfterMs(client);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      return refuse(429, `too many failed logins from this address; try again in ${seconds} s`, { "retry-after": String(seconds) });
    }
    const given = credentialsOf(request, target);
    if (!given) {
      const needs =
        rule.tokens === "ingest"
          ? rule.basic
            ? "a login or an ingest token (Authorization: Bearer …)"
            : "an ingest token (Authorization: Bearer …)"
          : !rule.basic
            ? "a viewer token (?token=… or Authorization: Bearer …)"
            : rule.tokens === "none"
              ? "a login"
              : "a login or a viewer token (?token=…)";
      return refuse(401, `this needs ${needs}`, { "www-authenticate": challenge });
    }

    if (given.type === "basic") {
      if (!rule.basic)
        return refuse(401, rule.tokens === "ingest" ? "this needs an ingest token (Authorization: Bearer …)" : "this needs a viewer token (?token=…)", {
          "www-authenticate": challenge,
        });
      const known = rule.basic.known(given.header);
      let ok: boolean | "busy";
      if (known) {
        ok = await known;
      } else {
        // Counted before the (slow) check, so that many tries at once cannot all run.
        this.limiter.fail(client);
        ok = await rule.basic.verify(given.header);
        if (ok !== false) this.limiter.refund(client);
      }
      // Too many password checks wait already (access/hash-gate.ts): this one was not made, and is not counted.
      if (ok === "busy") return refuse(503, "too many logins are being checked; try again in a moment", { "retry-after": "1" });
      if (ok && rule.basic === this.admins) markLogin(request);
      return ok ? { pass: true } : refuse(401, "wrong user name or password", { "www-authenticate": challenge });
    }

    const forget: Record<string, string> = given.from === "cookie" ? { "set-cookie": clearTokenCookie(this.#tls) } : {};
    if (rule.tokens === "ingest") {
      if (given.from === "header" && this.#isIngestToken(given.token)) return { pass: true };
      if (this.tokens.check(given.token).ok) return refuse(403, "a viewer token does not let you publish; use an ingest token or a login", {});
      this.limiter.fail(client);
      return refuse(401, "the token is not valid", { "www-authenticate": INVALID_TOKEN_CHALLENGE });
    }
    if (rule.tokens === "none") {
      return refuse(401, "a viewer token does not open this; log in", { "www-authenticate": challenge });
    }
    const result = this.tokens.check(given.token);
    if (!result.ok && result.reason === "invalid") {
      // Guessing a signed token means guessing an HMAC-SHA256: hopeless, and not counted, so that a
      // page still holding a link of the server's previous start (random key) does not lock its address out.
      if (!looksSigned(given.token)) this.limiter.fail(client);
      return refuse(401, "the token is not valid", { "www-authenticate": INVALID_TOKEN_CHALLENGE, ...forget });
    }
    if (!result.ok) {
      const when = new Date(result.expires * 1000).toISOString();
      return refuse(401, `the token expired at ${when}; ask for a new link`, { "www-authenticate": INVALID_TOKEN_CHALLENGE, ...forget });
    }
    if (result.stream !== null && !(await opensFor(result.stream, route, rule, request, target))) {
      return refuse(403, `this token opens stream ${result.stream} only`, {});
    }
    if (result.stream !== null) limitToStream(request, result.stream);
    if (given.from === "query" && route.kind === "view" && route.page) {
      const maxAgeS = result.expires === null ? null : result.expires - this.#now() / 1000;
      return { pass: true, setCookie: tokenCookie(given.token, { secure: this.#tls, maxAgeS }) };
    }
    return { pass: true };
  }
}

/** True when a token for `stream` alone opens `route` (which shows that stream, or none in particular). */
async function opensFor(stream: string, route: RouteKind, rule: Rule, request: Request, target: RequestTarget): Promise<boolean> {
  if (rule.tokens === "all-streams") return false;
  if (route.kind === "view") return route.stream === null || route.stream === stream;
  if (route.kind !== "offer") return false;
  const fromQuery = target.query.get("stream");
  try {
    // The same read and parse of the body as the route's (routes/signalling-body.ts).
    return ((await offerStream(request, fromQuery)) ?? route.fallback) === stream;
  } catch (err) {
    // A body the route refuses (400, 413) opens nothing; the stream it would have named still decides who hears why.
    if (err instanceof BodyError) return (fromQuery ?? route.fallback) === stream;
    throw err;
  }
}

function refuse(status: 400 | 401 | 403 | 429 | 503, detail: string, headers: Record<string, string>): Verdict {
  return { pass: false, status, detail, headers };
}
