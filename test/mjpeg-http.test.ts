/**
 * The MJPEG stream as a client meets it: start glasscast, read /video and
 * /snapshot.jpg over HTTP, decode what arrives.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { TurboJpeg } from "../ffi/turbojpeg.ts";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { meanJpegBytes, mjpegParts, readParts } from "./helpers/mjpeg-client.ts";
import { startServer, waitFor, withServer, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(120_000);

const tj = new TurboJpeg();

/** An MJPEG viewer that keeps reading, counting whole parts, until closed. */
function reader(url: string): { readonly parts: number; close(): void } {
  const abort = new AbortController();
  const client = { parts: 0, close: () => abort.abort() };
  void (async () => {
    for await (const _ of mjpegParts(await fetch(url, { signal: abort.signal }))) client.parts++;
  })().catch(() => {});
  return client;
}

/** The frames the first stream has captured so far. */
async function captured(server: RunningServer): Promise<number> {
  return ((await (await fetch(`${server.url}/state`)).json()) as StatsSnapshot).streams[0]!.framesCaptured;
}

describe("default server (testsrc, 1280x720 at 30 fps)", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--log-level", "info"]);
  });
  afterAll(async () => {
    await server.stop();
  });

  test('GET /video: parts in vidgear\'s layout, with a space in "Content-Type: image/jpeg", whose JPEGs decode to 1280x720', async () => {
    const parts = await readParts(`${server.url}/video`, { count: 10, ms: 5000 });
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

  test("20 simultaneous viewers all receive the stream at the source's rate", async () => {
    // Counted against the stream's own frames over the same window, not against the clock: a
    // loaded machine captures fewer, and every viewer must still get (nearly) each of them.
    const viewers = Array.from({ length: 20 }, () => reader(`${server.url}/video`));
    try {
      await waitFor(() => viewers.every((v) => v.parts > 0), 60_000, "every viewer's first picture");
      const from = await captured(server);
      const got = viewers.map((v) => v.parts);
      let to = from;
      await waitFor(async () => (to = await captured(server)) >= from + 90, 60_000, "90 more captured frames");
      const counts = viewers.map((v, i) => v.parts - got[i]!);
      console.log(`over ${to - from} captured frames the viewers got ${Math.min(...counts)} to ${Math.max(...counts)}`);
      // A viewer may lose a few (its socket busy when a frame came), never most.
      for (const n of counts) expect(n).toBeGreaterThan(0.66 * (to - from));
    } finally {
      for (const v of viewers) v.close();
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
    const viewer = readParts(`${server.url}/video`, { count: 31, ms: 60_000 });
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
      // Counted, then timed: 15 pictures at --fps 10 span 1.4 s, and the source reports no more than 10 a second.
      const parts = await readParts(`${server.url}/cam/live`, { count: 15, ms: 60_000 });
      expect(tj.readHeader(parts[0]!.jpeg)).toMatchObject({ width: 320, height: 240 });
      expect(parts.length).toBe(15);
      expect(parts.at(-1)!.at - parts[0]!.at).toBeGreaterThan(1100);
      const reported = ((await (await fetch(`${server.url}/state`)).json()) as StatsSnapshot).streams[0]!.fps;
      expect(reported).toBeGreaterThan(0);
      expect(reported).toBeLessThanOrEqual(11);
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
      const parts = await readParts(`${server.url}/video`, { count: 3, ms: 5000 });
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
      await readParts(`${server.url}/video`, { count: 1, ms: 5000 }); // the first frame exists
      const start = performance.now();
      const [first] = await readParts(`${server.url}/video`, { count: 1, ms: 5000 });
      // Frames come every 2 s: anything under a second was the stored newest frame.
      expect(first!.at - start).toBeLessThan(1000);
    } finally {
      await server.stop();
    }
  });
});
