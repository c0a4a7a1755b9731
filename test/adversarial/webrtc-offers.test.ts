/**
 * A broken SDP offer is answered 400 in glasscast's words: werift's own
 * error ("undefined is not an object (evaluating …)") names its internals
 * and goes to the debug log only. In process: the route and the peer are
 * what is tested.
 */
import { describe, expect, test } from "bun:test";
import { bodyOf, expectNoLeak, inProcess } from "./helpers.ts";

/** Offers that pass the body checks (they start with v=0) but that werift cannot read. */
const BROKEN = ["v=0\r\n", "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "v=0\r\nm=audio\r\nm=video x y z\r\na=fingerprint:\r\n"];

/** What glasscast says of an offer it cannot use (src/outputs/webrtc/peer.ts, routes/webrtc.ts). */
const WORDS_OF_OURS = ["the offer's SDP could not be read (expected a complete SDP offer", "the offer has no video this server can send"];

describe("broken offers", () => {
  test("are refused with 400 and a message of ours, never werift's", async () => {
    const gc = await inProcess({});
    try {
      for (const sdp of BROKEN) {
        for (const [path, init] of [
          ["/offer", { method: "POST", body: JSON.stringify({ sdp, type: "offer" }) }],
          ["/whep", { method: "POST", body: sdp, headers: { "content-type": "application/sdp" } }],
        ] as const) {
          const res = await gc.ask(path, init);
          const body = await bodyOf(res);
          expect(res.status).toBe(400);
          expectNoLeak(body);
          expect(body).not.toMatch(/undefined|evaluating|is not an object|werift|TypeError/);
          expect(WORDS_OF_OURS.some((w) => body.includes(w))).toBe(true);
        }
      }
      // A refused offer is no viewer: none joined, none is counted.
      const metrics = await (await gc.ask("/metrics")).text();
      expect(metrics).toMatch(/^glasscast_viewers_joined_total\{[^}]*transport="webrtc"[^}]*\} 0$/m);
      expect(metrics).not.toMatch(/^glasscast_viewers_joined_total\{[^}]*transport="webrtc"[^}]*\} [1-9]/m);
    } finally {
      await gc.close();
    }
  });
});

describe("broken offers to a WHIP ingest", () => {
  test("are refused with 400 in glasscast's words, never werift's", async () => {
    const gc = await inProcess({ host: "127.0.0.1", source: ["cam=whip:cam"] });
    try {
      for (const sdp of [
        ...BROKEN.slice(1),
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n",
      ]) {
        const res = await gc.ask("/whip/cam", { method: "POST", body: sdp, headers: { "content-type": "application/sdp" } });
        const body = await bodyOf(res);
        expect({ status: res.status, body }).toMatchObject({ status: 400 });
        expectNoLeak(body);
        expect(body).not.toMatch(/undefined|evaluating|is not an object|werift|TypeError/i);
      }
    } finally {
      await gc.close();
    }
  });
});
