/**
 * HLS: `/hls/NAME/index.m3u8` (and `/hls/index.m3u8` for the first stream),
 * the init segment, segments and LL-HLS parts it lists (see
 * outputs/hls/playlist.ts for the names), blocking playlist reloads
 * (`_HLS_msn`, `_HLS_part`) and blocking preload-hinted parts.
 *
 * Caching: init segments, segments and parts never change under their name
 * (`public, max-age=31536000, immutable`; `private` for a request let in by
 * a login or the token cookie, see scope()); a playlist is good for a second
 * (`max-age=1`), a blocking reload's answer (one per `_HLS_msn`/`_HLS_part`)
 * for longer, so that a cache in front answers every player with one
 * request. Segments answer byte ranges (`Range: bytes=…`).
 *
 * A playlist goes gzipped to a client that accepts it (Apple's HLS
 * authoring specification, 10.1, asks for it); the same text is compressed
 * once, whatever the number of players asking for it.
 *
 * Bad requests: a malformed or far-future `_HLS_msn` gets 400, a name that
 * is not one of ours 404, a segment of a past session or one dropped from the
 * list 404; a blocking wait that runs out gets 503 with Retry-After.
 */
import { Elysia } from "elysia";
import { HlsOutput } from "../outputs/hls/hls-output.ts";
import { initName, partName, renderPlaylist, segmentName } from "../outputs/hls/playlist.ts";
import { jsonError } from "./errors.ts";
import { clientAddress } from "./mjpeg.ts";
import { isProblem, requestTarget } from "../http/request-target.ts";
import { tokenFromCookie } from "../access/token-cookie.ts";

const IMMUTABLE = "max-age=31536000, immutable";

/**
 * Who may keep an answer: `public` (a shared cache in front may hand it to
 * every player) unless the request was let in by a login or the token
 * cookie. Those name no secret in the address, so a proxy that kept the
 * answer would hand it to anyone who asks for the same address: RFC 9111
 * (3.5) lets a shared cache reuse an answer to a request with
 * Authorization precisely when it says `public`. `private` keeps it to the
 * player's own cache. A `?token=` address is its own key: public.
 */
function scope(request: Request): "public" | "private" {
  return request.headers.has("authorization") || tokenFromCookie(request.headers.get("cookie")) !== null ? "private" : "public";
}
const PLAYLIST_TYPE = "application/vnd.apple.mpegurl";
/** A file of a stream's HLS: index.m3u8, SESSION.initN.mp4, SESSION.MSN.m4s, SESSION.MSN.PART.m4s. */
const FILE = /^(?:(index\.m3u8)|([0-9a-z]+)\.init(\d{1,9})\.mp4|([0-9a-z]+)\.(\d{1,9})(?:\.(\d{1,6}))?\.m4s)$/;

export interface HlsRouteOptions {
  /** Stream name → its HLS output, in stream order (the first answers /hls/index.m3u8). */
  readonly outputs: ReadonlyMap<string, HlsOutput>;
}

function media(bytes: Uint8Array, type: string, request: Request): Response {
  const headers: Record<string, string> = { "content-type": type, "cache-control": `${scope(request)}, ${IMMUTABLE}`, "accept-ranges": "bytes" };
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.get("range") ?? "");
  if (!range || (range[1] === "" && range[2] === "")) return new Response(bytes, { headers });
  let start: number;
  let end: number;
  if (range[1] === "") {
    start = Math.max(0, bytes.length - Number(range[2]));
    end = bytes.length - 1;
  } else {
    start = Number(range[1]);
    end = range[2] === "" ? bytes.length - 1 : Math.min(Number(range[2]), bytes.length - 1);
  }
  if (start >= bytes.length || end < start) {
    return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${bytes.length}` } });
  }
  return new Response(bytes.subarray(start, end + 1), { status: 206, headers: { ...headers, "content-range": `bytes ${start}-${end}/${bytes.length}` } });
}

/** The last playlist text gzipped, by text: players asking for the same playlist share one compression. */
let gzipped: { text: string; bytes: Uint8Array } | null = null;

/** A playlist's answer: gzipped when the client takes gzip. */
function playlistAnswer(text: string, request: Request, cache: string): Response {
  // Origin too: this header replaces the one the CORS layer sets (routes/cors.ts), and a cache in front must keep
  // an answer per origin (with --allow-origin each carries its own Access-Control-Allow-Origin, or none).
  const headers: Record<string, string> = { "content-type": PLAYLIST_TYPE, "cache-control": cache, vary: "Accept-Encoding, Origin" };
  if (!/\bgzip\b/i.test(request.headers.get("accept-encoding") ?? "")) return new Response(text, { headers });
  if (gzipped?.text !== text) gzipped = { text, bytes: Bun.gzipSync(Buffer.from(text)) };
  return new Response(gzipped.bytes, { headers: { ...headers, "content-encoding": "gzip" } });
}

/** `?token=…` of the request, to carry to every URI of the playlist. */
function tokenQuery(request: Request): string {
  const target = requestTarget(request);
  const token = isProblem(target) ? null : target.query.get("token");
  return token ? `?token=${encodeURIComponent(token)}` : "";
}

/** A decimal that fits the waits below, or NaN. */
function whole(text: string | null): number {
  return text !== null && /^\d{1,9}$/.test(text) ? Number(text) : NaN;
}

export function hlsRoutes({ outputs }: HlsRouteOptions) {
  const first = [...outputs.keys()][0]!;

  const playlist = async (out: HlsOutput, request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const msnText = url.searchParams.get("_HLS_msn");
    const partText = url.searchParams.get("_HLS_part");
    if (partText !== null && msnText === null) return jsonError(400, "_HLS_part needs _HLS_msn");
    const msn = msnText === null ? null : whole(msnText);
    const part = partText === null ? null : whole(partText);
    if (Number.isNaN(msn) || Number.isNaN(part)) return jsonError(400, "_HLS_msn and _HLS_part are whole numbers");
    if (!(await out.firstSegment())) return jsonError(503, "no video yet", { "retry-after": "2" });
    const segmenter = out.segmenter!;
    let cache = `${scope(request)}, max-age=1`;
    if (msn !== null) {
      // The draft: a request more than two segments ahead is an error; the wait is at most three target durations.
      if (msn > HlsOutput.newest(segmenter) + 2) return jsonError(400, `_HLS_msn ${msn} is too far ahead`);
      const ready = await out.waitFor((s) => HlsOutput.has(s, msn, part), 3 * out.targetDurationS * 1000);
      if (!ready || out.segmenter !== segmenter) return jsonError(503, "the segment did not come in time", { "retry-after": "1" });
      cache = `${scope(request)}, max-age=${3 * out.targetDurationS}`;
    }
    out.served.playlists++;
    const text = renderPlaylist(segmenter, {
      session: out.session,
      partTargetS: out.segmenterSettings.partTargetS,
      targetDurationS: out.targetDurationS,
      query: tokenQuery(request),
    });
    return playlistAnswer(text, request, cache);
  };

  const file = async (out: HlsOutput, name: string, request: Request, onFrames: (n: number) => void): Promise<Response> => {
    const m = FILE.exec(name);
    if (!m) return jsonError(404, `no HLS file ${JSON.stringify(name)}`);
    if (m[1]) return playlist(out, request);
    const session = m[2] ?? m[4]!;
    const segmenter = out.segmenter;
    const gone = () => jsonError(404, `${name} is not (or no longer) there`);
    if (!segmenter || session !== out.session) return gone();
    if (m[3] !== undefined) {
      const init = segmenter.inits.get(Number(m[3]));
      if (!init) return gone();
      out.served.inits++;
      return media(init, "video/mp4", request);
    }
    const msn = Number(m[5]);
    const partIndex = m[6] === undefined ? null : Number(m[6]);
    const next = segmenter.nextPart();
    // The part the preload hint names (or a segment being written) is answered when it is there.
    const coming = next !== null && msn === next.msn && (partIndex === null || partIndex === next.part);
    if (coming) await out.waitFor((s) => HlsOutput.has(s, msn, partIndex), (partIndex === null ? 3 * out.targetDurationS : out.targetDurationS) * 1000);
    if (partIndex === null) {
      const segment = HlsOutput.completeSegment(segmenter, msn);
      if (!segment) return coming ? jsonError(503, "the segment did not come in time", { "retry-after": "1" }) : gone();
      out.served.segments++;
      onFrames(segment.frames);
      return media(segment.bytes!, "video/iso.segment", request);
    }
    const part = HlsOutput.part(segmenter, msn, partIndex);
    if (!part) {
      // A segment completed without it (cut early) never gets it: 404, as for any part that is not there.
      const never = HlsOutput.completeSegment(segmenter, msn) !== null;
      return coming && !never ? jsonError(503, "the part did not come in time", { "retry-after": "1" }) : gone();
    }
    out.served.parts++;
    onFrames(part.frames);
    return media(part.bytes, "video/mp4", request);
  };

  const answer = async (name: string, path: string, request: Request, address: string): Promise<Response> => {
    const out = outputs.get(name);
    if (!out) return jsonError(404, `there is no stream ${JSON.stringify(name)}; expected one of ${[...outputs.keys()].join(", ")}`);
    const viewer = out.touch(`${address} ${request.headers.get("user-agent") ?? ""}`, address);
    // A viewer's frames are the pictures in the segments and parts it was sent.
    return file(out, path, request, (n) => {
      for (let i = 0; i < n; i++) viewer.sent();
    });
  };

  return new Elysia({ name: "glasscast/hls" }).get("/hls/*", ({ params, request, server }) => {
    const parts = params["*"].split("/");
    const address = clientAddress(server, request);
    if (parts.length === 1) return answer(first, parts[0]!, request, address);
    if (parts.length === 2) return answer(parts[0]!, parts[1]!, request, address);
    return jsonError(404, "no such HLS address; expected /hls/NAME/index.m3u8");
  });
}

export { initName, partName, segmentName };
