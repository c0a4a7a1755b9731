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
/** Seconds the first tile's video is behind the live edge hls.js announces (its seekable range's end: the newest part). */
const BEHIND_LIVE_EDGE = `(() => { const v = document.querySelector(".gc-tile video.gc-video"); return v && v.seekable.length ? v.seekable.end(v.seekable.length - 1) - v.currentTime : 99; })()`;
const OVERLAY = `(document.querySelector(".gc-overlay")?.textContent ?? "")`;

let net: ClientNetwork;
let browser: Browser;
let server: RunningServer;
let done: () => void;

beforeAll(async () => {
  const ready = Promise.withResolvers<void>();
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  void withClientNetwork(
    async (n) => {
      net = n;
      ready.resolve();
      await finished;
    },
    { blockUdp: true },
  ).catch(ready.reject);
  await ready.promise;
  browser = await launchChromium(net.chromium);
  server = await startProgram([
    process.execPath,
    "run",
    CLI,
    "--host",
    net.serverAddress,
    "--port",
    "0",
    "--source",
    "testsrc",
    "--width",
    "640",
    "--height",
    "360",
    "--fps",
    "15",
    "--h264-keyint",
    "15",
    "--webrtc-candidate",
    net.serverAddress,
  ]);
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
    page.on("response", (r) => {
      if (r.status() >= 400) console.log("HTTP", r.status(), r.url());
    });
    page.on("console", (m) => console.log("console", m.text()));
    await page.goto(`http://${net.serverAddress}:${server.port}/`);
    await page.waitForFunction(`document.querySelector(".gc-tile video.gc-video")?.videoWidth === 640`, null, { timeout: 45_000, polling: 250 });
    await decodes(page, 30, 20_000);
    console.log(
      "overlay:",
      await page.evaluate(OVERLAY),
      await page.evaluate(
        `JSON.stringify({ round: window.glasscastPlayer.tiles[0].round, broken: [...window.glasscastPlayer.tiles[0].broken], starts: window.glasscastPlayer.tiles[0].starts })`,
      ),
    );
    await page.waitForFunction(`${OVERLAY}.includes("HLS") && ${OVERLAY}.includes("WebRTC could not connect")`, null, { timeout: 10_000 });
    expect(await page.evaluate(`document.querySelector(".gc-tile img.gc-video") === null`)).toBe(true); // not MJPEG
    expect(await page.evaluate(`typeof window.Hls`)).toBe("function");
    const origin = `http://${net.serverAddress}:${server.port}/`;
    expect(requests).toContain(`${origin}static/vendor/hls.light.min.js`);
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith("data:") && !u.startsWith("blob:"))).toEqual([]);
    expect(requests.some((u) => /\/hls\/main\/index\.m3u8\?_HLS_msn=\d+/.test(u))).toBe(true); // low-latency mode: blocking reloads
    // Low latency: the picture shown stays within ~1.5 s of the newest part the playlist lists (hls.js
    // holds back PART-HOLD-BACK, three parts), once it has caught up after the start.
    await page.waitForFunction(`${BEHIND_LIVE_EDGE} < 1.5`, null, { timeout: 30_000, polling: 250 });
    console.log(`HLS in Chromium: ${((await page.evaluate(BEHIND_LIVE_EDGE)) as number).toFixed(2)} s behind the playlist's live edge`);
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
