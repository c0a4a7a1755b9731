/**
 * /state, /metrics and /healthz as an operator meets them, on a real server
 * (real ffmpeg capture, real libjpeg-turbo, real werift): the figures match
 * what MJPEG and WebRTC clients actually received, /metrics is valid
 * Prometheus text whose counters never go down (not even when a viewer
 * leaves), and /healthz turns 503 with a reason when the source is down and
 * 200 again when it is back.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createGlasscast, createPushSource, framesFrom, type Glasscast, type GlasscastConfig, type UserFrame } from "../src/index.ts";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { Exposition } from "../src/stats/exposition.ts";
import { VERSION } from "../src/version.ts";
import { mjpegParts } from "./helpers/mjpeg-client.ts";
import { parsePrometheus, type PromDocument } from "./helpers/prometheus.ts";
import { childPids, isAlive, waitFor } from "./helpers/server.ts";
import { connectViewer, type TestViewer } from "./helpers/webrtc-client.ts";

setDefaultTimeout(60_000);

interface Served {
  readonly gc: Glasscast;
  readonly url: string;
}

/** A server in this process, as a program embeds it. */
async function start(config: GlasscastConfig): Promise<Served> {
  const gc = await createGlasscast({
    host: "127.0.0.1",
    port: 0,
    rtspPort: 0,
    logLevel: "error",
    webrtcCandidate: ["127.0.0.1"],
    ...(config.onDemand ? {} : { alwaysOn: true }),
    ...config,
  });
  const { port } = gc.listen();
  return { gc, url: `http://127.0.0.1:${port}` };
}

/** An MJPEG client that keeps reading (and counting whole parts) until closed. */
interface MjpegClient {
  readonly parts: number;
  close(): void;
}
function watch(url: string): MjpegClient {
  const abort = new AbortController();
  const client = { parts: 0, close: () => abort.abort() };
  void (async () => {
    const res = await fetch(url, { signal: abort.signal });
    for await (const _ of mjpegParts(res)) client.parts++;
  })().catch(() => {});
  return client;
}

async function state(url: string): Promise<StatsSnapshot> {
  const res = await fetch(`${url}/state`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as StatsSnapshot;
}

async function metrics(url: string): Promise<PromDocument> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheus(await res.text());
}

async function health(url: string): Promise<{ status: number; body: { status: string; streams?: { name: string; state: string; reason: string }[] } }> {
  const res = await fetch(`${url}/healthz`);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return { status: res.status, body: (await res.json()) as { status: string } };
}

/** Every counter of `after` is at least its value in `before` (series that appeared are fine). */
function expectNoCounterWentDown(before: PromDocument, after: PromDocument): void {
  const now = after.counters();
  const fell = [...before.counters()].filter(([key, v]) => (now.get(key) ?? Infinity) < v);
  expect(fell).toEqual([]);
  expect([...before.counters().keys()].filter((k) => !now.has(k))).toEqual([]);
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
};
/** The server counted every frame a client had before /state was asked, and at most 3 in flight beyond what it had after. */
const near = (server: number, before: number, after: number) => server >= before && server <= after + 3;

describe("a camera with MJPEG and WebRTC viewers", () => {
  let served: Served;
  beforeAll(async () => {
    served = await start({ source: ["testsrc"], width: 320, height: 240, fps: 15 });
  });
  afterAll(async () => {
    await served.gc.close();
  });

  test("/state and /metrics show each viewer with the frames it received, and agree", async () => {
    const { url } = served;
    const mjpeg: MjpegClient[] = [];
    let webrtc: TestViewer | null = null;
    try {
      // One after the other, so the server lists them in this order.
      for (let i = 0; i < 3; i++) {
        const client = watch(`${url}/video`);
        mjpeg.push(client);
        await waitFor(() => client.parts >= 1, 30_000, `MJPEG viewer ${i + 1}'s first frame`);
      }
      webrtc = await connectViewer(url);
      const peer = webrtc;
      await waitFor(() => mjpeg.every((c) => c.parts >= 20) && peer.received.frames >= 20, 60_000, "20 frames for every viewer");

      // What the clients counted before asking, the server had counted already (read after, frames that
      // come while /state is answered would count for the clients only).
      const counted = mjpeg.map((c) => c.parts);
      const received = peer.received.frames;
      const s = await state(url);
      const countedAfter = mjpeg.map((c) => c.parts);
      const receivedAfter = peer.received.frames;
      expect(s.version).toBe(VERSION);
      expect(s.uptimeSeconds).toBeGreaterThan(0);
      expect(s.streams).toHaveLength(1);
      const cam = s.streams[0]!;
      expect(cam).toMatchObject({ name: "main", state: "running", width: 320, height: 240, capturing: true });
      expect(cam.source).toBe("test pattern");
      expect(cam.fps).toBeGreaterThan(0);
      expect(cam.framesCaptured).toBeGreaterThanOrEqual(Math.max(...counted));
      // A running stream's last frame is recent (a busy machine may be seconds late, never minutes).
      expect(typeof cam.lastFrameAgeMs).toBe("number");
      expect(cam.lastFrameAgeMs!).toBeGreaterThanOrEqual(0);
      expect(cam.lastFrameAgeMs!).toBeLessThan(30_000);
      expect(cam.encoders.jpeg.name).toBe("libturbojpeg");
      expect(cam.encoders.jpeg.encoded).toBeGreaterThanOrEqual(Math.max(...counted));
      expect(cam.encoders.jpeg.meanMs).toBeGreaterThan(0);
      const h264 = cam.encoders.h264!;
      expect(h264).toMatchObject({ running: true, passthrough: false });
      expect(cmdline(h264.pid!)).toContain("libx264");
      expect(h264.accessUnits).toBeGreaterThanOrEqual(received);
      // Every picture offered to the encoder was encoded or skipped, and none was offered twice.
      expect(Number.isInteger(h264.skipped)).toBe(true);
      expect(h264.accessUnits + h264.skipped).toBeLessThanOrEqual(cam.framesCaptured);

      const viewers = cam.outputs.mjpeg.viewers;
      expect(viewers).toHaveLength(3);
      viewers.forEach((v, i) => {
        expect(v.address).toBe("127.0.0.1");
        expect({ frames: v.frames, near: near(v.frames, counted[i]!, countedAfter[i]!) }).toEqual({ frames: v.frames, near: true });
        expect(v.seconds).toBeGreaterThan(0);
        // fps is frames over the unrounded time; seconds and fps are each rounded to 0.1, so
        // frames / seconds agrees only within those roundings (0.5 apart after 1.5 s at 15 fps).
        expect(v.fps).toBeGreaterThanOrEqual(v.frames / (v.seconds + 0.05) - 0.05);
        expect(v.fps).toBeLessThanOrEqual(v.frames / Math.max(0.05, v.seconds - 0.05) + 0.05);
        expect(Date.parse(v.since)).toBeLessThanOrEqual(Date.now());
      });
      expect(new Set(viewers.map((v) => v.id)).size).toBe(3);
      expect(cam.outputs.mjpeg.joined).toBe(3);
      expect(cam.outputs.mjpeg.framesSent).toBe(viewers.reduce((n, v) => n + v.frames, 0));
      expect(cam.outputs.mjpeg.framesSkipped).toBe(viewers.reduce((n, v) => n + v.skipped, 0));
      const rtc = cam.outputs.webrtc!.viewers;
      expect(rtc).toHaveLength(1);
      expect(rtc[0]!.address).toBe("127.0.0.1");
      expect({ frames: rtc[0]!.frames, near: near(rtc[0]!.frames, received, receivedAfter) }).toEqual({ frames: rtc[0]!.frames, near: true });
      expect(s.totals).toEqual({ mjpegViewers: 3, webrtcViewers: 1, webrtcPeers: 1, rtspClients: null, hlsViewers: 0 });
      expect(s.process.residentBytes).toBeGreaterThan(0);

      // What the clients counted before the scrape, the server had counted already.
      const before = { mjpeg: mjpeg.reduce((n, c) => n + c.parts, 0), webrtc: peer.received.frames };
      const m = await metrics(url);
      const main = { stream: "main" };
      expect(m.value("glasscast_up")).toBe(1);
      expect(m.value("glasscast_info", { version: VERSION })).toBe(1);
      expect(m.value("glasscast_viewers", { ...main, transport: "mjpeg" })).toBe(3);
      expect(m.value("glasscast_viewers", { ...main, transport: "webrtc" })).toBe(1);
      expect(m.value("glasscast_viewers_joined_total", { ...main, transport: "mjpeg" })).toBe(3);
      expect(m.value("glasscast_viewers_joined_total", { ...main, transport: "webrtc" })).toBe(1);
      expect(m.value("glasscast_frames_sent_total", { ...main, transport: "mjpeg" })).toBeGreaterThanOrEqual(before.mjpeg);
      expect(m.value("glasscast_frames_sent_total", { ...main, transport: "webrtc" })).toBeGreaterThanOrEqual(before.webrtc);
      expect(m.value("glasscast_frames_skipped_total", { ...main, transport: "mjpeg" })).toBeGreaterThanOrEqual(cam.outputs.mjpeg.framesSkipped);
      expect(m.value("glasscast_stream_state", { ...main, state: "running" })).toBe(1);
      expect(m.samples.filter((x) => x.name === "glasscast_stream_state" && x.value === 1)).toHaveLength(1);
      expect(m.value("glasscast_stream_width", main)).toBe(320);
      expect(m.value("glasscast_stream_height", main)).toBe(240);
      expect(m.value("glasscast_frames_captured_total", main)).toBeGreaterThanOrEqual(cam.framesCaptured);
      expect(m.value("glasscast_jpeg_encoded_total", main)).toBeGreaterThanOrEqual(cam.encoders.jpeg.encoded);
      expect(m.value("glasscast_jpeg_encode_seconds_total", main)).toBeGreaterThan(0);
      expect(m.value("glasscast_h264_encoder_running", main)).toBe(1);
      expect(m.value("glasscast_h264_access_units_total", main)).toBeGreaterThanOrEqual(h264.accessUnits);
      expect(m.value("glasscast_webrtc_peers")).toBe(1);
      expect(m.value("process_resident_memory_bytes")).toBeGreaterThan(0);
      expect(m.value("process_open_fds")).toBeGreaterThan(0);
      expect(m.value("process_cpu_seconds_total")).toBeGreaterThan(0);
      for (const [name, f] of m.families) {
        expect(name).toMatch(/^(glasscast|process)_/);
        if (f.type === "counter") expect(name).toEndWith("_total");
      }

      // A viewer leaves: the gauges drop, the counters keep what it had.
      mjpeg.shift()!.close();
      await waitFor(async () => (await state(url)).totals.mjpegViewers === 2, 30_000, "the viewer to be gone");
      await Bun.sleep(300);
      const after = await metrics(url);
      expect(after.value("glasscast_viewers", { ...main, transport: "mjpeg" })).toBe(2);
      expectNoCounterWentDown(m, after);
      expect(after.value("glasscast_frames_sent_total", { ...main, transport: "mjpeg" })).toBeGreaterThan(
        m.value("glasscast_frames_sent_total", { ...main, transport: "mjpeg" }),
      );
    } finally {
      for (const c of mjpeg) c.close();
      await webrtc?.close();
    }
  });

  test("/healthz is 200 while frames come, 503 with the reason while the capture is down, 200 once it is back", async () => {
    const { url } = served;
    expect(await health(url)).toEqual({ status: 200, body: { status: "ok" } });
    const head = await fetch(`${url}/healthz`, { method: "HEAD" });
    expect(head.status).toBe(200);
    const before = await metrics(url);

    const capture = (await childPids(process.pid)).find((pid) => cmdline(pid).includes("testsrc2"));
    expect(capture).toBeDefined();
    process.kill(capture!, "SIGKILL");
    let down: Awaited<ReturnType<typeof health>> | null = null;
    await waitFor(async () => (down = await health(url)).status === 503, 10_000, "/healthz to say 503");
    expect(down!.body.status).toBe("unhealthy");
    expect(down!.body.streams).toHaveLength(1);
    expect(down!.body.streams![0]).toMatchObject({ name: "main", state: "restarting" });
    expect(down!.body.streams![0]!.reason).toContain("restarting");

    await waitFor(async () => (await health(url)).status === 200, 20_000, "/healthz to say 200 again");
    expect(isAlive(capture!)).toBe(false);
    const s = await state(url);
    expect(s.streams[0]!.state).toBe("running");
    expect(s.streams[0]!.restarts).toBeGreaterThanOrEqual(1);
    const after = await metrics(url);
    expect(after.value("glasscast_source_restarts_total", { stream: "main" })).toBeGreaterThanOrEqual(1);
    expectNoCounterWentDown(before, after);
  });
});

describe("a program's own streams", () => {
  const gray = (level: number): UserFrame => ({ format: "gray", width: 64, height: 48, data: new Uint8Array(64 * 48).fill(level) });

  test("a stream whose frames stop is unhealthy, and healthy again when they resume", async () => {
    const push = createPushSource();
    let pushing = true;
    let level = 0;
    const timer = setInterval(() => {
      if (pushing) push.push(gray(level++ % 256));
    }, 50);
    const { gc, url } = await start({ streams: [{ name: "pushed", source: push.source }] });
    try {
      await waitFor(async () => (await state(url)).streams[0]!.state === "running", 30_000, "the first frame");
      expect(await health(url)).toEqual({ status: 200, body: { status: "ok" } });
      const s = (await state(url)).streams[0]!;
      expect(s).toMatchObject({ name: "pushed", state: "running", width: 64, height: 48 });
      expect(s.encoders.h264).toMatchObject({ running: false, pid: null });

      pushing = false;
      let down: Awaited<ReturnType<typeof health>> | null = null;
      await waitFor(async () => (down = await health(url)).status === 503, 15_000, "/healthz to say 503");
      expect(down!.body.streams).toEqual([{ name: "pushed", state: "running", reason: expect.stringContaining("no frame from pushed frames for") }]);
      const m = await metrics(url);
      expect(m.value("glasscast_last_frame_age_seconds", { stream: "pushed" })).toBeGreaterThan(0);

      pushing = true;
      await waitFor(async () => (await health(url)).status === 200, 30_000, "/healthz to say 200 again");
    } finally {
      clearInterval(timer);
      await gc.close();
    }
  });

  test("a stream that ended is healthy; one that failed is not, and says why", async () => {
    async function* ending(): AsyncGenerator<UserFrame> {
      yield gray(10);
      yield gray(20);
    }
    async function* failing(): AsyncGenerator<UserFrame> {
      yield gray(30);
      throw new Error("sensor unplugged");
    }
    const ended = await start({ streams: [{ name: "clip", source: framesFrom(ending()) }] });
    try {
      await waitFor(async () => (await state(ended.url)).streams[0]!.state === "ended", 30_000, "the clip to end");
      expect(await health(ended.url)).toEqual({ status: 200, body: { status: "ok" } });
    } finally {
      await ended.gc.close();
    }
    const failed = await start({ streams: [{ name: "cam", source: framesFrom(failing(), "the sensor") }] });
    try {
      await waitFor(async () => (await state(failed.url)).streams[0]!.state === "failed", 30_000, "the source to fail");
      const h = await health(failed.url);
      expect(h.status).toBe(503);
      expect(h.body).toEqual({ status: "unhealthy", streams: [{ name: "cam", state: "failed", reason: "the sensor failed and cannot be restarted" }] });
      const m = await metrics(failed.url);
      expect(m.value("glasscast_stream_state", { stream: "cam", state: "failed" })).toBe(1);
    } finally {
      await failed.gc.close();
    }
  });
});

describe("the exposition format", () => {
  test("label values and help text are escaped so that a scraper reads them back unchanged", () => {
    const odd = 'a "quoted" back\\slash\nand a new line';
    const text = new Exposition()
      .family("glasscast_test", "gauge", "help with a \\ and a\nline feed", [{ labels: { stream: odd, transport: "mjpeg" }, value: 1.5 }])
      .family("glasscast_test_total", "counter", "a counter", [{ value: 0 }])
      .text();
    const doc = parsePrometheus(text);
    expect(doc.samples[0]!.labels).toEqual({ stream: odd, transport: "mjpeg" });
    expect(doc.value("glasscast_test")).toBe(1.5);
    expect(doc.families.get("glasscast_test")!.help).toBe("help with a \\ and a\nline feed");
    expect(text.split("\n").length).toBe(7); // 6 lines and the final line feed: nothing broke a line
    expect(() => new Exposition().family("glasscast_bad", "counter", "x", [])).toThrow("must end with _total");
  });
});
