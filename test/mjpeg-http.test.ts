/**
 * The MJPEG stream as a client meets it: start glasscast, read /video and
 * /snapshot.jpg over HTTP, decode what arrives.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { TurboJpeg } from "../src/ffi/turbojpeg.ts";
import { meanJpegBytes, readParts } from "./helpers/mjpeg-client.ts";
import { readPartsUntil } from "./helpers/parts-until.ts";
import { startServer, withServer, type RunningServer } from "./helpers/server.ts";
import type { StatsSnapshot } from "../src/stats/collect.ts";

setDefaultTimeout(120_000); // the waits end as soon as their condition holds; their deadlines are for a starved machine

const tj = new TurboJpeg();

describe("default server (testsrc, 1280x720 at 30 fps)", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--log-level", "info"]);
  });
  afterAll(async () => {
    await server.stop();
  });

  test('GET /video: parts in vidgear\'s layout, with a space in "Content-Type: image/jpeg", whose JPEGs decode to 1280x720', async () => {
    const parts = await readParts(`${server.url}/video`, { count: 10, ms: 30_000 });
    expect(parts).toHaveLength(10);
    for (const p of parts) expect(tj.readHeader(p.jpeg)).toEqual({ width: 1280, height: 720, subsampling: "420" });
    // A moving picture: consecutive frames differ.
    expect(Buffer.from(parts[0]!.jpeg).equals(Buffer.from(parts[9]!.jpeg))).toBe(false);
  });

  test('every MJPEG address starts each part with "Content-Type: image/jpeg", spaced (GStreamer reads no other)', async () => {
    for (const path of ["/video", "/stream", "/?action=stream"]) {
      const res = await fetch(`${server.url}${path}`);
      const reader = res.body!.getReader();
      let head = "";
      while (!/\r\n\r\n[\s\S]{2}/.test(head)) {
        // the part's head and the JPEG's first two bytes
        const { value, done } = await reader.read();
        if (done) break;
        head += Buffer.from(value).toString("latin1");
      }
      await reader.cancel();
      expect(head).toMatch(/^--frame\r\nContent-Type: image\/jpeg\r\nContent-Length: \d+\r\n\r\n\xff\xd8/);
    }
  });

  test("response headers: multipart with boundary=frame, never cached", async () => {
    const res = await fetch(`${server.url}/video`);
    expect(res.headers.get("content-type")).toBe("multipart/x-mixed-replace; boundary=frame");
    expect(res.headers.get("cache-control")).toContain("no-store");
    await res.body?.cancel();
  });

  test("HEAD works on /video, /snapshot.jpg and /", async () => {
    for (const path of ["/video", "/snapshot.jpg", "/"]) {
      const res = await fetch(`${server.url}${path}`, { method: "HEAD" });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("");
    }
    const head = await fetch(`${server.url}/snapshot.jpg`, { method: "HEAD" });
    expect(head.headers.get("content-type")).toBe("image/jpeg");
  });

  test("HEAD says what GET would: the page's and /healthz's length and type, the stream's chunked framing (never a length of 0)", async () => {
    for (const path of ["/", "/healthz"]) {
      const get = await fetch(`${server.url}${path}`);
      const body = await get.arrayBuffer();
      const head = await fetch(`${server.url}${path}`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe("");
      expect({ path, length: head.headers.get("content-length"), type: head.headers.get("content-type") }).toEqual({
        path,
        length: String(body.byteLength),
        type: get.headers.get("content-type"),
      });
    }
    const video = await fetch(`${server.url}/video`, { method: "HEAD" });
    expect(video.headers.get("content-length")).toBeNull();
    expect(video.headers.get("transfer-encoding")).toBe("chunked");
  });

  test("GET /snapshot.jpg answers the newest JPEG", async () => {
    const res = await fetch(`${server.url}/snapshot.jpg`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    const jpeg = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get("content-length"))).toBe(jpeg.length);
    expect(tj.readHeader(jpeg)).toMatchObject({ width: 1280, height: 720 });
  });

  // Each viewer at the full 30 fps is a promise about the CPU: scripts/bench/mjpeg-fanout.ts measures it
  // (docs/figures.md). Here: all 20 get the live stream, however long a busy machine takes.
  test("20 simultaneous viewers all receive the moving stream", async () => {
    const all = await Promise.all(Array.from({ length: 20 }, () => readPartsUntil(`${server.url}/video`, (p) => p.length > 30, "31 pictures")));
    for (const parts of all) {
      expect(parts.length).toBe(31);
      expect(Buffer.from(parts[0]!.jpeg).equals(Buffer.from(parts[30]!.jpeg))).toBe(false);
    }
  });

  test("GET / shows the stream; unknown paths answer a JSON 404", async () => {
    const page = await (await fetch(`${server.url}/`)).text();
    expect(page).toContain(`"video":"/video"`);
    const res = await fetch(`${server.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: "/nope was not found" });
  });

  test("a bad request gets a 4xx and the stream carries on", async () => {
    const viewer = readPartsUntil(`${server.url}/video`, (p) => p.length > 30, "31 pictures");
    const bad = await fetch(`${server.url}/video`, { method: "POST", body: "x".repeat(1000) });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    expect((await viewer).length).toBe(31);
  });
});

describe("options reach the stream", () => {
  test("--width/--height/--fps and --video-endpoint", async () => {
    const server = await startServer(["--width", "320", "--height", "240", "--fps", "10", "--video-endpoint", "cam/live"]);
    try {
      const parts = await readPartsUntil(`${server.url}/cam/live`, (p) => p.length >= 15, "15 pictures");
      expect(tj.readHeader(parts[0]!.jpeg)).toMatchObject({ width: 320, height: 240 });
      // 10 fps, not the default 30: the source's own count against the server's own clock (25% and 3 frames of slack).
      const state = (await (await fetch(`${server.url}/state`)).json()) as StatsSnapshot;
      expect(state.streams[0]!.framesCaptured).toBeGreaterThanOrEqual(15);
      expect(state.streams[0]!.framesCaptured).toBeLessThanOrEqual(1.25 * 10 * state.uptimeSeconds + 3);
      expect((await fetch(`${server.url}/video`)).status).toBe(404);
      // The page follows the renamed endpoint (vidgear's theme broke there).
      expect(await (await fetch(`${server.url}/`)).text()).toContain(`"video":"/cam/live"`);
    } finally {
      await server.stop();
    }
  });

  test("--frame-size-reduction 50 halves the picture; --jpeg-subsampling gray", async () => {
    const server = await startServer(["--frame-size-reduction", "50", "--jpeg-subsampling", "gray"]);
    try {
      const jpeg = new Uint8Array(await (await fetch(`${server.url}/snapshot.jpg`)).arrayBuffer());
      expect(tj.readHeader(jpeg)).toEqual({ width: 640, height: 360, subsampling: "gray" });
    } finally {
      await server.stop();
    }
  });

  test("--frame-size-reduction 90 (which broke vidgear) gives a tenth of the size", async () => {
    const server = await startServer(["--frame-size-reduction", "90"]);
    try {
      const parts = await readParts(`${server.url}/video`, { count: 3, ms: 30_000 });
      expect(tj.readHeader(parts[2]!.jpeg)).toMatchObject({ width: 128, height: 72 });
    } finally {
      await server.stop();
    }
  });

  test("--jpeg-quality changes the size of the JPEGs on the wire", async () => {
    const size = (q: string) => withServer(["--jpeg-quality", q], (s) => meanJpegBytes(`${s.url}/video`));
    expect(await size("95")).toBeGreaterThan((await size("20")) * 2);
  });

  test("a new viewer gets the newest frame at once, not at the next frame", async () => {
    const server = await startServer(["--fps", "0.5"]);
    try {
      await readPartsUntil(`${server.url}/video`, (p) => p.length > 0, "the first frame");
      // A new viewer's first picture came while the source made none (by its own count): it was the
      // stored newest frame. A window with a new frame in it (every 2 s) proves nothing: look again.
      const captured = async () => ((await (await fetch(`${server.url}/state`)).json()) as StatsSnapshot).streams[0]!.framesCaptured;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const before = await captured();
        const [first] = await readPartsUntil(`${server.url}/video`, (p) => p.length > 0, "a first frame");
        if ((await captured()) === before) {
          expect(tj.readHeader(first!.jpeg)).toMatchObject({ width: 1280, height: 720 });
          break;
        }
        if (Date.now() > deadline) throw new Error("no new viewer got a frame before the source's next one");
      }
    } finally {
      await server.stop();
    }
  });
});
