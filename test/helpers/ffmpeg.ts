/** Real ffmpeg output for tests: y4m streams and small media files. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function ffmpeg(args: string[]): Uint8Array {
  const r = Bun.spawnSync(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", ...args], { timeout: 60_000 });
  if (r.exitCode !== 0) throw new Error(`ffmpeg ${args.join(" ")} failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

/** `frames` pictures of the moving test pattern as YUV4MPEG2 in a given pixel format. */
export function y4mTestPattern(width: number, height: number, frames: number, pixFmt: string): Uint8Array {
  return ffmpeg([
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${width}x${height}:rate=30`,
    "-frames:v",
    String(frames),
    "-vf",
    `scale=${width}:${height}:out_range=full,format=${pixFmt}`,
    "-f",
    "yuv4mpegpipe",
    "-strict",
    "-1",
    "pipe:1",
  ]);
}

export function tempDir(prefix = "glasscast-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An H.264 MP4 of the test pattern, `seconds` long. */
export function makeClip(dir: string, seconds: number, size = "320x240", fps = 30): string {
  const path = join(dir, "clip.mp4");
  ffmpeg([
    "-y",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${size}:rate=${fps}`,
    "-t",
    String(seconds),
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    path,
  ]);
  return path;
}
