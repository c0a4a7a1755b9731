/**
 * What a request asks for, as access rules see it: the health check (always
 * open), the stats (/state, /metrics), the token maker (/api/tokens), a
 * viewing route (the page, its files, a stream's video, snapshots and WebRTC
 * signalling, its HLS files; with the one stream it shows, if any), publishing
 * (a WHIP ingest), or anything else.
 */
import type { RequestTarget } from "../http/request-target.ts";

export type RouteKind =
  | { readonly kind: "health" }
  | { readonly kind: "stats" }
  | { readonly kind: "tokens" }
  /** `stream`: the stream it shows, null when it shows none in particular; `page`: / or /view/NAME. */
  | { readonly kind: "view"; readonly stream: string | null; readonly page: boolean }
  /** POST /offer: the stream is named in its body (or ?stream=), else it is `fallback`. */
  | { readonly kind: "offer"; readonly fallback: string }
  /** A WHIP ingest endpoint or session (/whip/…): publishing into a stream. */
  | { readonly kind: "publish" }
  /** Talk-back (/talkback, /talkback/session/…): speaking on the machine's speaker, for --auth users only. */
  | { readonly kind: "talkback" }
  | { readonly kind: "other" };

/** A stream's addresses, as published (see outputs/published.ts). */
export interface StreamAddresses {
  readonly name: string;
  readonly view: string;
  readonly all: { readonly video: readonly string[]; readonly snapshot: readonly string[] };
}

export const HEALTH_PATH = "/healthz";
export const STATS_PATHS: readonly string[] = ["/state", "/metrics"];
export const TOKENS_PATH = "/api/tokens";
const ANY_STREAM_PATHS = new Set(["/favicon.ico", "/api/streams", "/close_connection"]);
const ANY_STREAM_PREFIXES = ["/static/", "/whep/session/"];

/** Classifies requests for a server's streams (the first one answers the short addresses). */
export function routeKinds(streams: readonly StreamAddresses[]): (target: RequestTarget) => RouteKind {
  const first = streams[0]?.name ?? "";
  const byPath = new Map<string, { stream: string; page: boolean }>();
  const names = new Set(streams.map((s) => s.name));
  streams.forEach((s, i) => {
    for (const path of [...s.all.video, ...s.all.snapshot, `/whep/${s.name}`]) byPath.set(path, { stream: s.name, page: false });
    byPath.set(s.view, { stream: s.name, page: true });
    if (i === 0) for (const path of ["/stream", "/snapshot", "/whep"]) byPath.set(path, { stream: s.name, page: false });
  });

  return ({ path, query }) => {
    if (path === HEALTH_PATH) return { kind: "health" };
    if (STATS_PATHS.includes(path)) return { kind: "stats" };
    if (path === TOKENS_PATH) return { kind: "tokens" };
    if (path === "/") {
      // mjpg-streamer's /?action=stream and /?action=snapshot show the first stream.
      return query.has("action") ? { kind: "view", stream: first, page: false } : { kind: "view", stream: null, page: true };
    }
    if (path === "/offer") return { kind: "offer", fallback: first };
    if (path === "/whip" || path.startsWith("/whip/")) return { kind: "publish" };
    if (path === "/talkback" || path.startsWith("/talkback/")) return { kind: "talkback" };
    const own = byPath.get(path);
    if (own) return { kind: "view", ...own };
    const hls = hlsStream(path, first, names);
    if (hls) return { kind: "view", stream: hls, page: false };
    if (ANY_STREAM_PATHS.has(path) || ANY_STREAM_PREFIXES.some((p) => path.startsWith(p))) return { kind: "view", stream: null, page: false };
    return { kind: "other" };
  };
}

/** The stream an HLS path shows: /hls/FILE the first, /hls/NAME/FILE stream NAME; null for any other path. */
function hlsStream(path: string, first: string, names: ReadonlySet<string>): string | null {
  if (!path.startsWith("/hls/")) return null;
  const rest = path.slice(5).split("/");
  if (rest.length === 1 && rest[0] !== "") return first;
  return rest.length === 2 && names.has(rest[0]!) && rest[1] !== "" ? rest[0]! : null;
}
