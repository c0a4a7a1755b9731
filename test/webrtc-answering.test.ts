/**
 * The time an offer takes to answer is the server's: a peer let go while its
 * offer is being answered (the server shutting down, or closing it) is a 503
 * "try again", never a 500 with werift's words; and the connect deadline runs
 * from the answer, so a starved machine that answers slowly still connects.
 * (An emulated arm64 system under two CPU hogs took over 10 s to answer, and
 * every offer came back 500.)
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { TooManyPeers } from "../src/outputs/webrtc/sessions.ts";
import { createGlasscast } from "../src/server.ts";
import { viewerOffer } from "./helpers/webrtc-client.ts";

setDefaultTimeout(60_000);

test("a peer let go while its offer is being answered is a 503 to try again, not a 500", async () => {
  const gc = await createGlasscast({
    host: "127.0.0.1",
    port: 0,
    rtspPort: 0,
    logLevel: "error",
    webrtcCandidate: ["127.0.0.1"],
    width: 160,
    height: 120,
    fps: 5,
  });
  const client = await viewerOffer();
  try {
    const sessions = gc.webrtc!;
    const feed = gc.streams[0]!.h264!;
    // create() runs up to its first wait inside the answer; closeAll() then lets go of the peer mid-answer.
    const answering = sessions.create(feed, client.sdp);
    expect(sessions.size).toBe(1);
    await sessions.closeAll();
    const err = await answering.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TooManyPeers);
    expect((err as Error).message).toBe("the server let go of this offer before it was answered; try again");
    expect(sessions.size).toBe(0);
  } finally {
    await client.close();
    await gc.close();
  }
});
