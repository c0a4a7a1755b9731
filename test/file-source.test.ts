/**
 * Files and image sequences: paced in real time like a camera (vidgear plays
 * them as fast as it can decode), looped with --loop, and without it an
 * END OF STREAM picture for viewers who stay connected.
 */
import { afterAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { TurboJpeg } from "../src/ffi/turbojpeg.ts";
import { defaultJpegSettings } from "../src/encoders/jpeg-settings.ts";
import { TurboJpegEncoder } from "../src/encoders/turbojpeg-encoder.ts";
import { renderPlaceholder } from "../src/placeholder/render.ts";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { ffmpeg, makeClip, tempDir } from "./helpers/ffmpeg.ts";
import { readPartsUntil } from "./helpers/parts-until.ts";
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

describe("a video file", () => {
  test.concurrent("plays in real time, then shows END OF STREAM and keeps the connection open", async () => {
    const server = await startServer(["--source", clip]);
    try {
      const eos = endOfStreamJpeg(320, 240);
      // Until the placeholder has come twice on the open connection (it repeats about once a second).
      const parts = await readPartsUntil(`${server.url}/video`, (p) => p.filter((x) => same(x.jpeg, eos)).length >= 2, "END OF STREAM twice");
      const firstEnd = parts.findIndex((p) => same(p.jpeg, eos));
      expect(firstEnd).toBeGreaterThan(0); // pictures of the clip first
      expect(parts.slice(firstEnd).every((p) => same(p.jpeg, eos))).toBe(true);
      // The whole clip was read, and no faster than real time: the source's own count against the
      // server's own clock (25% and a few frames of slack); unpaced, the 60 frames would be in at once.
      const state = (await (await fetch(`${server.url}/state`)).json()) as StatsSnapshot;
      expect(state.streams[0]!.framesCaptured).toBe(60);
      expect(60).toBeLessThanOrEqual(1.25 * 30 * state.uptimeSeconds + 5);
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
      // 121 pictures, however long a busy machine takes: more than the 60-frame clip, none of them END OF STREAM.
      const parts = await readPartsUntil(`${server.url}/video`, (p) => p.length > 120 || same(p.at(-1)!.jpeg, eos), "121 pictures");
      expect(parts.some((p) => same(p.jpeg, eos))).toBe(false);
      expect(parts.length).toBeGreaterThan(120);
      // And the source went round at least twice by its own count.
      const state = (await (await fetch(`${server.url}/state`)).json()) as StatsSnapshot;
      expect(state.streams[0]!.framesCaptured).toBeGreaterThan(120);
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
      const parts = await readPartsUntil(`${server.url}/video`, (p) => same(p.at(-1)!.jpeg, eos), "END OF STREAM");
      const tj = new TurboJpeg();
      expect(tj.readHeader(parts[0]!.jpeg)).toMatchObject({ width: 320, height: 240 });
      // One frame per image (a viewer that joined late saw fewer), then END OF STREAM.
      const distinct = new Set(parts.map((p) => Buffer.from(p.jpeg).toString("base64")));
      expect(distinct.size).toBeGreaterThanOrEqual(2);
      expect(distinct.size).toBeLessThanOrEqual(7);
      // 6 images at 4 fps, by the source's own count and the server's own clock: about 1.5 s, never faster (25% slack).
      const state = (await (await fetch(`${server.url}/state`)).json()) as StatsSnapshot;
      expect(state.streams[0]!.framesCaptured).toBe(6);
      expect(6).toBeLessThanOrEqual(1.25 * 4 * state.uptimeSeconds + 1);
    } finally {
      await server.stop();
    }
  });
});
