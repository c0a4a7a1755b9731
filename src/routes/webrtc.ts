/**
 * WebRTC signalling: vidgear's `POST /offer` (JSON in, JSON answer out, plus
 * the peer's id) and `POST /close_connection` (closes the caller's peer only),
 * and WHEP (draft-ietf-wish-whep; RFC 9725 is its sibling WHIP):
 * `POST /whep[/NAME]` with an SDP offer answers 201 with the SDP answer and
 * the session's Location; `DELETE` on it ends the session. `GET`/`HEAD` on an
 * endpoint answer 200 with `Content-Type: application/sdp` and no body (the
 * draft's discovery), on a session 204 while it lives. No trickle ICE and no
 * ICE restart (the answer carries every candidate), so no PATCH and no ETag.
 * Bad input gets a 4xx with a JSON `detail`; nothing here can stop the server.
 */
import { Elysia } from "elysia";
import type { AudioFeed } from "../stream/audio-feed.ts";
import type { H264Feed } from "../stream/h264-feed.ts";
import { OfferError } from "../outputs/webrtc/peer.ts";
import { TooManyPeers, type WebRtcSessions } from "../outputs/webrtc/sessions.ts";
import type { Audience } from "../stream/audience.ts";
import { clientKey } from "../access/rate-limit.ts";
import { clientAddress } from "./mjpeg.ts";
import { jsonError } from "./errors.ts";
import { isProblem, requestTarget } from "../http/request-target.ts";
import { BodyError, jsonOffer, offerStream, signallingBody as readBody } from "../http/signalling-body.ts";
import { isMediaType } from "./media-type.ts";

/** A WHEP endpoint's path (/whep, /whep/NAME), not a session's. */
const WHEP_ENDPOINT = /^\/whep(?:\/[^/]+)?$/;

/** What an OPTIONS answer on `path` adds to its Allow: a WHEP endpoint takes SDP offers (the WHEP draft's Accept-Post). */
export function whepOptionsHeaders(path: string): Record<string, string> {
  return WHEP_ENDPOINT.test(path) ? { "accept-post": "application/sdp" } : {};
}

/** The session's address; with the viewer token the offer came with in its address, so that DELETE on it is let in too. */
function sessionLocation(id: string, request: Request): string {
  const target = requestTarget(request);
  const token = isProblem(target) ? undefined : target.query.get("token");
  return `/whep/session/${id}${token ? `?token=${encodeURIComponent(token)}` : ""}`;
}

export { MAX_SIGNALLING_BODY } from "../http/signalling-body.ts";

export interface WebRtcRouteOptions {
  readonly sessions: WebRtcSessions;
  /** Each stream's audience, which its WebRTC viewers join. */
  readonly audiences?: ReadonlyMap<string, Audience>;
  /** Stream name → its H.264 feed, in stream order (the first is the default). */
  readonly feeds: ReadonlyMap<string, H264Feed>;
  /** Stream name → its sound, for the streams that have it (--audio). */
  readonly audio?: ReadonlyMap<string, AudioFeed>;
}

function failure(err: unknown): Response {
  // A body that did not arrive in time: the connection goes too (its sender would keep it).
  if (err instanceof BodyError) return jsonError(err.status, err.message, err.status === 408 ? { connection: "close" } : {});
  if (err instanceof TooManyPeers) return jsonError(503, err.message, { "retry-after": "5" });
  if (err instanceof OfferError) return jsonError(400, err.message);
  throw err;
}

export function webrtcRoutes({ sessions, feeds, audiences, audio }: WebRtcRouteOptions) {
  const first = [...feeds.keys()][0]!;
  const feedOf = (name: string | undefined) => {
    const feed = feeds.get(name ?? first);
    if (!feed) throw new BodyError(404, `there is no stream ${JSON.stringify(name)}; expected one of ${[...feeds.keys()].join(", ")}`);
    return feed;
  };

  const open = (name: string | undefined, sdp: string, address: string) => {
    const feed = feedOf(name);
    // Unconnected offers are counted per client: an IPv4 address, or an IPv6 /64 (one machine owns a whole /64).
    const stream = feed.stream.name;
    return sessions.create(feed, sdp, audiences?.get(stream) ?? null, address, clientKey(address), audio?.get(stream) ?? null);
  };

  const offer = async (request: Request, address: string) => {
    try {
      // The same parse of the query and the body as the access check's (see request-target.ts).
      const target = requestTarget(request);
      if (isProblem(target)) throw new BodyError(target.status, target.detail);
      const { sdp } = await jsonOffer(request);
      const stream = await offerStream(request, target.query.get("stream"));
      const answer = await open(stream ?? undefined, sdp, address);
      return Response.json({ sdp: answer.sdp, type: "answer", id: answer.id }, { headers: { "cache-control": "no-store" } });
    } catch (err) {
      return failure(err);
    }
  };

  const whep = async (request: Request, name: string | undefined, address: string) => {
    try {
      if (!isMediaType(request.headers.get("content-type"), "application/sdp")) {
        throw new BodyError(415, "a WHEP offer is sent as application/sdp");
      }
      const sdp = await readBody(request);
      if (!sdp.startsWith("v=0")) throw new BodyError(400, "the body is not an SDP offer");
      const answer = await open(name, sdp, address);
      return new Response(answer.sdp, {
        status: 201,
        headers: { "content-type": "application/sdp", location: sessionLocation(answer.id, request), "cache-control": "no-store" },
      });
    } catch (err) {
      return failure(err);
    }
  };

  const whepEndpoint = (name: string | undefined) => {
    try {
      feedOf(name);
    } catch (err) {
      return failure(err);
    }
    return new Response(null, { headers: { "content-type": "application/sdp", "content-length": "0", "cache-control": "no-store" } });
  };
  const live = (id: string) => sessions.get(id)?.closed === false;
  const noSession = () => jsonError(404, "no such WHEP session");

  return (
    new Elysia({ name: "glasscast/webrtc" })
      .post("/offer", ({ request, server }) => offer(request, clientAddress(server, request)), { parse: "none" })
      .post(
        "/close_connection",
        async ({ request }) => {
          // Closes the caller's own peer, named by the id /offer gave it. vidgear's page
          // posts "0" or "1" here, which names no peer: then nothing else is touched.
          let id = "";
          try {
            const text = (await readBody(request)).trim();
            id = text.startsWith("{") ? String((JSON.parse(text) as { id?: unknown }).id ?? "") : text;
          } catch (err) {
            if (err instanceof BodyError) return failure(err);
          }
          if (id.length > 10) await sessions.close(id);
          return new Response("OK", { headers: { "content-type": "text/plain" } });
        },
        { parse: "none" },
      )
      .post("/whep", ({ request, server }) => whep(request, undefined, clientAddress(server, request)), { parse: "none" })
      .post("/whep/:name", ({ request, params, server }) => whep(request, params.name, clientAddress(server, request)), { parse: "none" })
      // The WHEP draft: GET on an endpoint answers 2xx without content, and HEAD (which Elysia answers
      // from GET) says application/sdp, so that a player can tell a WHEP address from others.
      .get("/whep", () => whepEndpoint(undefined))
      .get("/whep/:name", ({ params }) => whepEndpoint(params.name))
      .get("/whep/session/:id", ({ params }) => (live(params.id) ? new Response(null, { status: 204 }) : noSession()))
      // A session already closed (by DELETE, /close_connection, or by itself when its viewer left
      // or ICE failed) answers 404, as one that never was; 200 only when this DELETE closed it.
      .delete("/whep/session/:id", async ({ params }) =>
        live(params.id) && (await sessions.close(params.id)) ? new Response(null, { status: 200 }) : noSession(),
      )
  );
}
