/**
 * Colour in Chromium: a picture of flat patches of known RGB (helpers/
 * colour-patches.ts) is served as a stream; the page plays it over WebRTC
 * (glasscast's H.264 encoder) and an <img> of the same stream's MJPEG sits
 * beside it. Each is drawn to a canvas and the centre of every patch is read
 * back: WebRTC and MJPEG agree within 8 per channel, and both are within 8 of
 * the RGB the patch was made with. (Before the encoder said its colour in the
 * SPS, Chrome decoded BT.601 as BT.709: green 0,217,4.)
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, launchChromium } from "./helpers/browser.ts";
import { PATCHES, PATCH_H, PATCH_W, PATCHES_HEIGHT, PATCHES_WIDTH, patchesRgb } from "./helpers/colour-patches.ts";
import { tempDir } from "./helpers/ffmpeg.ts";
import { holdClientNetwork, type ClientNetwork } from "./helpers/netns.ts";
import { CLI, startProgram, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(90_000);

const TOLERANCE = 8;
const VIDEO = ".gc-tile video.gc-video";

/** The patches as a PNG (lossless RGB), for an image-sequence source. */
function writePatchesPng(dir: string): string {
  const raw = join(dir, "patches.rgb");
  writeFileSync(raw, patchesRgb());
  const png = join(dir, "patches.png");
  const r = Bun.spawnSync(
    [
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "error",
      "-nostdin",
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgb24",
      "-s",
      `${PATCHES_WIDTH}x${PATCHES_HEIGHT}`,
      "-i",
      raw,
      "-frames:v",
      "1",
      "-y",
      png,
    ],
    { timeout: 30_000 },
  );
  if (r.exitCode !== 0) throw new Error(`ffmpeg could not write the PNG: ${r.stderr.toString()}`);
  return png;
}

/**
 * Evaluated in the page: draws the element (a playing <video> or <img>) to a
 * canvas at the picture's size and returns the mean RGB of a 16x16 square at
 * each given centre.
 */
function sampleIn(page: Page, selector: string, centres: { x: number; y: number }[]): Promise<number[][]> {
  const args = JSON.stringify({ selector, centres, w: PATCHES_WIDTH, h: PATCHES_HEIGHT });
  return page.evaluate(`(({ selector, centres, w, h }) => {
    const el = document.querySelector(selector);
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(el, 0, 0, w, h);
    return centres.map(({ x, y }) => {
      const d = ctx.getImageData(x - 8, y - 8, 16, 16).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += d[i + c];
      return sum.map((v) => Math.round(v / 256));
    });
  })(${args})`) as Promise<number[][]>;
}

const maxDiff = (a: readonly number[], b: readonly number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe("colours in Chromium: WebRTC and MJPEG of the same stream", () => {
  let net: ClientNetwork;
  let browser: Browser;
  let server: RunningServer;
  let done: () => Promise<void>;
  beforeAll(async () => {
    const dir = tempDir();
    writePatchesPng(dir);
    ({ net, release: done } = await holdClientNetwork());
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
      join(dir, "*.png"),
      "--loop",
      "--fps",
      "30",
      "--webrtc-candidate",
      net.serverAddress,
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await done?.();
  });

  test("every patch: WebRTC <video> and MJPEG <img> within 8 of each other and of the RGB it was made with", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const base = `http://${net.serverAddress}:${server.port}`;
    await page.goto(`${base}/`);
    // A second of pictures after the first, so the encoder has refined the static picture past its first keyframe.
    await page.waitForFunction(`(document.querySelector("${VIDEO}")?.getVideoPlaybackQuality().totalVideoFrames ?? 0) >= 30`, null, { timeout: 20_000 });
    await page.evaluate(`(() => {
      const img = document.createElement("img");
      img.id = "mjpeg-colour";
      img.src = ${JSON.stringify(`${base}/video`)};
      document.body.append(img);
    })()`);
    await page.waitForFunction(`document.getElementById("mjpeg-colour")?.naturalWidth === ${PATCHES_WIDTH}`, null, { timeout: 15_000 });

    const centres = PATCHES.map((p) => ({ x: p.x + PATCH_W / 2, y: p.y + PATCH_H / 2 }));
    const webrtc = await sampleIn(page, VIDEO, centres);
    const mjpeg = await sampleIn(page, "#mjpeg-colour", centres);
    await page.screenshot({ path: join(ARTIFACTS, "colour.png") });
    const rows = PATCHES.map(
      (p, i) => `${p.name.padEnd(10)} made ${p.rgb.join(",").padEnd(11)} WebRTC ${webrtc[i]!.join(",").padEnd(11)} MJPEG ${mjpeg[i]!.join(",")}`,
    );
    console.log(`colour patches in Chromium:\n${rows.join("\n")}`);
    const off = PATCHES.flatMap((p, i) => [
      ...(maxDiff(webrtc[i]!, mjpeg[i]!) > TOLERANCE ? [`${p.name}: WebRTC ${webrtc[i]} vs MJPEG ${mjpeg[i]}`] : []),
      ...(maxDiff(webrtc[i]!, p.rgb) > TOLERANCE ? [`${p.name}: WebRTC ${webrtc[i]} vs made ${p.rgb}`] : []),
      ...(maxDiff(mjpeg[i]!, p.rgb) > TOLERANCE ? [`${p.name}: MJPEG ${mjpeg[i]} vs made ${p.rgb}`] : []),
    ]);
    expect(off).toEqual([]);
    await page.close();
  });
});
