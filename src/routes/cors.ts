/**
 * Cross-origin use (CORS, as the Fetch standard defines it) of what a player
 * on another site needs: the MJPEG video, the snapshots, /api/streams, HLS
 * (/hls/…), the WebRTC signalling (/offer, /close_connection, /whep, /whep/NAME,
 * /whep/session/ID) and WHIP publishing (/whip/NAME and its sessions,
 * /whip/NAME/session/ID: RFC 9725 has WHIP endpoints answer CORS preflights,
 * and a browser publisher on another site needs them). Nothing else (the
 * page, /state, /metrics, /api/tokens) ever answers another origin.
 *
 * --allow-origin ORIGIN (repeatable) lets that origin's pages read these, and
 * send the visitor's credentials (a browser-remembered login) with them;
 * --allow-origin '*' lets every site read them, never with credentials. A
 * viewer token in the address (?token=) is not a credential in the Fetch
 * sense: it works from any allowed origin, `*` included. With no
 * --allow-origin, no answer carries CORS headers: same origin only.
 *
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) never
 * carries credentials, so the access guard asks `preflight()` before any
 * login. Its answer depends on the path's shape only (/whep/ANYTHING), never
 * on whether that stream or session exists: a preflight tells a stranger
 * nothing that a login would hide.
 */
import { Elysia, type AnyElysia } from "elysia";
import { pathOf, queryOf } from "./errors.ts";
import { routedPath } from "./methods.ts";

/**
 * Request headers a cross-origin player or publisher may send: a WHEP or
 * WHIP client sends Authorization and Content-Type, and If-Match on a
 * session (RFC 9725's ICE restarts; glasscast answers those 405, but a
 * client's request must reach it to learn that).
 */
const ALLOW_HEADERS = "authorization, content-type, if-match";
/** Response headers a cross-origin client may read, besides the always-readable ones (a WHIP client reads Location, ETag and Link). */
const EXPOSE_HEADERS = "location, accept-post, allow, retry-after, www-authenticate, etag, link";
/** Seconds a browser may keep a preflight's answer. */
const MAX_AGE_S = "600";

export interface CorsOptions {
  /** --allow-origin: origins (as browsers send them), or "*". */
  readonly allowOrigin: readonly string[];
  /** The MJPEG stream's base path (--video-endpoint), e.g. "/video". */
  readonly videoBase: string;
  /** WebRTC signalling is served (not --no-webrtc). */
  readonly webrtc: boolean;
  /** HLS is served (/hls/…): a player on another site (hls.js) fetches its playlists, segments and parts. */
  readonly hls?: boolean;
  /** WHIP ingests are served (/whip/NAME): a browser publisher on another site posts its offer there. */
  readonly whip?: boolean;
}

function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("access-control-request-method");
}

export class CorsPolicy {
  readonly #listed: ReadonlySet<string>;
  readonly #anyOrigin: boolean;
  readonly #shapes: readonly { readonly pattern: RegExp; readonly methods: readonly string[]; readonly sdp?: true }[];

  constructor({ allowOrigin, videoBase, webrtc, hls = false, whip = false }: CorsOptions) {
    this.#listed = new Set(allowOrigin.filter((o) => o !== "*"));
    this.#anyOrigin = allowOrigin.includes("*");
    const base = videoBase.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const viewing = ["GET", "HEAD", "OPTIONS"];
    this.#shapes = [
      { pattern: new RegExp(`^(?:${base}(?:/[^/]+)?|/stream|/snapshot|/snapshot\\.jpg|/snapshot/[^/]+\\.jpg|/api/streams)$`), methods: viewing },
      ...(hls ? [{ pattern: /^\/hls\/(?:[^/]+\/)?[^/]+$/, methods: viewing }] : []),
      ...(webrtc
        ? [
            { pattern: /^\/(?:offer|close_connection)$/, methods: ["POST", "OPTIONS"] },
            { pattern: /^\/whep\/session\/[^/]+$/, methods: ["GET", "HEAD", "DELETE", "OPTIONS"] },
            { pattern: /^\/whep(?:\/[^/]+)?$/, methods: ["GET", "HEAD", "POST", "OPTIONS"], sdp: true as const },
          ]
        : []),
      ...(whip
        ? [
            { pattern: /^\/whip\/[^/]+$/, methods: ["POST", "OPTIONS"], sdp: true as const },
            { pattern: /^\/whip\/[^/]+\/session\/[^/]+$/, methods: ["GET", "HEAD", "DELETE", "OPTIONS"] },
          ]
        : []),
    ];
  }

  /** True when some origin is allowed at all. */
  get enabled(): boolean {
    return this.#anyOrigin || this.#listed.size > 0;
  }

  /** The shape `request`'s path has among the routes other origins may use, or undefined. */
  #shapeOf(request: Request) {
    // Read without new URL(): a request with a bad Host header has no absolute url (see request-target.ts).
    const path = routedPath(pathOf(request));
    // mjpg-streamer's /?action=stream and /?action=snapshot (not the page at /).
    if (path === "/") return new URLSearchParams(queryOf(request)).has("action") ? this.#shapes[0] : undefined;
    return this.#shapes.find((s) => s.pattern.test(path));
  }

  /** Access-Control-Allow-* for `origin` (null when it is not allowed). */
  #allow(origin: string | null): Record<string, string> | null {
    if (origin === null) return null;
    if (this.#listed.has(origin)) return { "access-control-allow-origin": origin, "access-control-allow-credentials": "true" };
    return this.#anyOrigin ? { "access-control-allow-origin": "*" } : null;
  }

  /** The headers for an answer to `request` (not a preflight): empty when CORS does not apply. */
  headersFor(request: Request): Record<string, string> {
    if (!this.enabled || isPreflight(request) || !this.#shapeOf(request)) return {};
    const allow = this.#allow(request.headers.get("origin"));
    return { vary: "Origin", ...(allow ? { ...allow, "access-control-expose-headers": EXPOSE_HEADERS } : {}) };
  }

  /**
   * The answer to a CORS preflight from an allowed origin to a route other
   * origins may use; null for anything else (which then goes on as usual:
   * a login is asked for, or OPTIONS answers its Allow without CORS headers).
   */
  preflight(request: Request): Response | null {
    if (!isPreflight(request)) return null;
    const shape = this.#shapeOf(request);
    const allow = shape ? this.#allow(request.headers.get("origin")) : null;
    if (!shape || !allow) return null;
    return new Response(null, {
      status: 204,
      headers: {
        ...allow,
        allow: shape.methods.join(", "),
        "access-control-allow-methods": shape.methods.filter((m) => m !== "OPTIONS").join(", "),
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": MAX_AGE_S,
        vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ...(shape.sdp ? { "accept-post": "application/sdp" } : {}),
      },
    });
  }
}

/**
 * The warning for `--allow-origin '*'` on a server anyone may watch: then any
 * web page that anyone on its network opens can read the pictures (without
 * the option a page elsewhere can show them in an <img>, never read them).
 */
export function anyOriginWarning({
  allowOrigin,
  auth,
  viewerToken,
}: {
  allowOrigin: readonly string[];
  auth: readonly string[];
  viewerToken: readonly string[];
}): string | null {
  if (!allowOrigin.includes("*") || auth.length > 0 || viewerToken.length > 0) return null;
  return "--allow-origin '*' without --auth or --viewer-token: any web page opened by anyone who can reach this server can read its video; list the player's origin instead, or protect the cameras";
}

/**
 * Puts the CORS headers on every answer to an allowed origin: the routes',
 * the errors', and the access guard's refusals (a player can read its 401).
 * Registered before the access guard, whose refusals it must reach.
 */
export function corsHeaders(policy: CorsPolicy): AnyElysia {
  return new Elysia({ name: "glasscast/cors" }).onRequest(({ request, set }) => {
    for (const [name, value] of Object.entries(policy.headersFor(request))) set.headers[name] = value;
  });
}
