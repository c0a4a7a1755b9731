/**
 * The page and its theme over HTTP: themed or JSON errors, --no-theme, the
 * addresses µStreamer and mjpg-streamer clients use, several cameras,
 * --theme-dir overrides that can never reach outside their folder, and
 * `glasscast theme export`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TurboJpeg } from "../src/ffi/turbojpeg.ts";
import { EMBEDDED_FILES } from "../src/theme/embedded.ts";
import { makeClip, tempDir } from "./helpers/ffmpeg.ts";
import { readParts } from "./helpers/mjpeg-client.ts";
import { CLI, ROOT, startServer, waitFor, withServer, type RunningServer } from "./helpers/server.ts";
import { writeVidgearStyleTheme } from "./helpers/vidgear-theme.ts";

setDefaultTimeout(30_000);

const tj = new TurboJpeg();
const HTML = { accept: "text/html,application/xhtml+xml" };
const JSON_ACCEPT = { accept: "application/json" };

/** The player's config that a page carries. */
async function pageConfig(res: Response): Promise<{ kiosk: boolean; single: boolean; streams: { name: string; video: string; snapshot: string }[] }> {
  const html = await res.text();
  const json = /<script type="application\/json" id="glasscast-config">([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (!json) throw new Error("the page has no glasscast-config");
  return JSON.parse(json);
}

function themeExport(...args: string[]) {
  const r = Bun.spawnSync([process.execPath, "run", CLI, "theme", "export", ...args], { cwd: ROOT, timeout: 10_000 });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

test("the embedded theme is exactly the files under web/", () => {
  const onDisk = [...new Bun.Glob("**/*").scanSync({ cwd: join(ROOT, "web") })].sort();
  expect(Object.keys(EMBEDDED_FILES).sort()).toEqual(onDisk);
});

describe("default theme", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--width", "320", "--height", "240"]);
  });
  afterAll(async () => {
    await server.stop();
  });

  test("/ is the themed page, its player set up for the stream", async () => {
    const res = await fetch(`${server.url}/`, { headers: HTML });
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const config = await pageConfig(res);
    expect(config.streams).toEqual([{ name: "main", video: "/video", snapshot: "/snapshot.jpg", view: "/view/main", hls: "/hls/main/index.m3u8" } as never]);
    // WebRTC first, then HLS (hls.js from glasscast itself), then MJPEG.
    expect((config as unknown as { transports: string[] }).transports).toEqual(["webrtc", "hls", "mjpeg"]);
    expect((config as unknown as { hls: unknown }).hls).toEqual({ script: "/static/vendor/hls.light.min.js" });
    expect(config.kiosk).toBe(false);
    expect((await pageConfig(await fetch(`${server.url}/?kiosk=1`))).kiosk).toBe(true);
  });

  test("static files and the favicon come from the theme, with their types", async () => {
    for (const [path, type] of [
      ["/static/css/glasscast.css", "text/css"],
      ["/static/js/player.js", "text/javascript"],
      ["/favicon.ico", "image/svg+xml"],
    ]) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith(type!);
    }
  });

  test("404: the themed page for a browser, JSON for an API client", async () => {
    const page = await fetch(`${server.url}/nope`, { headers: HTML });
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    expect(await page.text()).toContain("/nope was not found");
    // A kiosk that lands on an error page retries by itself: the page knows it is in a kiosk.
    const kioskPage = await (await fetch(`${server.url}/nope?kiosk=1`, { headers: HTML })).text();
    expect(kioskPage).toContain(`<body class="gc-kiosk">`);
    expect(kioskPage).toContain(`{"kiosk":true}`);
    const json = await fetch(`${server.url}/nope`, { headers: JSON_ACCEPT });
    expect(json.status).toBe(404);
    expect(await json.json()).toEqual({ detail: "/nope was not found" });
  });

  test("µStreamer's /stream and /snapshot, mjpg-streamer's /?action=stream and /?action=snapshot", async () => {
    for (const path of ["/stream", "/?action=stream"]) {
      const parts = await readParts(`${server.url}${path}`, { count: 2, ms: 3000 });
      expect(tj.readHeader(parts[1]!.jpeg)).toMatchObject({ width: 320, height: 240 });
    }
    for (const path of ["/snapshot", "/?action=snapshot"]) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.headers.get("content-type")).toBe("image/jpeg");
      expect(tj.readHeader(new Uint8Array(await res.arrayBuffer()))).toMatchObject({ width: 320, height: 240 });
    }
    const bad = await fetch(`${server.url}/?action=explode`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ detail: 'unknown action "explode"; expected stream or snapshot' });
  });

  test("path traversal through /static answers 404", async () => {
    for (const path of [
      "/static/../templates/base.html",
      "/static/%2e%2e/templates/base.html",
      "/static/..%2f..%2f..%2fetc%2fpasswd",
      "/static/%2e%2e%2f%2e%2e%2fpackage.json",
      "/static/css/%00.css",
      "/static/.hidden",
      "/static//etc/passwd",
    ]) {
      const res = await fetch(`${server.url}${path}`);
      expect([400, 404]).toContain(res.status);
      expect(await res.text()).not.toContain("root:");
    }
  });
});

test("--no-theme: only the video routes; / and every error answer JSON with a detail", async () => {
  await withServer(["--no-theme"], async (server) => {
    const root = await fetch(`${server.url}/`, { headers: HTML });
    expect(root.headers.get("content-type")).toStartWith("application/json");
    expect(await root.json()).toMatchObject({ detail: expect.stringContaining("--no-theme"), streams: [{ name: "main", video: "/video" }] });
    for (const path of ["/nope", "/static/css/glasscast.css", "/view/main"]) {
      const res = await fetch(`${server.url}${path}`, { headers: HTML });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ detail: `${path} was not found` });
    }
    expect((await readParts(`${server.url}/video`, { count: 2, ms: 3000 })).length).toBe(2);
  });
});

test("several cameras: NAME=SRC streams, each with its own addresses and one capture", async () => {
  const dir = tempDir();
  const clip = makeClip(dir, 2, "320x240", 30);
  try {
    await withServer(["--source", "pattern=testsrc", "--source", `clip=${clip}`, "--loop"], async (server) => {
      const a = await readParts(`${server.url}/video/pattern`, { count: 2, ms: 3000 });
      const b = await readParts(`${server.url}/video/clip`, { count: 2, ms: 3000 });
      expect(tj.readHeader(a[1]!.jpeg)).toMatchObject({ width: 1280, height: 720 });
      expect(tj.readHeader(b[1]!.jpeg)).toMatchObject({ width: 320, height: 240 });
      const first = await readParts(`${server.url}/video`, { count: 1, ms: 3000 });
      expect(tj.readHeader(first[0]!.jpeg)).toMatchObject({ width: 1280, height: 720 }); // /video is the first stream's
      const snap = await fetch(`${server.url}/snapshot/clip.jpg`);
      expect(tj.readHeader(new Uint8Array(await snap.arrayBuffer()))).toMatchObject({ width: 320, height: 240 });

      const index = await pageConfig(await fetch(`${server.url}/`));
      expect(index.streams.map((s) => [s.name, s.video])).toEqual([
        ["pattern", "/video"],
        ["clip", "/video/clip"],
      ]);
      const view = await pageConfig(await fetch(`${server.url}/view/clip`));
      expect(view).toMatchObject({ single: true, streams: [{ name: "clip", video: "/video/clip" }] });
      const api = (await (await fetch(`${server.url}/api/streams`)).json()) as { streams: { name: string; state: string; width: number }[] };
      expect(api.streams.map((s) => [s.name, s.state, s.width])).toEqual([
        ["pattern", "running", 1280],
        ["clip", "running", 320],
      ]);
      // One ffmpeg per stream, whatever the number of viewers.
      await Promise.all(Array.from({ length: 6 }, () => readParts(`${server.url}/video/clip`, { count: 2, ms: 3000 })));
      const ffmpegs = Bun.spawnSync(["pgrep", "-P", String(server.proc.pid), "ffmpeg"])
        .stdout.toString()
        .trim()
        .split("\n");
      expect(ffmpegs).toHaveLength(2);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("theme export and --theme-dir", () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("export writes every theme file; again without --overwrite it refuses and writes nothing", () => {
    const first = themeExport(dir);
    expect(first.code).toBe(0);
    for (const path of Object.keys(EMBEDDED_FILES)) expect(existsSync(join(dir, path))).toBe(true);
    writeFileSync(join(dir, "static", "css", "glasscast.css"), "/* mine */");
    writeFileSync(join(dir, "notes.txt"), "keep me");
    const again = themeExport(dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exist; nothing was written (add --overwrite to replace the theme's files)");
    expect(readFileSync(join(dir, "static", "css", "glasscast.css"), "utf8")).toBe("/* mine */");
    const forced = themeExport(dir, "--overwrite");
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, "static", "css", "glasscast.css"), "utf8")).not.toBe("/* mine */");
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("keep me");
  });

  test("files in --theme-dir replace the built-in ones one by one; nothing outside it is served", async () => {
    const own = join(dir, "own");
    mkdirSync(join(own, "static", "css"), { recursive: true });
    mkdirSync(join(own, "templates"), { recursive: true });
    writeFileSync(join(own, "static", "css", "glasscast.css"), "body { background: rgb(1, 2, 3); }");
    writeFileSync(join(own, "static", "hello.txt"), "hello");
    const secret = join(dir, "secret.txt");
    writeFileSync(secret, "outside the theme");
    symlinkSync(secret, join(own, "static", "leak.txt"));
    await withServer(["--theme-dir", own], async (server) => {
      expect(await (await fetch(`${server.url}/static/css/glasscast.css`)).text()).toBe("body { background: rgb(1, 2, 3); }");
      expect(await (await fetch(`${server.url}/static/hello.txt`)).text()).toBe("hello");
      // Missing from the folder: the built-in file.
      const js = await fetch(`${server.url}/static/js/player.js`);
      expect(js.status).toBe(200);
      expect(await js.text()).toBe(readFileSync(EMBEDDED_FILES["static/js/player.js"]!, "utf8"));
      for (const path of ["/static/leak.txt", "/static/..%2fsecret.txt", "/static/%2e%2e/secret.txt", "/static/../secret.txt"]) {
        const res = await fetch(`${server.url}${path}`);
        // An escaped slash or dot is refused before any route looks at it (routes/request-target.ts).
        expect(res.status).toBe(path.includes("%2f") ? 400 : 404);
        expect(await res.text()).not.toContain("outside the theme");
      }
    });
  });
  // @elysiajs/static fails this (it keeps each file's size for 3 h and cuts the edited file short): docs/how-it-works.md.
  test("a --theme-dir file edited while glasscast runs is served new and whole, longer or shorter", async () => {
    const own = join(dir, "edited-live");
    mkdirSync(join(own, "static", "css"), { recursive: true });
    const css = join(own, "static", "css", "glasscast.css");
    writeFileSync(css, "body { color: red; }");
    await withServer(["--theme-dir", own], async (server) => {
      const url = `${server.url}/static/css/glasscast.css`;
      const first = await fetch(url);
      expect(first.headers.get("cache-control")).toBe("no-cache");
      expect(await first.text()).toBe("body { color: red; }");
      for (const text of ["body { color: red; background: rgb(1, 2, 3); margin: 0; }", "a{}"]) {
        writeFileSync(css, text);
        expect(await (await fetch(url)).text()).toBe(text);
      }
    });
  });
});

describe("a vidgear theme folder (WebGear's custom_data_location)", () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The CLI run until it exits (a bad theme stops it before it listens). */
  function serveExpectingFailure(themeDir: string) {
    const r = Bun.spawnSync([process.execPath, "run", CLI, "--host", "127.0.0.1", "--port", "0", "--theme-dir", themeDir], { cwd: ROOT, timeout: 20_000 });
    return { code: r.exitCode, stderr: r.stderr.toString(), stdout: r.stdout.toString() };
  }

  test("its pages are rendered: extends, blocks, url_for('static', …), request.url.path; its static files served", async () => {
    const theme = join(dir, "webgear");
    writeVidgearStyleTheme(theme);
    await withServer(["--theme-dir", theme], async (server) => {
      const res = await fetch(`${server.url}/`, { headers: HTML });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).not.toMatch(/\{[{%#]/);
      expect(html).toContain(`<link href="/static/css/custom.css" rel="stylesheet">`);
      expect(html).toContain(`href="/static/img/favicon-32x32.png"`);
      expect(html).toContain(`<script src="/static/js/custom.js"></script>`);
      expect(html).toContain(`<div class="enhance-main">\n  <h1 class="glow">Garden camera</h1>`);
      expect(html).toContain(`<img id="feed" src="/video"`);
      expect(html).toContain('<p class="copyright">Served from /</p>');
      expect(html).not.toContain("the page's own part"); // a {# comment #}
      expect(html.indexOf("My camera page")).toBeLessThan(html.indexOf("<!DOCTYPE html>")); // text before extends comes first, as in Jinja2
      for (const [path, type] of [
        ["/static/css/custom.css", "text/css"],
        ["/static/js/custom.js", "text/javascript"],
        ["/static/img/favicon-32x32.png", "image/png"],
      ]) {
        const file = await fetch(`${server.url}${path}`);
        expect(file.status).toBe(200);
        expect(file.headers.get("content-type")).toStartWith(type!);
      }
      // The theme's own 404 page, inside its own base.html.
      const missing = await fetch(`${server.url}/no/such`, { headers: HTML });
      expect(missing.status).toBe(404);
      const page = await missing.text();
      expect(page).toContain(`<h1 id="not-found">Nothing here.</h1>`);
      expect(page).toContain("Served from /no/such");
      // The page's video address answers.
      expect((await readParts(`${server.url}/video`, { count: 1, ms: 3000 })).length).toBe(1);
    });
  });

  test("a template broken while glasscast runs: the 500 page, no path or stack in it; the log names file and line", async () => {
    const theme = join(dir, "edited");
    writeVidgearStyleTheme(theme);
    await withServer(["--theme-dir", theme], async (server) => {
      expect((await fetch(`${server.url}/`, { headers: HTML })).status).toBe(200);
      writeFileSync(join(theme, "templates", "index.html"), `{% extends "base.html" %}\n{% block content %}{% if x %}{% endif %}{% endblock %}`);
      const res = await fetch(`${server.url}/`, { headers: HTML });
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(body).toContain(`<h1 class="glow">500</h1>`); // the theme's own 500 page
      expect(body).not.toContain(theme);
      expect(body).not.toContain("index.html");
      expect(body).not.toMatch(/\bat .*\.ts:\d+/);
      await waitFor(
        () => server.stderr().includes(`${join(realpathSync(theme), "templates", "index.html")}:2: {% if %} is not supported`),
        5000,
        "the log line",
      );
    });
  });

  test("an unsupported construct stops the start: exit 2, the file and line named, no stack", () => {
    const theme = join(dir, "loops");
    writeVidgearStyleTheme(theme);
    writeFileSync(
      join(theme, "templates", "index.html"),
      `{% extends "base.html" %}\n{% block content %}\n  {% for cam in cameras %}<img src="/video">{% endfor %}\n{% endblock %}\n`,
    );
    const run = serveExpectingFailure(theme);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(
      `glasscast: --theme-dir: ${join(realpathSync(theme), "templates", "index.html")}:3: {% for %} is not supported by glasscast's templates`,
    );
    expect(run.stderr).not.toContain("    at ");
  });

  test("a template that extends a missing file, or an unknown name, names the file and line too", () => {
    const theme = join(dir, "missing");
    writeVidgearStyleTheme(theme);
    writeFileSync(join(theme, "templates", "404.html"), `\n\n{% extends "layout.html" %}\n`);
    const run = serveExpectingFailure(theme);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${join(realpathSync(theme), "templates", "404.html")}:3: "layout.html" is neither in ${join(realpathSync(theme), "templates")} nor in the built-in theme`,
    );
    writeFileSync(join(theme, "templates", "404.html"), `{% extends "base.html" %}{% block content %}\n{{ camera_name }}{% endblock %}`);
    const unknown = serveExpectingFailure(theme);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`404.html:2: {{ camera_name }}: unknown name "camera_name"`);
  });

  test("extends and include never reach outside the theme folder: no '..', no symlink that leads out", () => {
    const theme = join(dir, "escape");
    writeVidgearStyleTheme(theme);
    writeFileSync(join(dir, "outside.html"), "SECRET OUTSIDE THE THEME");
    writeFileSync(join(theme, "templates", "404.html"), `{% extends "base.html" %}{% block content %}\n{% include "../../outside.html" %}{% endblock %}`);
    const dots = serveExpectingFailure(theme);
    expect(dots.code).toBe(2);
    expect(dots.stderr).toContain(`404.html:2: "../../outside.html" is not a template name (a path inside templates/)`);
    symlinkSync(join(dir, "outside.html"), join(theme, "templates", "link.html"));
    writeFileSync(join(theme, "templates", "404.html"), `{% extends "base.html" %}{% block content %}\n\n{% include "link.html" %}{% endblock %}`);
    const link = serveExpectingFailure(theme);
    expect(link.code).toBe(2);
    expect(link.stderr).toContain(`404.html:3: "link.html" is neither in ${join(realpathSync(theme), "templates")} nor in the built-in theme`);
    expect(link.stderr + link.stdout).not.toContain("SECRET");
  });

  test("vidgear's data folder itself (webgear/ and webgear_rtc/ inside) is refused with the folder to give instead", () => {
    const data = join(dir, "dot-vidgear");
    writeVidgearStyleTheme(join(data, "webgear"));
    writeVidgearStyleTheme(join(data, "webgear_rtc"));
    const run = serveExpectingFailure(data);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `holds vidgear's webgear_rtc and webgear theme folders, not a theme: give --theme-dir ${join(realpathSync(data), "webgear_rtc")}`,
    );
  });
});
