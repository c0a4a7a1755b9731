/**
 * Talk-back signalling, WHIP-like: `POST /talkback` with the page's SDP offer
 * (its microphone, sendonly audio) answers 201 with the SDP answer and the
 * session's Location; `DELETE` on it ends the session (the button let go).
 * 409 while someone else talks. Open to --auth users only (access/policy.ts).
 */
import { Elysia } from "elysia";
import { Busy, type TalkBack } from "../outputs/talkback/talkback.ts";
import { OfferError } from "../outputs/webrtc/peer.ts";
import { jsonError } from "./errors.ts";
import { isMediaType } from "./media-type.ts";
import { BodyError, signallingBody as readBody } from "../http/signalling-body.ts";

export function talkbackRoutes(talkback: TalkBack) {
  return new Elysia({ name: "glasscast/talkback" })
    .post(
      "/talkback",
      async ({ request }) => {
        try {
          if (!isMediaType(request.headers.get("content-type"), "application/sdp")) throw new BodyError(415, "a talk-back offer is sent as application/sdp");
          const sdp = await readBody(request);
          if (!sdp.startsWith("v=0")) throw new BodyError(400, "the body is not an SDP offer");
          const answer = await talkback.open(sdp);
          return new Response(answer.sdp, {
            status: 201,
            headers: { "content-type": "application/sdp", location: `/talkback/session/${answer.id}`, "cache-control": "no-store" },
          });
        } catch (err) {
          if (err instanceof BodyError) return jsonError(err.status, err.message);
          if (err instanceof Busy) return jsonError(409, err.message, { "retry-after": "2" });
          if (err instanceof OfferError) return jsonError(400, err.message);
          throw err;
        }
      },
      { parse: "none" },
    )
    .delete("/talkback/session/:id", async ({ params }) =>
      (await talkback.close(params.id)) ? new Response(null, { status: 200 }) : jsonError(404, "no such talk-back session"),
    );
}
