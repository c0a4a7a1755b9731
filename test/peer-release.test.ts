/**
 * WebRTC peers that come and go leave no object behind on the server: after
 * werift viewers connect, get pictures and leave (half saying goodbye, half
 * going silent as a crashed tab does), every server-side Peer and its werift
 * RTCPeerConnection can be collected. A regression check for the soak's slow
 * RSS growth (scripts/bench/leak-churn.ts measures the same by object counts).
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { createGlasscast } from "../src/server.ts";
import { connectViewer, waitForFrames, type TestViewer } from "./helpers/webrtc-client.ts";
import { waitFor } from "./helpers/server.ts";

setDefaultTimeout(60_000);

test("closed peers, polite or silent, are all collectable", async () => {
  const gc = await createGlasscast({
    host: "127.0.0.1",
    port: 0,
    rtspPort: 0,
    logLevel: "error",
    webrtcCandidate: ["127.0.0.1"],
    source: ["testsrc"],
    width: 160,
    height: 120,
    fps: 15,
    alwaysOn: true,
  });
  const { port } = gc.listen();
  const sessions = gc.webrtc!;
  const refs: WeakRef<object>[] = [];
  try {
    for (let round = 0; round < 2; round++) {
      const viewers: TestViewer[] = [];
      for (let i = 0; i < 3; i++) viewers.push(await connectViewer(`http://127.0.0.1:${port}`));
      for (const v of viewers) {
        expect(await waitForFrames(v, 1)).toBeGreaterThan(0);
        const peer = sessions.get(v.id!)!;
        refs.push(new WeakRef(peer), new WeakRef(peer.pc));
      }
      await Promise.all(viewers.map((v, i) => (i % 2 === 0 ? v.close() : v.vanish())));
    }
    // A silent peer is dropped when its RTCP stops (5 s).
    await waitFor(() => sessions.size === 0, 20_000, "every peer to be dropped");
    await waitFor(
      async () => {
        await Bun.sleep(50);
        Bun.gc(true);
        return refs.every((r) => r.deref() === undefined);
      },
      15_000,
      "the closed peers to be collected",
    );
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
  } finally {
    await gc.close();
  }
});
