/**
 * A WHIP publisher on another origin, in a real Chromium: a page served by a
 * second HTTP server (another port, so another origin) publishes a canvas
 * as H.264 to glasscast's /whip/cam with an ingest token (Authorization:
 * Bearer, so the browser preflights the POST), reads the Location of its
 * session (exposed), and ends it with DELETE (preflighted too). From an
 * origin glasscast was not told to allow, the browser stops the same page at
 * its preflight: nothing is published. (How the same publish goes from
 * glasscast's own page: test/ingest.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { launchChromium } from "./helpers/browser.ts";
import { startServer, waitFor, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(90_000);

const INGEST = "cross-origin-ingest-token-0123";

/** The publisher: a changing colour canvas as H.264, every candidate in the offer, Bearer token; DELETE at the end. */
const PUBLISHER_PAGE = `<!doctype html>
<meta charset="utf-8"><title>WHIP publisher</title>
<script>
  window.publish = async (endpoint, token) => {
    const canvas = document.createElement("canvas");
    canvas.width = 320;
    canvas.height = 240;
    const ctx = canvas.getContext("2d");
    let n = 0;
    setInterval(() => { ctx.fillStyle = "hsl(" + ((n++ * 10) % 360) + ",100%,50%)"; ctx.fillRect(0, 0, 320, 240); }, 50);
    const pc = new RTCPeerConnection();
    window.pc_ = pc;
    const transceiver = pc.addTransceiver(canvas.captureStream(20).getVideoTracks()[0], { direction: "sendonly" });
    transceiver.setCodecPreferences(RTCRtpSender.getCapabilities("video").codecs.filter((c) => c.mimeType === "video/H264"));
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === "complete") resolve(); };
      setTimeout(resolve, 3000);
    });
    let res;
    try {
      res = await fetch(endpoint, { method: "POST", headers: { "content-type": "application/sdp", authorization: "Bearer " + token }, body: pc.localDescription.sdp });
    } catch (err) {
      pc.close();
      return { blocked: String(err) };
    }
    if (res.status === 201) await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
    const location = res.headers.get("location");
    return { status: res.status, location, session: location && new URL(location, endpoint).href };
  };
  window.unpublish = async (session, token) => {
    const res = await fetch(session, { method: "DELETE", headers: { authorization: "Bearer " + token } });
    window.pc_.close();
    return res.status;
  };
</script>`;

interface Published {
  readonly blocked?: string;
  readonly status?: number;
  readonly location?: string | null;
  readonly session?: string | null;
}

describe("a WHIP publisher served by another origin", () => {
  let browser: Browser;
  let allowedPage: ReturnType<typeof Bun.serve>;
  let otherPage: ReturnType<typeof Bun.serve>;
  let glasscast: RunningServer;
  let endpoint: string;

  beforeAll(async () => {
    const serve = () =>
      Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: () => new Response(PUBLISHER_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } }),
      });
    allowedPage = serve();
    otherPage = serve();
    glasscast = await startServer([
      "--source",
      "cam=whip:cam",
      "--webrtc-candidate",
      "127.0.0.1",
      "--ingest-token",
      INGEST,
      "--allow-origin",
      `http://127.0.0.1:${allowedPage.port}`,
    ]);
    endpoint = `${glasscast.url}/whip/cam`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await glasscast?.stop();
    allowedPage?.stop(true);
    otherPage?.stop(true);
  });

  const ingest = async () => ((await (await fetch(`${glasscast.url}/state`)).json()) as StatsSnapshot).streams[0]!;

  async function open(server: ReturnType<typeof Bun.serve>): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/`);
    return page;
  }

  test("from the allowed origin: 201, a readable Location, the pictures arrive, DELETE ends the session", async () => {
    const page = await open(allowedPage);
    try {
      const published = (await page.evaluate(`publish(${JSON.stringify(endpoint)}, ${JSON.stringify(INGEST)})`)) as Published;
      expect(published.blocked).toBeUndefined();
      expect(published.status).toBe(201);
      expect(published.location).toMatch(/^\/whip\/cam\/session\/[0-9a-f-]{36}$/);
      await waitFor(async () => (await ingest()).framesCaptured >= 20, 30_000, "20 frames from the cross-origin publisher");
      const live = await ingest();
      expect([live.width, live.height]).toEqual([320, 240]);
      expect(live.ingest).toMatchObject({ state: "live", publisher: "127.0.0.1" });
      // DELETE is not a simple method, and the request has Authorization: preflighted, and let through.
      expect(await page.evaluate(`unpublish(${JSON.stringify(published.session)}, ${JSON.stringify(INGEST)})`)).toBe(200);
      await waitFor(async () => (await ingest()).ingest?.state === "waiting", 10_000, "the session to end");
    } finally {
      await page.close();
    }
  });

  test("from an origin not allowed, the browser stops the publisher at its preflight: nothing is published", async () => {
    const sessions = (await ingest()).ingest!.sessions;
    const page = await open(otherPage);
    try {
      const published = (await page.evaluate(`publish(${JSON.stringify(endpoint)}, ${JSON.stringify(INGEST)})`)) as Published;
      expect(published.blocked).toContain("TypeError");
      expect(published.status).toBeUndefined();
      expect((await ingest()).ingest).toMatchObject({ state: "waiting", sessions });
    } finally {
      await page.close();
    }
  });
});
