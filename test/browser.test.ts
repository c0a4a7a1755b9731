/**
 * What a person sees: Chromium opens the page and the stream plays in it.
 * A screenshot is saved as test/artifacts/index.png.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, launchChromium } from "./helpers/browser.ts";
import { startServer, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(60_000);

/** Evaluated in the page: the decoded width of the stream's picture. */
const STREAM_WIDTH = `(document.querySelector("img#stream")?.naturalWidth ?? 0)`;

let server: RunningServer;
let browser: Browser;
beforeAll(async () => {
  [server, browser] = await Promise.all([startServer([]), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

test("the page shows a moving picture from /video", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.url}/`);
  const img = page.locator("img#stream");
  await page.waitForFunction(`${STREAM_WIDTH} === 1280`, null, { timeout: 10_000 });
  const first = await img.screenshot();
  await page.waitForTimeout(700);
  const second = await img.screenshot({ path: join(ARTIFACTS, "index-stream.png") });
  await page.screenshot({ path: join(ARTIFACTS, "index.png") });
  expect(Buffer.from(first).equals(Buffer.from(second))).toBe(false);
  await page.close();
});

test("a browser tab that closes leaves the server serving others", async () => {
  const a = await browser.newPage();
  await a.goto(`${server.url}/`);
  await a.waitForFunction(`${STREAM_WIDTH} > 0`);
  await a.close();
  const b = await browser.newPage();
  await b.goto(`${server.url}/`);
  await b.waitForFunction(`${STREAM_WIDTH} > 0`);
  await b.close();
});
