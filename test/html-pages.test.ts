/**
 * HTML made in code goes through @elysiajs/html (src/routes/html.tsx): the
 * markup it adds is escaped, the page routes answer with its html() and keep
 * their headers, and the plugin neither guesses HTML from other answers nor
 * changes a theme's page.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errorDetail } from "../src/routes/html.tsx";
import { createGlasscast } from "../src/index.ts";
import { tempDir } from "./helpers/ffmpeg.ts";

setDefaultTimeout(30_000);

const HOSTILE = `<script>alert("x")</script> & 'q' </pre><img src=x onerror=alert(1)>`;

test("the --debug detail is escaped: tags, quotes and ampersands come out as text", async () => {
  const out = await errorDetail(HOSTILE);
  expect(out).toBe(
    `<pre class="gc-error-detail">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;q&#x27; &lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;</pre>`,
  );
});

describe("through a running glasscast", () => {
  test("a 500 page with --debug shows an error message with markup as text; the server carries on", async () => {
    const gc = await createGlasscast({ host: "127.0.0.1", port: 0, logLevel: "error", debug: true, width: 320, height: 240, alwaysOn: true });
    gc.app.get("/boom", () => {
      throw new Error(HOSTILE);
    });
    const { port } = gc.listen();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/boom`, { headers: { accept: "text/html" } });
      expect(res.status).toBe(500);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-store");
      const html = await res.text();
      expect(html).toContain(`<pre class="gc-error-detail">Error: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;q&#x27;`);
      expect(html).not.toContain(`<script>alert`);
      expect(html).not.toContain(`<img src=x`);
      expect((await fetch(`http://127.0.0.1:${port}/snapshot.jpg`)).status).toBe(200);
    } finally {
      await gc.close();
    }
  });

  test("the page answers through html() with its headers (GET and HEAD); other answers are not taken for HTML; a theme's page is sent as written", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "templates"), { recursive: true });
    // A theme whose base.html starts with <html> and no doctype: the plugin must not add one (it would change how browsers lay it out).
    writeFileSync(join(dir, "templates", "base.html"), `<html><head><title>{{ title }}</title></head><body>{{{body}}}</body></html>`);
    const gc = await createGlasscast({ host: "127.0.0.1", port: 0, logLevel: "error", width: 320, height: 240, themeDir: dir });
    gc.app.get("/markup-as-text", () => "<svg></svg>");
    const { port } = gc.listen();
    try {
      const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { accept: "text/html" } });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(page.headers.get("cache-control")).toBe("no-cache");
      expect(await page.text()).toStartWith("<html><head><title>glasscast</title>");
      const head = await fetch(`http://127.0.0.1:${port}/`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(head.headers.get("cache-control")).toBe("no-cache");
      expect(await head.text()).toBe("");
      const other = await fetch(`http://127.0.0.1:${port}/markup-as-text`);
      expect(other.headers.get("content-type")).not.toStartWith("text/html");
    } finally {
      await gc.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
