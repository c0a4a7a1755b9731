/**
 * A WHEP player on another origin, in a real Chromium (on a network of the
 * test's own, see helpers/netns.ts): a small page served by a second HTTP
 * server on another port POSTs its SDP offer to glasscast's /whep?token=…,
 * plays the video, and ends its session with DELETE on the Location it read.
 * From an origin glasscast was not told to allow, the browser blocks the same
 * player at its preflight: no session is ever made.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./helpers/browser.ts";
import { holdClientNetwork, type ClientNetwork } from "./helpers/netns.ts";
import { CLI, startProgram, waitFor, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(90_000);

const TOKEN = "cross-origin-viewer-token-0123";

/** The player: plain WHEP (an SDP offer with every candidate, the answer, DELETE at the end). */
const PLAYER_PAGE = `<!doctype html>
<meta charset="utf-8"><title>WHEP player</title>
<video autoplay muted playsinline></video>
<script>
  window.frames_ = 0;
  const video = document.querySelector("video");
  const count = () => { window.frames_++; video.requestVideoFrameCallback(count); };
  video.requestVideoFrameCallback(count);
  window.play = async (endpoint) => {
    const pc = new RTCPeerConnection();
    window.pc_ = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (e) => { video.srcObject = e.streams[0] || new MediaStream([e.track]); video.play().catch(() => {}); };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") resolve(); });
      setTimeout(resolve, 2000);
    });
    let res;
    try {
      res = await fetch(endpoint, { method: "POST", headers: { "content-type": "application/sdp" }, body: pc.localDescription.sdp });
    } catch (err) {
      pc.close();
      return { blocked: String(err) };
    }
    const location = res.headers.get("location");
    if (res.status === 201) await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
    return { status: res.status, location, session: location && new URL(location, endpoint).href };
  };
  window.stop = async (session) => {
    const res = await fetch(session, { method: "DELETE" });
    window.pc_.close();
    return res.status;
  };
</script>`;

interface Played {
  readonly blocked?: string;
  readonly status?: number;
  readonly location?: string | null;
  readonly session?: string | null;
}

describe("a WHEP player served by another origin", () => {
  let net: ClientNetwork;
  let done: () => Promise<void>;
  let browser: Browser;
  let allowedPlayer: ReturnType<typeof Bun.serve>;
  let otherPlayer: ReturnType<typeof Bun.serve>;
  let glasscast: RunningServer;
  let whep: string;

  beforeAll(async () => {
    ({ net, release: done } = await holdClientNetwork());
    const servePlayer = () =>
      Bun.serve({
        hostname: net.serverAddress,
        port: 0,
        fetch: () => new Response(PLAYER_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } }),
      });
    allowedPlayer = servePlayer();
    otherPlayer = servePlayer();
    glasscast = await startProgram([
      process.execPath,
      "run",
      CLI,
      "--host",
      net.serverAddress,
      "--port",
      "0",
      "--width",
      "640",
      "--height",
      "360",
      "--webrtc-candidate",
      net.serverAddress,
      "--viewer-token",
      TOKEN,
      "--allow-origin",
      `http://${net.serverAddress}:${allowedPlayer.port}`,
    ]);
    whep = `http://${net.serverAddress}:${glasscast.port}/whep?token=${TOKEN}`;
    browser = await launchChromium(net.chromium);
  });
  afterAll(async () => {
    await browser?.close();
    await glasscast?.stop();
    allowedPlayer?.stop(true);
    otherPlayer?.stop(true);
    await done?.();
  });

  const webrtcViewers = async () => {
    const res = await fetch(`http://${net.serverAddress}:${glasscast.port}/api/streams?token=${TOKEN}`);
    return ((await res.json()) as { streams: { webrtcViewers: number }[] }).streams[0]!.webrtcViewers;
  };

  async function open(player: ReturnType<typeof Bun.serve>): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`http://${net.serverAddress}:${player.port}/`);
    return page;
  }

  test("from the allowed origin, with ?token=: 201, a readable Location, the video decodes, DELETE ends the session", async () => {
    const page = await open(allowedPlayer);
    try {
      const played = (await page.evaluate(`play(${JSON.stringify(whep)})`)) as Played;
      expect(played.blocked).toBeUndefined();
      expect(played.status).toBe(201);
      // Readable only because glasscast exposes it (Access-Control-Expose-Headers); it carries the token for DELETE.
      expect(played.location).toMatch(new RegExp(`^/whep/session/[0-9a-f-]{36}\\?token=${TOKEN}$`));
      await page.waitForFunction("frames_ > 0", null, { timeout: 15_000 });
      const before = (await page.evaluate("frames_")) as number;
      await page.waitForFunction(`frames_ >= ${before + 20}`, null, { timeout: 15_000 });
      const quality = (await page.evaluate(`document.querySelector("video").getVideoPlaybackQuality().totalVideoFrames`)) as number;
      expect(quality).toBeGreaterThan(20);
      expect(await page.evaluate(`document.querySelector("video").videoWidth`)).toBe(640);
      expect(await webrtcViewers()).toBe(1);
      // DELETE is not a simple method: the browser preflights it, and glasscast lets it through.
      expect(await page.evaluate(`stop(${JSON.stringify(played.session)})`)).toBe(200);
      await waitFor(async () => (await webrtcViewers()) === 0, 10_000, "the session to end");
    } finally {
      await page.close();
    }
  });

  test("from an origin not allowed, the browser blocks the player at its preflight: no session is made", async () => {
    const page = await open(otherPlayer);
    try {
      const played = (await page.evaluate(`play(${JSON.stringify(whep)})`)) as Played;
      expect(played.blocked).toContain("TypeError");
      expect(played.status).toBeUndefined();
      expect(await webrtcViewers()).toBe(0);
      expect(await page.evaluate("frames_")).toBe(0);
    } finally {
      await page.close();
    }
  });
});
