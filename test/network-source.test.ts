/**
 * Network sources, on loopback: a video file served over HTTP, and an HTTP
 * MJPEG camera (here another glasscast, whose /video is exactly that).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { TurboJpeg } from "../src/ffi/turbojpeg.ts";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { makeClip, tempDir } from "./helpers/ffmpeg.ts";
import { readPartsUntil } from "./helpers/parts-until.ts";
import { waitFor, withServer } from "./helpers/server.ts";

setDefaultTimeout(90_000);

const tj = new TurboJpeg();
const dir = tempDir();
const clip = makeClip(dir, 3, "320x240", 30);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stateOf = async (url: string) => (await (await fetch(`${url}/state`)).json()) as StatsSnapshot;

test("an http(s) video URL plays in real time", async () => {
  const web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(Bun.file(clip)) });
  try {
    await withServer(["--source", `http://127.0.0.1:${web.port}/clip.mp4`], async (server) => {
      const parts = await readPartsUntil(`${server.url}/video`, (p) => p.length >= 5, "5 pictures");
      expect(tj.readHeader(parts[0]!.jpeg)).toMatchObject({ width: 320, height: 240 });
      // It plays on: 45 frames captured (1.5 s of the clip), however long a busy machine takes…
      let state = await stateOf(server.url);
      await waitFor(async () => (state = await stateOf(server.url)).streams[0]!.framesCaptured >= 45, 30_000, "45 frames captured");
      // …and never faster than real time: the source's own count against the server's own clock
      // (25% and a few frames of slack). Unpaced, the 90-frame clip would be in within a moment.
      const { framesCaptured } = state.streams[0]!;
      expect(framesCaptured).toBeLessThanOrEqual(1.25 * 30 * state.uptimeSeconds + 5);
    });
  } finally {
    web.stop(true);
  }
});

test("an HTTP MJPEG camera (another glasscast's /video) is relayed, resized", async () => {
  await withServer(["--width", "640", "--height", "360"], (camera) =>
    withServer(["--source", `${camera.url}/video`, "--width", "320", "--height", "180"], async (relay) => {
      // The relay keeps going: 31 pictures, however long a busy machine takes, most of them new ones.
      const parts = await readPartsUntil(`${relay.url}/video`, (p) => p.length > 30, "31 pictures");
      expect(new Set(parts.map((p) => Buffer.from(p.jpeg).toString("base64"))).size).toBeGreaterThan(20);
      expect(tj.readHeader(parts.at(-1)!.jpeg)).toMatchObject({ width: 320, height: 180 });
    }),
  );
});
