/**
 * What a person sees, in headless Chromium: the page plays the stream, goes
 * full screen, reconnects by itself after the server restarts, shows the
 * video alone in kiosk mode, shows several cameras side by side, has a
 * themed 404, and a theme exported and edited changes what it shows.
 * Screenshots land in test/artifacts/ (git-ignored) for anyone to look at.
 *
 * These pages play MJPEG (--no-webrtc): Chromium here sits on the machine's
 * own network, where WebRTC media must not go. WebRTC pages are tested in a
 * network of the test's own (page-webrtc.test.ts).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, launchChromium } from "./helpers/browser.ts";
import { makeClip, tempDir } from "./helpers/ffmpeg.ts";
import { CLI, ROOT, startServer, withServer, type RunningServer } from "./helpers/server.ts";
import { VIDGEAR_THEME_BACKGROUND, writeVidgearStyleTheme } from "./helpers/vidgear-theme.ts";
import { y4mTestPattern } from "./helpers/ffmpeg.ts";
import { createGlasscast } from "../src/index.ts";
import type { Source } from "../src/sources/source.ts";
import { Y4mReader } from "../src/media/y4m-reader.ts";

setDefaultTimeout(60_000);

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** Evaluated in the page: decoded width of each tile's picture, in order. */
const WIDTHS = `[...document.querySelectorAll(".gc-tile img.gc-video")].map((img) => img.naturalWidth)`;

async function openPage(url: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(url);
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}

async function waitForPicture(page: Page, tiles = 1): Promise<void> {
  await page.waitForFunction(`${WIDTHS}.length === ${tiles} && ${WIDTHS}.every((w) => w > 0)`, null, { timeout: 15_000 });
}

describe("one camera", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--no-webrtc"]);
  });
  afterAll(async () => {
    await server.stop();
  });

  test("the page shows a moving picture and its overlay (size, rate, transport)", async () => {
    const page = await openPage(`${server.url}/`);
    await waitForPicture(page);
    const tile = page.locator(".gc-tile").first();
    const first = await tile.screenshot();
    await page.waitForTimeout(700);
    const second = await tile.screenshot();
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(false);
    // The rate shows once the server has measured it (a few frames after start) and the page has polled it.
    await page.waitForFunction(`/1280×720.*\\d+(\\.\\d+)? fps/.test(document.querySelector(".gc-overlay")?.textContent ?? "")`, null, { timeout: 5000 });
    const overlay = await page.locator(".gc-overlay").first().textContent();
    expect(overlay).toContain("MJPEG");
    // Cameras and testsrc put their clock in the picture's top-left corner: the overlay keeps off it, top right.
    const picture = (await page.locator(".gc-tile img.gc-video").first().boundingBox())!;
    const box = (await page.locator(".gc-overlay").first().boundingBox())!;
    expect(box.x).toBeGreaterThan(picture.x + picture.width / 2);
    expect(box.x + box.width).toBeLessThanOrEqual(picture.x + picture.width);
    expect(box.y).toBeGreaterThanOrEqual(picture.y);
    expect(box.y + box.height).toBeLessThan(picture.y + picture.height / 4);
    expect(overlay).toMatch(/\d+(\.\d+)? fps/);
    // Under it, the source (and, for a source glasscast chose itself, why: see default-source.test.ts).
    const source = page.locator(".gc-overlay-source").first();
    await page.waitForFunction(`document.querySelector(".gc-overlay-source")?.textContent === "test pattern"`, null, { timeout: 5000 });
    const sourceBox = (await source.boundingBox())!;
    expect(sourceBox.y).toBeGreaterThanOrEqual(box.y + box.height);
    expect(sourceBox.x + sourceBox.width).toBeLessThanOrEqual(picture.x + picture.width);
    await page.screenshot({ path: join(ARTIFACTS, "index.png") });
    // The overlay (and the source under it) hides with "i" and with its button.
    await page.keyboard.press("i");
    expect(await page.locator(".gc-overlay").first().isHidden()).toBe(true);
    expect(await source.isHidden()).toBe(true);
    await page.locator(".gc-overlay-toggle").click();
    expect(await page.locator(".gc-overlay").first().isVisible()).toBe(true);
    expect(await source.isVisible()).toBe(true);
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  test("a click on the picture toggles full screen, and so does the F key", async () => {
    const page = await openPage(`${server.url}/`);
    await waitForPicture(page);
    const tile = page.locator(".gc-tile").first();
    // The player ignores a second toggle within 450 ms (a double tap is one toggle): pause like a person.
    const toggle = async (act: () => Promise<void>, inFullScreen: boolean) => {
      await act();
      await page.waitForFunction(`(document.fullscreenElement === document.querySelector(".gc-tile")) === ${inFullScreen}`, null, { timeout: 5000 });
      await page.waitForTimeout(500);
    };
    await toggle(() => tile.click(), true);
    await toggle(() => tile.click(), false);
    await toggle(() => page.keyboard.press("f"), true);
    await toggle(() => page.keyboard.press("f"), false);
    await page.close();
  });

  test("kiosk (/?kiosk=1): the video alone, full-window, cursor hidden", async () => {
    const page = await openPage(`${server.url}/?kiosk=1`);
    await waitForPicture(page);
    expect(await page.evaluate(`document.body.classList.contains("gc-kiosk")`)).toBe(true);
    for (const selector of [".gc-header", ".gc-footer", ".gc-overlay", ".gc-overlay-source"])
      expect(await page.locator(selector).first().isHidden()).toBe(true);
    // The player takes the whole window; the picture is as large as it allows (16:9 in 1280x800: full width).
    const player = (await page.locator("#player").boundingBox())!;
    expect([player.x, player.y, player.width, player.height]).toEqual([0, 0, 1280, 800]);
    const picture = (await page.locator(".gc-tile img.gc-video").first().boundingBox())!;
    expect(picture.width).toBeGreaterThanOrEqual(1279);
    expect(await page.evaluate(`getComputedStyle(document.querySelector(".gc-tile")).cursor`)).toBe("none");
    await page.screenshot({ path: join(ARTIFACTS, "kiosk.png") });
    await page.close();
  });

  test("the 404 page is themed", async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${server.url}/no/such/page`);
    expect(res!.status()).toBe(404);
    expect(await page.locator("body").textContent()).toContain("/no/such/page was not found");
    expect(await page.evaluate(`[...document.styleSheets].some((s) => (s.href ?? "").endsWith("/static/css/glasscast.css"))`)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "404.png") });
    await page.close();
  });

  test("on a phone the picture fits the screen", async () => {
    const page = await openPage(`${server.url}/`, { width: 390, height: 844 });
    await waitForPicture(page);
    const box = (await page.locator(".gc-tile img.gc-video").first().boundingBox())!;
    expect(box.width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, "phone.png") });
    await page.close();
  });
});

test("the page reconnects by itself after the server restarts, and says so meanwhile", async () => {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  const start = () => startProgramOnPort(port);
  let server = await start();
  const page = await openPage(server.url);
  const tile = page.locator(".gc-tile").first();
  try {
    await waitForPicture(page);
    await page.waitForFunction(`/ fps · MJPEG$/.test(document.querySelector(".gc-overlay").textContent)`, null, { timeout: 10_000 });
    await server.stop();
    await page.waitForFunction(`[...document.querySelectorAll(".gc-status")].some((b) => !b.hidden && b.textContent.includes("Reconnecting"))`, null, {
      timeout: 10_000,
    });
    // The server is gone: the overlay says so, with no frame rate, and the last picture stays, dimmed.
    await page.waitForFunction(`document.querySelector(".gc-overlay").textContent === "640×360 · MJPEG · Offline"`, null, { timeout: 10_000 });
    expect(await page.evaluate(`document.querySelector(".gc-tile").classList.contains("gc-tile--stale")`)).toBe(true);
    const still = (await page.evaluate(`(() => {
      const c = document.querySelector(".gc-still");
      const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let lit = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] > 150) lit++;
      return { width: c.width, height: c.height, shown: getComputedStyle(c).display, filter: getComputedStyle(c).filter, lit: lit / (px.length / 4) };
    })()`)) as { width: number; height: number; shown: string; filter: string; lit: number };
    expect(still).toMatchObject({ width: 640, height: 360, shown: "block" });
    expect(still.filter).toContain("brightness(0.42)");
    expect(still.lit).toBeGreaterThan(0.5); // testsrc's colour bars, not a black frame
    const stillBox = (await page.locator(".gc-still").boundingBox())!;
    const tileBox = (await tile.boundingBox())!;
    expect(stillBox.width).toBeGreaterThan(tileBox.width - 4);
    await page.screenshot({ path: join(ARTIFACTS, "reconnecting.png") });
    server = await start();
    await page.waitForFunction(`[...document.querySelectorAll(".gc-status")].every((b) => b.hidden)`, null, { timeout: 20_000 });
    expect(await page.evaluate(`document.querySelector(".gc-tile").classList.contains("gc-tile--stale")`)).toBe(false);
    const a = await tile.screenshot();
    await page.waitForTimeout(700);
    expect(Buffer.from(a).equals(Buffer.from(await tile.screenshot()))).toBe(false); // moving again
  } finally {
    await page.close();
    await server.stop();
  }
});

/** The CLI on a given port (the restart test needs the same address twice). */
async function startProgramOnPort(port: number): Promise<RunningServer> {
  const { startProgram } = await import("./helpers/server.ts");
  return startProgram([process.execPath, "run", CLI, "--host", "127.0.0.1", "--port", String(port), "--width", "640", "--height", "360", "--no-webrtc"]);
}

test("two cameras at once: a grid with two different pictures; /view/NAME shows one", async () => {
  const dir = tempDir();
  try {
    const clip = makeClip(dir, 3, "320x240", 30);
    await withServer(["--source", "pattern=testsrc", "--source", `clip=${clip}`, "--loop", "--no-webrtc"], async (server) => {
      const page = await openPage(`${server.url}/`);
      await waitForPicture(page, 2);
      const tiles = page.locator(".gc-tile");
      expect(await tiles.evaluateAll((els) => els.map((e) => e.getAttribute("data-stream")))).toEqual(["pattern", "clip"]);
      expect(await page.evaluate(WIDTHS)).toEqual([1280, 320]); // each tile shows its own camera
      const [a, b] = await Promise.all([tiles.nth(0).boundingBox(), tiles.nth(1).boundingBox()]);
      expect(a!.x !== b!.x || a!.y !== b!.y).toBe(true); // side by side or stacked, not on top of each other
      await page.screenshot({ path: join(ARTIFACTS, "grid.png") });
      await page.goto(`${server.url}/view/clip`);
      await waitForPicture(page, 1);
      expect(await page.locator(".gc-tile").getAttribute("data-stream")).toBe("clip");
      expect(await page.evaluate(WIDTHS)).toEqual([320]);
      await page.close();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a theme exported, edited and given with --theme-dir changes what the browser shows", async () => {
  const dir = tempDir();
  try {
    const exported = Bun.spawnSync([process.execPath, "run", CLI, "theme", "export", dir], { cwd: ROOT });
    expect(exported.exitCode).toBe(0);
    const css = join(dir, "static", "css", "glasscast.css");
    writeFileSync(css, `${await Bun.file(css).text()}\nbody { background: rgb(200, 30, 60) !important; }\n`);
    const index = join(dir, "templates", "index.html");
    writeFileSync(index, (await Bun.file(index).text()).replace("<main", `<p id="my-banner">My camera</p>\n<main`));
    await withServer(["--theme-dir", dir, "--no-webrtc"], async (server) => {
      const page = await openPage(`${server.url}/`);
      await waitForPicture(page);
      expect(await page.evaluate(`getComputedStyle(document.body).backgroundColor`)).toBe("rgb(200, 30, 60)");
      expect(await page.locator("#my-banner").textContent()).toBe("My camera");
      await page.screenshot({ path: join(ARTIFACTS, "custom-theme.png") });
      await page.close();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a vidgear theme folder works as it did with WebGear: its page, its css and js, the MJPEG picture moving", async () => {
  const dir = tempDir();
  try {
    writeVidgearStyleTheme(dir);
    await withServer(["--theme-dir", dir, "--no-webrtc", "--width", "640", "--height", "360"], async (server) => {
      const page = await openPage(`${server.url}/`);
      await page.waitForFunction(`document.getElementById("feed")?.naturalWidth === 640`, null, { timeout: 15_000 });
      expect(await page.title()).toBe("Garden camera");
      expect(await page.evaluate(`getComputedStyle(document.body).backgroundColor`)).toBe(VIDGEAR_THEME_BACKGROUND);
      expect(await page.evaluate(`document.body.dataset.customJs`)).toBe("ran");
      const feed = page.locator("#feed");
      const a = await feed.screenshot();
      await page.waitForTimeout(700);
      expect(Buffer.from(a).equals(Buffer.from(await feed.screenshot()))).toBe(false);
      expect((page as Page & { errors: string[] }).errors).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, "vidgear-theme.png") });
      await page.close();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the rate shown is true over a window: a 30 fps source whose frames come in bursts reads about 30, not a burst's rate", async () => {
  // A source paced by the wall clock to 30 frames a second, handing them over 6 or more at once (a busy machine).
  const pictures = new Y4mReader(32).push(y4mTestPattern(320, 240, 30, "yuv420p"));
  const bursty: Source = {
    description: "bursty",
    finite: false,
    restartable: true,
    async *frames(signal: AbortSignal) {
      const start = performance.now();
      let sent = 0;
      while (!signal.aborted) {
        const due = Math.floor(((performance.now() - start) * 30) / 1000);
        if (due - sent >= 6) while (sent < due) yield pictures[sent++ % pictures.length]!;
        await Bun.sleep(15);
      }
    },
  };
  const gc = await createGlasscast({ host: "127.0.0.1", port: 0, logLevel: "error", webrtc: false, streams: [{ name: "main", source: bursty }] });
  const { port } = gc.listen();
  const page = await openPage(`http://127.0.0.1:${port}/`);
  try {
    await waitForPicture(page);
    await page.waitForFunction(`/ fps/.test(document.querySelector(".gc-overlay").textContent)`, null, { timeout: 15_000 });
    // What the overlay says over the next 6 s (three polls of the server), read twice a second.
    const rates: number[] = [];
    for (let i = 0; i < 12; i++) {
      const m = /([\d.]+) fps/.exec((await page.locator(".gc-overlay").textContent()) ?? "");
      if (m) rates.push(Number(m[1]));
      await page.waitForTimeout(500);
    }
    expect(rates.length).toBe(12);
    // 60 frames in the 2 s window, ± one burst (6 frames, or more when the machine is slow to wake the source).
    for (const fps of rates) {
      expect(fps).toBeGreaterThanOrEqual(24);
      expect(fps).toBeLessThanOrEqual(36);
    }
  } finally {
    await page.close();
    await gc.close();
  }
});
