/**
 * Files and image sequences: paced in real time like a camera (vidgear plays
 * them as fast as it can decode), looped with --loop, and without it an
 * END OF STREAM picture for viewers who stay connected.
 */
import { afterAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { TurboJpeg } from "../ffi/turbojpeg.ts";
import { defaultJpegSettings } from "../src/encoders/jpeg-settings.ts";
import { TurboJpegEncoder } from "../src/encoders/turbojpeg-encoder.ts";
import { renderPlaceholder } from "../src/placeholder/render.ts";
import { ffmpeg, makeClip, tempDir } from "./helpers/ffmpeg.ts";
import { mjpegParts, type Part } from "./helpers/mjpeg-client.ts";
import { startServer } from "./helpers/server.ts";

// Each test has its own server and reads until what it checks has happened: they run side by side.
setDefaultTimeout(90_000);

const dir = tempDir();
const clip = makeClip(dir, 2, "320x240", 30); // 60 frames
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The exact END OF STREAM JPEG glasscast makes for this size (libjpeg-turbo is deterministic). */
function endOfStreamJpeg(width: number, height: number): Buffer {
  const encoder = new TurboJpegEncoder(defaultJpegSettings);
  const data = renderPlaceholder("i420", width, height, ["END OF STREAM"]);
  return Buffer.from(encoder.encode({ kind: "raw", format: "i420", width, height, data }));
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/**
 * Reads `url` on one connection until `done` holds for the parts so far (or 60 s pass, when the
 * test's own checks then fail): how long a busy machine takes changes nothing but the wait.
 */
async function readUntil(url: string, done: (parts: Part[]) => boolean): Promise<Part[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 60_000);
  const parts: Part[] = [];
  try {
    for await (const jpeg of mjpegParts(await fetch(url, { signal: abort.signal }))) {
      parts.push({ jpeg, at: performance.now() });
      if (done(parts)) break;
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return parts;
}

describe("a video file", () => {
  test.concurrent("plays in real time, then shows END OF STREAM and keeps the connection open", async () => {
    const server = await startServer(["--source", clip]);
    try {
      const eos = endOfStreamJpeg(320, 240);
      // Until the end and two more END OF STREAM pictures (the placeholder repeats about once a second).
      const parts = await readUntil(`${server.url}/video`, (got) => got.filter((p) => same(p.jpeg, eos)).length >= 3);
      const firstEnd = parts.findIndex((p) => same(p.jpeg, eos));
      expect(firstEnd).toBeGreaterThan(40); // most of the 60 frames were shown (the viewer joined a little late)
      // Real-time pacing: 2 s of video took about 2 s, not the few ms ffmpeg needs to decode it.
      const playTime = parts[firstEnd]!.at - parts[0]!.at;
      expect(playTime).toBeGreaterThan(1500);
      // After the end: the placeholder, repeated about once a second on the open connection.
      const after = parts.slice(firstEnd);
      expect(after.every((p) => same(p.jpeg, eos))).toBe(true);
      expect(after.length).toBe(3);
      // New viewers and snapshots get the placeholder too.
      const snap = new Uint8Array(await (await fetch(`${server.url}/snapshot.jpg`)).arrayBuffer());
      expect(same(snap, eos)).toBe(true);
    } finally {
      await server.stop();
    }
  });

  test.concurrent("--loop restarts it at its end: the picture never stops", async () => {
    const server = await startServer(["--source", clip, "--loop"]);
    try {
      const eos = endOfStreamJpeg(320, 240);
      // 130 pictures of a 60-frame clip, none of them END OF STREAM: it went round at least twice.
      const parts = await readUntil(`${server.url}/video`, (got) => got.length >= 130 || same(got.at(-1)!.jpeg, eos));
      expect(parts.some((p) => same(p.jpeg, eos))).toBe(false);
      expect(parts.length).toBe(130);
    } finally {
      await server.stop();
    }
  });
});

describe("an image sequence", () => {
  const shots = join(dir, "shots");
  Bun.spawnSync(["mkdir", "-p", shots]);
  ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=5", "-frames:v", "6", join(shots, "shot-%02d.jpg")]);

  test.concurrent("a glob plays its images at --fps, one frame each", async () => {
    const server = await startServer(["--source", join(shots, "*.jpg"), "--fps", "4"]);
    try {
      const eos = endOfStreamJpeg(320, 240);
      const parts = await readUntil(`${server.url}/video`, (got) => same(got.at(-1)!.jpeg, eos));
      const tj = new TurboJpeg();
      expect(tj.readHeader(parts[0]!.jpeg)).toMatchObject({ width: 320, height: 240 });
      const distinct = new Set(parts.map((p) => Buffer.from(p.jpeg).toString("base64")));
      // 6 images at 4 fps: about 1.5 s of pictures, then END OF STREAM.
      expect(distinct.size).toBeGreaterThanOrEqual(5);
      expect(distinct.size).toBeLessThanOrEqual(7);
      expect(same(parts.at(-1)!.jpeg, eos)).toBe(true);
    } finally {
      await server.stop();
    }
  });
});
