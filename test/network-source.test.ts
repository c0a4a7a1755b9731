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

setDefaultTimeout(90_000);

const tj = new TurboJpeg();
const dir = tempDir();
const clip = makeClip(dir, 3, "320x240", 30);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("an http(s) video URL plays in real time", async () => {
  const web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(Bun.file(clip)) });
  try {
    await withServer(["--source", `http://127.0.0.1:${web.port}/clip.mp4`], async (server) => {
      // Counted, then timed: 45 pictures of the 30 fps clip span about 1.5 s when paced; the whole
      // 90-frame clip at once would come in a fraction of that (a busy machine only makes it longer).
      const parts = await readParts(`${server.url}/video`, { count: 45, ms: 30_000 });
      expect(tj.readHeader(parts[0]!.jpeg)).toMatchObject({ width: 320, height: 240 });
      expect(parts.length).toBe(45);
      expect(parts.at(-1)!.at - parts[0]!.at).toBeGreaterThan(1000);
    });
  } finally {
    web.stop(true);
  }
});

test("an HTTP MJPEG camera (another glasscast's /video) is relayed, resized", async () => {
  await withServer(["--width", "640", "--height", "360"], (camera) =>
    withServer(["--source", `${camera.url}/video`, "--width", "320", "--height", "180"], async (relay) => {
      const parts = await readParts(`${relay.url}/video`, { count: 31, ms: 30_000 });
      expect(parts.length).toBe(31);
      expect(tj.readHeader(parts.at(-1)!.jpeg)).toMatchObject({ width: 320, height: 180 });
    }),
  );
});
