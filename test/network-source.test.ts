/**
 * Network sources, on loopback: a video file served over HTTP, and an HTTP
 * MJPEG camera (here another glasscast, whose /video is exactly that).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { TurboJpeg } from "../ffi/turbojpeg.ts";
import { makeClip, tempDir } from "./helpers/ffmpeg.ts";
import { readParts } from "./helpers/mjpeg-client.ts";
import { withServer } from "./helpers/server.ts";

setDefaultTimeout(30_000);

const tj = new TurboJpeg();
const dir = tempDir();
const clip = makeClip(dir, 3, "320x240", 30);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("an http(s) video URL plays in real time", async () => {
  const web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(Bun.file(clip)) });
  try {
    await withServer(["--source", `http://127.0.0.1:${web.port}/clip.mp4`], async (server) => {
      const parts = await readParts(`${server.url}/video`, { ms: 2000 });
      expect(tj.readHeader(parts[0]!.jpeg)).toMatchObject({ width: 320, height: 240 });
      expect(parts.length).toBeGreaterThan(35); // paced: about 30 a second,
      expect(parts.length).toBeLessThan(75); // not the whole 90-frame clip at once
    });
  } finally {
    web.stop(true);
  }
});

test("an HTTP MJPEG camera (another glasscast's /video) is relayed, resized", async () => {
  await withServer(["--width", "640", "--height", "360"], (camera) =>
    withServer(["--source", `${camera.url}/video`, "--width", "320", "--height", "180"], async (relay) => {
      const parts = await readParts(`${relay.url}/video`, { ms: 2000 });
      expect(parts.length).toBeGreaterThan(30);
      expect(tj.readHeader(parts.at(-1)!.jpeg)).toMatchObject({ width: 320, height: 180 });
    }),
  );
});
