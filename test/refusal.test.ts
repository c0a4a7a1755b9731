/**
 * A refused request (wrong password, a link for another stream, too many
 * failed logins) as a browser sees it: the theme's page for 401, 403 and 429,
 * styled although its stylesheet sits behind the same login, and with the
 * refusal's headers. API clients keep their JSON.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { makeViewerToken } from "../src/access/tokens.ts";
import { createGlasscast, type Glasscast } from "../src/index.ts";
import { ARTIFACTS, launchChromium } from "./helpers/browser.ts";

setDefaultTimeout(60_000);

const SECRET = "a-token-secret-of-the-refusal-test";
const HTML = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };
const basic = (credential: string) => ({ authorization: `Basic ${Buffer.from(credential).toString("base64")}` });

let gc: Glasscast;
let url: string;
beforeAll(async () => {
  gc = await createGlasscast({
    host: "127.0.0.1",
    port: 0,
    logLevel: "error",
    webrtc: false,
    onDemand: true,
    source: ["main=testsrc", "side=testsrc"],
    auth: ["admin:right-password"],
    tokenSecret: SECRET,
  });
  url = `http://127.0.0.1:${gc.listen().port}`;
});
afterAll(async () => {
  await gc?.close();
});

/** The page's own files that it still links (not put into it). */
const linkedStatic = (html: string) => [...html.matchAll(/<(?:link|img)\b[^>]*?(?:href|src)="(\/static\/[^"]+)"/g)].map((m) => m[1]);

describe("401", () => {
  test("a browser gets the themed page with the login challenge; its stylesheet and images are in the page", async () => {
    const res = await fetch(`${url}/`, { headers: { ...HTML, ...basic("admin:wrong") } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Basic realm="glasscast", charset="UTF-8"');
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toContain(`<p class="gc-error-message">wrong user name or password</p>`);
    expect(html).toContain("<title>Sign in · glasscast</title>");
    expect(html).toContain(`<link rel="stylesheet" href="data:text/css;base64,`);
    expect(html).toContain(`src="data:image/svg+xml;base64,`);
    expect(linkedStatic(html)).toEqual([]);
    expect(html).not.toContain('{"detail"');
    // The stylesheet would have been refused on its own.
    expect((await fetch(`${url}/static/css/glasscast.css`)).status).toBe(401);
  });

  test("API clients, /api/ addresses and pictures keep JSON, with the same challenge", async () => {
    for (const [path, accept] of [
      ["/", "application/json"],
      ["/api/streams", HTML.accept],
      ["/video", "image/avif,image/webp,*/*"],
    ] as const) {
      const res = await fetch(`${url}${path}`, { headers: { accept } });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("Basic");
      expect(res.headers.get("content-type")).toStartWith("application/json");
      expect(await res.json()).toEqual({ detail: "this needs a login or a viewer token (?token=…)" });
    }
  });

  test("in Chromium: a wrong password shows the styled 401 page, not raw JSON", async () => {
    const browser: Browser = await launchChromium();
    try {
      const context = await browser.newContext({ httpCredentials: { username: "admin", password: "wrong" } });
      const page = await context.newPage();
      const res = await page.goto(`${url}/`);
      expect(res!.status()).toBe(401);
      expect(await page.locator(".gc-error-code").textContent()).toBe("401");
      expect(await page.locator(".gc-error-message").textContent()).toBe("wrong user name or password");
      expect(await page.locator("body").textContent()).not.toContain("detail");
      // The theme's stylesheet applies (dark background, the brand mark drawn).
      expect(await page.evaluate(`getComputedStyle(document.body).backgroundColor`)).toBe("rgb(10, 12, 16)");
      expect(await page.evaluate(`document.querySelector(".gc-mark").naturalWidth`)).toBeGreaterThan(0);
      await page.screenshot({ path: join(ARTIFACTS, "401.png") });
      await context.close();
    } finally {
      await browser.close();
    }
  });
});

test("403: a link for one stream opening another's page", async () => {
  const { token } = makeViewerToken(SECRET, { ttl: 600, stream: "side" });
  const page = await fetch(`${url}/view/main?token=${encodeURIComponent(token)}`, { headers: HTML });
  expect(page.status).toBe(403);
  const html = await page.text();
  expect(html).toContain(`<p class="gc-error-code" aria-hidden="true">403</p>`);
  expect(html).toContain("this token opens stream side only");
  const json = await fetch(`${url}/view/main?token=${encodeURIComponent(token)}`, { headers: { accept: "application/json" } });
  expect(json.status).toBe(403);
  expect(await json.json()).toEqual({ detail: "this token opens stream side only" });
});

test("429: too many failed logins, with Retry-After on the page and the JSON alike (run last: it locks this address out)", async () => {
  let res: Response | null = null;
  for (let i = 0; i < 10; i++) {
    res = await fetch(`${url}/`, { headers: { ...HTML, ...basic(`admin:wrong-${i}`) } });
    if (res.status === 429) break;
    await res.body?.cancel();
  }
  expect(res!.status).toBe(429);
  expect(Number(res!.headers.get("retry-after"))).toBeGreaterThan(0);
  const html = await res!.text();
  expect(html).toContain("Too many attempts");
  expect(html).toMatch(/too many failed logins from this address; try again in \d+ s/);
  const json = await fetch(`${url}/`, { headers: { accept: "application/json", ...basic("admin:right-password") } });
  expect(json.status).toBe(429);
  expect(json.headers.get("retry-after")).not.toBeNull();
  expect(((await json.json()) as { detail: string }).detail).toStartWith("too many failed logins");
});
