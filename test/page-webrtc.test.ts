/**
 * The page over WebRTC, in headless Chromium on a network of the test's own
 * (see helpers/netns.ts): it decodes H.264 from the shared encoder, five tabs
 * at once all decode and closing one leaves the others playing, when
 * WebRTC cannot connect the page falls back to MJPEG by itself and says so,
 * while the server is away a tile keeps its last frame and one label, and a
 * WebGear_RTC theme folder plays over /offer.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, launchChromium } from "./helpers/browser.ts";
import { holdClientNetwork, withClientNetwork, type ClientNetwork } from "./helpers/netns.ts";
import { CLI, startProgram, waitFor, type RunningServer } from "./helpers/server.ts";
import { writeVidgearRtcStyleTheme } from "./helpers/vidgear-theme.ts";

setDefaultTimeout(90_000);

/** Evaluated in the page: frames the first tile's <video> has decoded. */
const FRAMES_DECODED = `(document.querySelector(".gc-tile video.gc-video")?.getVideoPlaybackQuality().totalVideoFrames ?? -1)`;
const OVERLAY = `document.querySelector(".gc-overlay")?.textContent ?? ""`;

function serve(net: ClientNetwork, ...args: string[]): Promise<RunningServer> {
  return startProgram([process.execPath, "run", CLI, "--host", net.serverAddress, "--port", "0", "--width", "640", "--height", "360", ...args]);
}

function libx264Processes(parent: number): number {
  const out = Bun.spawnSync(["pgrep", "-f", "-P", String(parent), "libx264"])
    .stdout.toString()
    .trim();
  return out === "" ? 0 : out.split("\n").length;
}

async function decoding(page: Page): Promise<number> {
  return page.evaluate(FRAMES_DECODED) as Promise<number>;
}

/** Frames the page decoded from now until `count` more were (or 30 s passed: then fewer, and the test's check fails). */
async function advancesBy(page: Page, count: number): Promise<number> {
  const before = await decoding(page);
  const deadline = performance.now() + 30_000;
  let now = before;
  while (now - before < count && performance.now() < deadline) {
    await Bun.sleep(100);
    now = await decoding(page);
  }
  return now - before;
}

describe("WebRTC in Chromium", () => {
  let net: ClientNetwork;
  let browser: Browser;
  let server: RunningServer;
  let done: () => Promise<void>;
  beforeAll(async () => {
    ({ net, release: done } = await holdClientNetwork());
    browser = await launchChromium(net.chromium);
    server = await serve(net, "--webrtc-candidate", net.serverAddress);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await done?.();
  });

  test("the page plays WebRTC: the video decodes, frames keep coming, the overlay says WebRTC", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const opened = performance.now();
    await page.goto(`http://${net.serverAddress}:${server.port}/`);
    await page.waitForFunction(`document.querySelector(".gc-tile video.gc-video")?.videoWidth === 640`, null, { timeout: 15_000 });
    const firstPicture = performance.now() - opened;
    // Frames keep coming: 20 more decoded (under a second at 30 fps; a starved machine may take longer).
    expect(await advancesBy(page, 20)).toBeGreaterThanOrEqual(20);
    await page.waitForFunction(`${OVERLAY}.includes("WebRTC")`, null, { timeout: 5000 });
    console.log(`page open → first WebRTC picture: ${firstPicture.toFixed(0)} ms`);
    await page.screenshot({ path: join(ARTIFACTS, "webrtc.png") });
    await page.close();
  });

  test("five pages at once all decode from ONE encoder; closing one leaves the other four decoding", async () => {
    const pages: Page[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage();
      await page.goto(`http://${net.serverAddress}:${server.port}/`);
      pages.push(page);
    }
    for (const page of pages) await page.waitForFunction(`document.querySelector(".gc-tile video.gc-video")?.videoWidth > 0`, null, { timeout: 20_000 });
    // One encoder serves all five. (An encoder from the previous test that is
    // just exiting may still be listed for a moment; two must never stay.)
    await waitFor(() => libx264Processes(server.proc.pid) === 1, 3000, "exactly one libx264 encoder");
    await pages[0]!.close(); // pagehide: the page closes its own peer
    await waitFor(
      async () => {
        const s = (await (await fetch(`${server.url.replace("127.0.0.1", net.serverAddress)}/api/streams`)).json()) as { streams: { webrtcViewers: number }[] };
        return s.streams[0]!.webrtcViewers === 4;
      },
      10_000,
      "the closed page's peer to go",
    );
    // The other four keep decoding: every one decodes 20 more frames (under a second at 30 fps; a
    // stalled or restarted track never would; a starved machine only takes longer).
    const advanced = await Promise.all(pages.slice(1).map((p) => advancesBy(p, 20)));
    console.log(`frames decoded by the four remaining pages after the fifth closed: ${advanced.join(", ")}`);
    for (const n of advanced) expect(n).toBeGreaterThanOrEqual(20);
    await Promise.all(pages.slice(1).map((p) => p.close()));
  });
});

test("when WebRTC cannot connect and HLS is off, the page falls back to MJPEG by itself within a few seconds, and says so", async () => {
  // The browser's network drops all UDP (a firewall): ICE can never connect, HTTP still works.
  // With HLS on, HLS is the first fallback (test/page-hls.test.ts); here it is off.
  await withClientNetwork(
    async (net) => {
      const browser = await launchChromium(net.chromium);
      const server = await serve(net, "--webrtc-candidate", net.serverAddress, "--no-hls");
      try {
        const page = await browser.newPage();
        const opened = performance.now();
        await page.goto(`http://${net.serverAddress}:${server.port}/`);
        await page.waitForFunction(`document.querySelector(".gc-tile img.gc-video")?.naturalWidth === 640`, null, { timeout: 15_000 });
        const fellBack = performance.now() - opened;
        expect(fellBack).toBeLessThan(10_000);
        await page.waitForFunction(`${OVERLAY}.includes("MJPEG")`, null, { timeout: 5000 });
        expect(await page.evaluate(OVERLAY)).toContain("WebRTC could not connect");
        console.log(`WebRTC unreachable → MJPEG picture after ${fellBack.toFixed(0)} ms`);
        await page.screenshot({ path: join(ARTIFACTS, "webrtc-fallback.png") });
        await page.close();
      } finally {
        await browser.close();
        await server.stop();
      }
    },
    { blockUdp: true },
  );
});

test("while the server is away, a WebRTC tile keeps its last frame dimmed and one label, 'WebRTC · Offline', with no frame rate", async () => {
  await withClientNetwork(async (net) => {
    const browser = await launchChromium(net.chromium);
    const probe = Bun.listen({ hostname: net.serverAddress, port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const start = () =>
      startProgram([
        process.execPath,
        "run",
        CLI,
        "--host",
        net.serverAddress,
        "--port",
        String(port),
        "--width",
        "640",
        "--height",
        "360",
        "--webrtc-candidate",
        net.serverAddress,
      ]);
    let server = await start();
    try {
      const page = await browser.newPage();
      await page.goto(`http://${net.serverAddress}:${port}/`);
      await page.waitForFunction(`document.querySelector(".gc-tile video.gc-video")?.videoWidth === 640`, null, { timeout: 15_000 });
      await page.waitForFunction(`/^640×360 · [\\d.]+ fps · WebRTC$/.test(${OVERLAY})`, null, { timeout: 10_000 });
      await server.stop();
      await page.waitForFunction(`(${OVERLAY}) === "640×360 · WebRTC · Offline"`, null, { timeout: 15_000 });
      // Every retry tries WebRTC, then MJPEG: the overlay does not follow each attempt.
      const seen = new Set<string>();
      for (let i = 0; i < 16; i++) {
        seen.add((await page.evaluate(OVERLAY)) as string);
        await page.waitForTimeout(250);
      }
      expect([...seen]).toEqual(["640×360 · WebRTC · Offline"]);
      const still = (await page.evaluate(`(() => {
        const c = document.querySelector(".gc-still");
        const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let lit = 0;
        for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] > 150) lit++;
        return { size: c.width + "x" + c.height, shown: getComputedStyle(c).display, lit: lit / (px.length / 4) };
      })()`)) as { size: string; shown: string; lit: number };
      expect(still).toMatchObject({ size: "640x360", shown: "block" });
      expect(still.lit).toBeGreaterThan(0.5);
      await page.screenshot({ path: join(ARTIFACTS, "webrtc-offline.png") });
      server = await start();
      await page.waitForFunction(`/^640×360 · ([\\d.]+ fps · )?WebRTC$/.test(${OVERLAY})`, null, { timeout: 30_000 });
      expect(await page.evaluate(`document.querySelector(".gc-tile").classList.contains("gc-tile--stale")`)).toBe(false);
      await page.close();
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});

test("a WebGear_RTC theme folder plays over glasscast's /offer: its own script, its <video>", async () => {
  const dir = mkdtempSync(join(tmpdir(), "glasscast-rtc-theme-"));
  writeVidgearRtcStyleTheme(dir);
  try {
    await withClientNetwork(async (net) => {
      const browser = await launchChromium(net.chromium);
      const server = await serve(net, "--webrtc-candidate", net.serverAddress, "--theme-dir", dir);
      try {
        const page = await browser.newPage();
        await page.goto(`http://${net.serverAddress}:${server.port}/`);
        await page.waitForFunction(`document.getElementById("video")?.videoWidth === 640 || document.body.dataset.error`, null, { timeout: 20_000 });
        expect(await page.evaluate(`document.body.dataset.error ?? null`)).toBeNull();
        expect(await page.evaluate(`document.body.dataset.customJs`)).toBe("ran");
        const frames = `document.getElementById("video").getVideoPlaybackQuality().totalVideoFrames`;
        const a = (await page.evaluate(frames)) as number;
        await page.waitForFunction(`${frames} > ${a + 10}`, null, { timeout: 10_000 });
        await page.screenshot({ path: join(ARTIFACTS, "vidgear-rtc-theme.png") });
        await page.close();
      } finally {
        await browser.close();
        await server.stop();
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
