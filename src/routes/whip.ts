/**
 * WHIP ingest (RFC 9725), the publishing side of `--source whip:NAME`:
 * `POST /whip/NAME` with an SDP offer (`Content-Type: application/sdp`)
 * answers 201 Created with the SDP answer and the session's Location;
 * `DELETE` on the Location ends the session. No trickle ICE and no ICE
 * restart (the answer carries every candidate): PATCH is not offered.
 * Refusals: 404 for an unknown endpoint or session, 415 for another content
 * type, 400 for a body that is not an SDP offer (or one without H.264 video),
 * 413 for one too large, 409 while the stream already has a publisher.
 * Who may publish is decided before this runs (access/policy.ts).
 */
import { Elysia } from "elysia";
import { IngestBusy, IngestOfferError, type WhipIngest } from "../sources/whip/ingest.ts";
import { jsonError } from "./errors.ts";
import { isMediaType } from "./media-type.ts";
import { clientAddress } from "./mjpeg.ts";
import { BodyError, signallingBody } from "../http/signalling-body.ts";

/** A WHIP endpoint's path (/whip/NAME), not a session's. */
const WHIP_ENDPOINT = /^\/whip\/[^/]+$/;

/** What an OPTIONS answer on `path` adds to its Allow: a WHIP endpoint takes SDP offers (RFC 9725's Accept-Post). */
export function whipOptionsHeaders(path: string): Record<string, string> {
  return WHIP_ENDPOINT.test(path) ? { "accept-post": "application/sdp" } : {};
}

export function whipRoutes(ingests: ReadonlyMap<string, WhipIngest>) {
  const unknown = (name: string) => jsonError(404, `there is no WHIP ingest ${JSON.stringify(name)}; expected one of ${[...ingests.keys()].join(", ")}`);
  const noSession = () => jsonError(404, "no such WHIP session");

  const publish = async (request: Request, name: string, address: string) => {
    const ingest = ingests.get(name);
    if (!ingest) return unknown(name);
    if (!isMediaType(request.headers.get("content-type"), "application/sdp")) return jsonError(415, "a WHIP offer is sent as application/sdp");
    try {
      const sdp = await signallingBody(request);
      if (!sdp.startsWith("v=0")) return jsonError(400, "the body is not an SDP offer");
      const answer = await ingest.publish(sdp, address);
      return new Response(answer.sdp, {
        status: 201,
        headers: { "content-type": "application/sdp", location: `/whip/${name}/session/${answer.id}`, "cache-control": "no-store" },
      });
    } catch (err) {
      if (err instanceof BodyError) return jsonError(err.status, err.message);
      if (err instanceof IngestBusy) return jsonError(409, err.message);
      if (err instanceof IngestOfferError) return jsonError(400, err.message);
      throw err;
    }
  };

  return new Elysia({ name: "glasscast/whip" })
    .post("/whip/:name", ({ request, params, server }) => publish(request, params.name, clientAddress(server, request)), { parse: "none" })
    .delete("/whip/:name/session/:id", ({ params }) => (ingests.get(params.name)?.stop(params.id) ? new Response(null, { status: 200 }) : noSession()))
    .get("/whip/:name/session/:id", ({ params }) => (ingests.get(params.name)?.isLive(params.id) ? new Response(null, { status: 204 }) : noSession()));
}
