/**
 * HLS shares the stream's one H.264 encoder with WebRTC (no encode of its
 * own), and HLS clients that hold requests open (blocking reloads, hinted
 * parts, hundreds at once) slow neither the MJPEG viewers nor the WebRTC
 * ones: frames are counted with bounded waits, no rate after a fixed sleep.
 * A client making up User-Agents cannot grow the HLS viewer table past 1000
 * (plus one per address).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { parsePlaylist } from "./helpers/hls.ts";
import { mjpegParts } from "./helpers/mjpeg-client.ts";
import { processesWith, startServer, type RunningServer } from "./helpers/server.ts";
import { connectViewer, waitForFrames } from "./helpers/webrtc-client.ts";

setDefaultTimeout(120_000);

let server: RunningServer;
beforeAll(async () => {
  server = await startServer([
    "--source",
    "testsrc",
    "--width",
    "320",
    "--height",
    "240",
    "--fps",
    "10",
    "--h264-keyint",
    "10",
    "--webrtc-candidate",
    "127.0.0.1",
  ]);
});
afterAll(async () => {
  await server?.stop();
});

const libx264Processes = (): Promise<number> => processesWith(server.proc.pid, "libx264");

/** Frames an MJPEG viewer gets within `ms` (stops at `count`). */
async function mjpegFrames(count: number, ms: number): Promise<number> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  let n = 0;
  try {
    const res = await fetch(`${server.url}/video`, { signal: controller.signal });
    for await (const _ of mjpegParts(res)) if (++n >= count) break;
  } catch {
    /* aborted at the deadline */
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return n;
}

describe("HLS next to WebRTC and MJPEG", () => {
  test("one H.264 encoder for a WebRTC viewer and an HLS player at once", async () => {
    const viewer = await connectViewer(server.url);
    try {
      const p = parsePlaylist(await (await fetch(`${server.url}/hls/index.m3u8`)).text());
      expect(p.segments.length).toBeGreaterThanOrEqual(1);
      expect(await waitForFrames(viewer, 20, 20_000)).toBeGreaterThanOrEqual(20);
      expect(await libx264Processes()).toBe(1);
      const seg = await fetch(`${server.url}/hls/${p.segments.at(-1)!.uri}`);
      expect(seg.status).toBe(200);
    } finally {
      await viewer.close();
    }
  });

  test("300 held HLS requests: MJPEG and WebRTC viewers keep getting frames, and every held request is answered", async () => {
    const p = parsePlaylist(await (await fetch(`${server.url}/hls/index.m3u8`)).text());
    const newest = p.mediaSequence + p.segments.length;
    // Blocking reloads two segments ahead (the most allowed), and the hinted part, 150 of each.
    const held = [
      ...Array.from({ length: 150 }, () => `${server.url}/hls/index.m3u8?_HLS_msn=${newest + 2}`),
      ...Array.from({ length: 150 }, () => `${server.url}/hls/${p.preloadHint}`),
    ].map((url) =>
      fetch(url, { headers: { "user-agent": "held" } }).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
        () => 0,
      ),
    );
    const viewer = await connectViewer(server.url);
    try {
      const [mjpeg, rtc] = await Promise.all([mjpegFrames(30, 20_000), waitForFrames(viewer, 30, 20_000)]);
      expect({ mjpeg, rtc: rtc >= 30 }).toEqual({ mjpeg: 30, rtc: true });
      const statuses = await Promise.all(held);
      // Each is answered once its part or segment is written (200), or after its bounded wait (503).
      expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(250);
    } finally {
      await viewer.close();
    }
  });

  test("made-up User-Agents: past 1000 clients, new ones count by their address alone", async () => {
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 12; batch++) {
      const answered = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          fetch(`${server.url}/hls/nosuch.txt`, { headers: { "user-agent": `made-up/${batch * 100 + i}` } }).then((r) => r.status),
        ),
      );
      for (const st of answered) statuses.set(st, (statuses.get(st) ?? 0) + 1);
    }
    expect(statuses).toEqual(new Map([[404, 1200]]));
    const s = (await (await fetch(`${server.url}/state`)).json()) as { streams: { outputs: { hls: { viewers: unknown[] } } }[] };
    // 1000 tracked clients (those of the tests before included, while their 5 s last), plus this machine by its address.
    expect(s.streams[0]!.outputs.hls.viewers.length).toBeLessThanOrEqual(1001);
    expect(s.streams[0]!.outputs.hls.viewers.length).toBeGreaterThanOrEqual(1000);
  });
});
