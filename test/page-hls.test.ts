/**
 * The page's HLS fallback in headless Chromium, on a network of the test's
 * own where the browser's UDP goes nowhere (helpers/netns.ts blockUdp), so
 * WebRTC cannot connect: the page goes WebRTC → HLS (not MJPEG), plays the
 * stream through the hls.js embedded in glasscast (loaded from the server
 * itself, nothing from another origin), its <video> decodes frames, and the
 * overlay says HLS and why. `?transport=` forces one transport.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, launchChromium } from "./helpers/browser.ts";
import { withClientNetwork, type ClientNetwork } from "./helpers/netns.ts";
import { CLI, startProgram, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(120_000);

const FRAMES_DECODED = `(document.querySelector(".gc-tile video.gc-video")?.getVideoPlaybackQuality().totalVideoFrames ?? -1)`;
const OVERLAY = `(document.querySelector(".gc-overlay")?.textContent ?? "")`;

let net: ClientNetwork;
let browser: Browser;
let server: RunningServer;
let done: () => void;

beforeAll(async () => {
  const ready = Promise.withResolvers<void>();
  const finished = new Promise<void>((resolve) => { done = resolve; });
  void withClientNetwork(async (n) => { net = n; ready.resolve(); await finished; }, { blockUdp: true }).catch(ready.reject);
  await ready.promise;
  browser = await launchChromium(net.chromium);
  server = await startProgram([process.execPath, "run", CLI, "--host", net.serverAddress, "--port", "0", "--source", "testsrc",
    "--width", "640", "--height", "360", "--fps", "15", "--webrtc-keyint", "15", "--webrtc-candidate", net.serverAddress]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  done?.();
});

/** Waits until the page's video has decoded `more` frames past what it had (bounded by `ms`). */
async function decodes(page: Page, more: number, ms: number): Promise<void> {
  const start = (await page.evaluate(FRAMES_DECODED)) as number;
  await page.waitForFunction(`${FRAMES_DECODED} >= ${Math.max(0, start) + more}`, null, { timeout: ms, polling: 200 });
}

describe("the page's HLS", () => {
  test("WebRTC cannot connect: the page plays HLS through the embedded hls.js, and says so", async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("response", (r) => { if (r.status() >= 400) console.log("HTTP", r.status(), r.url()); });
    page.on("console", (m) => console.log("console", m.text()));
    await page.goto(`http://${net.serverAddress}:${server.port}/`);
    await page.waitForFunction(`document.querySelector(".gc-tile video.gc-video")?.videoWidth === 640`, null, { timeout: 45_000, polling: 250 });
    await decodes(page, 30, 20_000);
    console.log("overlay:", await page.evaluate(OVERLAY), await page.evaluate(`JSON.stringify({ round: window.glasscastPlayer.tiles[0].round, broken: [...window.glasscastPlayer.tiles[0].broken], starts: window.glasscastPlayer.tiles[0].starts })`));
    await page.waitForFunction(`${OVERLAY}.includes("HLS") && ${OVERLAY}.includes("WebRTC could not connect")`, null, { timeout: 10_000 });
    expect(await page.evaluate(`document.querySelector(".gc-tile img.gc-video") === null`)).toBe(true); // not MJPEG
    expect(await page.evaluate(`typeof window.Hls`)).toBe("function");
    const origin = `http://${net.serverAddress}:${server.port}/`;
    expect(requests).toContain(`${origin}static/vendor/hls.light.min.js`);
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith("data:") && !u.startsWith("blob:"))).toEqual([]);
    expect(requests.some((u) => /\/hls\/main\/index\.m3u8\?_HLS_msn=\d+/.test(u))).toBe(true); // low-latency mode: blocking reloads
    await page.screenshot({ path: join(ARTIFACTS, "hls.png") });
    await page.close();
  });

  test("?transport=hls plays HLS straight away; ?transport=mjpeg shows MJPEG", async () => {
    const page = await browser.newPage();
    await page.goto(`http://${net.serverAddress}:${server.port}/?transport=hls`);
    await decodes(page, 20, 30_000);
    await page.waitForFunction(`${OVERLAY}.includes("HLS") && !${OVERLAY}.includes("WebRTC")`, null, { timeout: 10_000 });
    await page.goto(`http://${net.serverAddress}:${server.port}/?transport=mjpeg`);
    await page.waitForFunction(`document.querySelector(".gc-tile img.gc-video")?.naturalWidth === 640`, null, { timeout: 20_000 });
    await page.waitForFunction(`${OVERLAY}.includes("MJPEG")`, null, { timeout: 10_000 });
    expect(await page.evaluate(`document.querySelector(".gc-tile video.gc-video") === null`)).toBe(true);
    await page.close();
  });

  test("the embedded hls.js is served by glasscast", async () => {
    const res = await fetch(`http://${net.serverAddress}:${server.port}/static/vendor/hls.light.min.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("javascript");
    const text = await res.text();
    expect(text.length).toBeGreaterThan(100_000);
    expect(text).toContain("lowLatencyMode");
  });
});
