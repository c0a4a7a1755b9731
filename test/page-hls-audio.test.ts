/**
 * The page's HLS with sound, in headless Chromium on a network of the
 * test's own (helpers/netns.ts): `?transport=hls` plays the stream through
 * the embedded hls.js, and Chromium decodes the Opus track of its fMP4
 * (the video element's webkitAudioDecodedByteCount grows) beside the
 * picture, and once unmuted the element's sound, through a WebAudio
 * analyser, has the fake microphone's tone's level. The sound's button and unmuting are the WebRTC tests' (page-audio).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium } from "./helpers/browser.ts";
import { holdClientNetwork, type ClientNetwork } from "./helpers/netns.ts";
import { CLI, ROOT, startProgram, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(120_000);

const FAKE_FFMPEG = join(ROOT, "test", "fakes", "ffmpeg");
const VIDEO = `document.querySelector(".gc-tile video.gc-video")`;
const AUDIO_BYTES = `(${VIDEO}?.webkitAudioDecodedByteCount ?? -1)`;
const FRAMES_DECODED = `(${VIDEO}?.getVideoPlaybackQuality().totalVideoFrames ?? -1)`;

let net: ClientNetwork;
let browser: Browser;
let server: RunningServer;
let done: () => Promise<void>;

beforeAll(async () => {
  ({ net, release: done } = await holdClientNetwork());
  browser = await launchChromium(net.chromium);
  server = await startProgram(
    [
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
      "320",
      "--height",
      "240",
      "--fps",
      "15",
      "--h264-keyint",
      "15",
      "--ffmpeg",
      FAKE_FFMPEG,
      "--audio",
      "hw:1,0",
      "--webrtc-candidate",
      net.serverAddress,
    ],
    { FAKE_MIC_HZ: "440" },
  );
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await done?.();
});

describe("the page's HLS with sound (Chromium)", () => {
  test("?transport=hls: hls.js plays the picture and Chromium decodes the Opus track", async () => {
    const page = await browser.newPage();
    page.on("console", (m) => console.log("console", m.text()));
    await page.goto(`http://${net.serverAddress}:${server.port}/?transport=hls`);
    await page.waitForFunction(`${FRAMES_DECODED} >= 20`, null, { timeout: 45_000, polling: 250 });
    const before = (await page.evaluate(AUDIO_BYTES)) as number;
    await page.waitForFunction(`${AUDIO_BYTES} > ${Math.max(0, before) + 4000}`, null, { timeout: 20_000, polling: 250 });
    const after = (await page.evaluate(AUDIO_BYTES)) as number;
    console.log(`HLS in Chromium: ${after} bytes of sound decoded (${after - before} in the wait), ${await page.evaluate(FRAMES_DECODED)} pictures`);
    expect(after).toBeGreaterThan(before);
    // What the element plays, through a WebAudio analyser: the tone's energy (unmuted by a click, the autoplay rules' gesture).
    await page.mouse.click(5, 5);
    const db = (await page.evaluate(`(async () => {
      const v = ${VIDEO};
      const ctx = new AudioContext();
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 2048;
      ctx.createMediaElementSource(v).connect(analyser);
      v.muted = false;
      await v.play().catch(() => {});
      let best = -200;
      const x = new Float32Array(analyser.fftSize);
      for (let i = 0; i < 30; i++) {
        await new Promise((r) => setTimeout(r, 100));
        analyser.getFloatTimeDomainData(x);
        const rms = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
        best = Math.max(best, 20 * Math.log10(rms || 1e-10));
      }
      return best;
    })()`)) as number;
    console.log(`HLS in Chromium: the element's sound peaks at ${db.toFixed(1)} dBFS (RMS of 2048 samples)`);
    expect(db).toBeGreaterThan(-40);
    await page.close();
  });
});
