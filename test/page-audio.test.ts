/**
 * The page with sound, in headless Chromium on a network of the test's own
 * (helpers/netns.ts), the stream's "microphone" being the fake ffmpeg's ALSA
 * tone: the sound arrives muted (browsers' autoplay rules), the tile's
 * button unmutes it (in full screen too), Chromium's own getStats says it
 * decodes sound with energy, and the level meter moves. A kiosk with
 * --kiosk-sound starts unmuted; a stream without sound (the second tile)
 * shows no button.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./helpers/browser.ts";
import { holdClientNetwork, type ClientNetwork } from "./helpers/netns.ts";
import { CLI, ROOT, startProgram, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(240_000); // each wait below ends as soon as it holds; their deadlines (30 s) are for a starved machine

const FAKE_FFMPEG = join(ROOT, "test", "fakes", "ffmpeg");
const TILE = `.gc-tile[data-stream="door"]`;
const VIDEO = `document.querySelector('${TILE} video.gc-video')`;
const SOUND = `${TILE} .gc-sound`;
function serve(net: ClientNetwork, ...args: string[]): Promise<RunningServer> {
  return startProgram(
    [
      process.execPath,
      "run",
      CLI,
      "--host",
      net.serverAddress,
      "--port",
      "0",
      "--rtsp-port",
      "0",
      "--source",
      "door=testsrc",
      "--source",
      "yard=testsrc",
      "--width",
      "320",
      "--height",
      "240",
      "--fps",
      "15",
      "--ffmpeg",
      FAKE_FFMPEG,
      "--webrtc-candidate",
      net.serverAddress,
      ...args,
    ],
    { FAKE_MIC_HZ: "440" },
  );
}

/** Every RTCPeerConnection the page makes, kept where the test can ask it for its stats. */
const KEEP_PEERS = `(() => {
  const Original = window.RTCPeerConnection;
  window.__gcPeers = [];
  window.RTCPeerConnection = function (...args) { const pc = new Original(...args); window.__gcPeers.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Original.prototype;
})()`;

/** What Chromium says about the sound it received and decoded (inbound-rtp, kind audio), from the page's last peer with sound. */
async function inboundAudio(page: Page): Promise<{ energy: number; samples: number; level: number } | null> {
  return page.evaluate(`(async () => {
    const pc = window.__gcPeers.filter((p) => p.getReceivers().some((r) => r.track.kind === "audio")).at(-1);
    if (!pc) return null;
    let found = null;
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") found = { energy: s.totalAudioEnergy ?? 0, samples: s.totalSamplesReceived ?? 0, level: s.audioLevel ?? 0 };
    });
    return found;
  })()`);
}

describe("sound on the page (Chromium)", () => {
  let net: ClientNetwork;
  let browser: Browser;
  let server: RunningServer;
  let done: () => Promise<void>;
  beforeAll(async () => {
    ({ net, release: done } = await holdClientNetwork());
    browser = await launchChromium(net.chromium);
    server = await serve(net, "--audio", "door=hw:1,0", "--kiosk-sound");
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await done?.();
  });

  test("muted at first; the tile's button unmutes it; getStats: sound decoded with energy; the meter moves", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.addInitScript(KEEP_PEERS);
    // Sound comes over WebRTC only: on a starved machine ICE may miss the page's 4 s and the page would
    // rightly fall back to a transport without sound, so this page plays WebRTC alone (retrying it).
    await page.goto(`http://${net.serverAddress}:${server.port}/?transport=webrtc`);
    await page.waitForFunction(`${VIDEO}?.videoWidth === 320`, null, { timeout: 30_000 });
    await page.waitForFunction(`!document.querySelector('${SOUND}').hidden`, null, { timeout: 30_000 });
    expect(await page.evaluate(`${VIDEO}.muted`)).toBe(true);
    expect(await page.getAttribute(SOUND, "aria-pressed")).toBe("false");
    // The stream without --audio: its tile asks for no sound and shows no button.
    await page.waitForFunction(`document.querySelector('.gc-tile[data-stream="yard"] video.gc-video')?.videoWidth === 320`, null, { timeout: 30_000 });
    expect(await page.evaluate(`document.querySelector('.gc-tile[data-stream="yard"] .gc-sound').hidden`)).toBe(true);
    await page.click(SOUND);
    expect(await page.evaluate(`${VIDEO}.muted`)).toBe(false);
    expect(await page.getAttribute(SOUND, "aria-pressed")).toBe("true");
    // Clicking the button is not a click on the picture: no full screen.
    expect(await page.evaluate(`document.fullscreenElement === null`)).toBe(true);
    // Chromium's own account of the sound: samples decoded, with energy (a tone, not silence).
    let stats = await inboundAudio(page);
    const deadline = Date.now() + 45_000;
    while ((!stats || stats.samples < 48_000 || stats.energy <= 0) && Date.now() < deadline) {
      await page.waitForTimeout(250);
      stats = await inboundAudio(page);
    }
    console.log(`Chromium inbound audio: ${JSON.stringify(stats)}`);
    expect(stats!.samples).toBeGreaterThanOrEqual(48_000);
    expect(stats!.energy).toBeGreaterThan(0);
    expect(stats!.level).toBeGreaterThan(0.05); // the tone at 1/8 of full scale
    await page.waitForFunction(`Number(document.querySelector('${TILE} .gc-level').getAttribute("aria-valuenow")) > 30`, null, { timeout: 30_000 });
    // In full screen the button is there too and still works.
    await page.evaluate(`document.querySelector('${TILE}').requestFullscreen()`);
    await page.waitForFunction(`document.fullscreenElement !== null`, null, { timeout: 30_000 });
    expect(await page.isVisible(".gc-tile:fullscreen .gc-sound")).toBe(true);
    await page.click(SOUND);
    expect(await page.evaluate(`${VIDEO}.muted`)).toBe(true);
    await page.close();
  });

  test("a kiosk with --kiosk-sound starts with the sound on", async () => {
    const page = await browser.newPage();
    await page.goto(`http://${net.serverAddress}:${server.port}/?kiosk=1&transport=webrtc`); // sound is WebRTC's (see above)
    await page.waitForFunction(`${VIDEO}?.videoWidth === 320`, null, { timeout: 30_000 });
    await page.waitForFunction(`${VIDEO}.muted === false`, null, { timeout: 30_000 });
    expect(await page.getAttribute(SOUND, "aria-pressed")).toBe("true");
    await page.close();
  });
});
