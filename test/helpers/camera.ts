/**
 * The fake cameras (test/fakes/) as the camera tests use them: a private
 * argument log and state file per test, the recordings' JPEGs to compare
 * served pictures with, and a look at a picture's brightness to tell the
 * NO SIGNAL picture (dark) from the camera's.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JpegDecoder } from "../../src/encoders/jpeg-decoder.ts";
import { JpegSplitter } from "../../src/media/jpeg-splitter.ts";
import { childPids, ROOT } from "./server.ts";
import { tempDir } from "./ffmpeg.ts";

export const FAKE_FFMPEG = join(ROOT, "test", "fakes", "ffmpeg");
export const FAKE_RPICAM = join(ROOT, "test", "fakes", "rpicam-vid");
/** Shared by every test run, so recordings are made once. */
export const RECORDINGS = join(tmpdir(), "glasscast-fake-camera");

export interface FakeCamera {
  readonly env: Record<string, string>;
  /** The argument lists the fakes were started with, oldest first. */
  runs(): string[][];
  /** unplugged, frozen, hung (rpicam-vid: even --list-cameras never answers), or streaming. */
  set(state: "unplugged" | "frozen" | "hung" | "streaming"): void;
}

export function fakeCamera(formats = "mjpeg,yuyv422", state: "unplugged" | "frozen" | "hung" | "streaming" = "streaming"): FakeCamera {
  const dir = tempDir("glasscast-cam-");
  const log = join(dir, "args.jsonl");
  const stateFile = join(dir, "state");
  writeFileSync(log, "");
  writeFileSync(stateFile, state);
  return {
    env: { FAKE_CAMERA_FORMATS: formats, FAKE_ARGS_LOG: log, FAKE_CAMERA_STATE: stateFile, FAKE_CAMERA_DIR: RECORDINGS },
    runs: () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as string[]),
    set: (s) => writeFileSync(stateFile, s),
  };
}

/** The JPEGs of a recording, as hex keys, to check that served pictures are the camera's bytes. */
export function recordedJpegs(file: string): Set<string> {
  const splitter = new JpegSplitter();
  return new Set(splitter.push(new Uint8Array(readFileSync(file))).map(key));
}

export function key(jpeg: Uint8Array): string {
  return new Bun.CryptoHasher("sha1").update(jpeg).digest("hex");
}

/** The recording file the fake made for a format and size (e.g. "mjpeg", "320x240", "mjpeg"). */
export function recordingOf(format: string, size: string, ext: string): string {
  const matches = [...new Bun.Glob(`${format}-${size}-*.${ext}`).scanSync({ cwd: RECORDINGS, absolute: true })];
  if (matches.length === 0) throw new Error(`no ${format} ${size} recording in ${RECORDINGS}`);
  return matches[0]!;
}

const decoder = new JpegDecoder();

/** Mean luma of a JPEG: the NO SIGNAL picture is near 24 (dark grey), the test pattern far brighter. */
export function meanLuma(jpeg: Uint8Array): number {
  const picture = decoder.decode(jpeg);
  const luma = picture.data.subarray(0, picture.width * picture.height);
  let sum = 0;
  for (let i = 0; i < luma.length; i += 7) sum += luma[i]!;
  return sum / Math.ceil(luma.length / 7);
}

export function isNoSignal(jpeg: Uint8Array): boolean {
  return meanLuma(jpeg) < 60;
}

/** The server's capture processes (the fakes exec the real ffmpeg on a recording). */
export async function captureProcesses(serverPid: number, marker = RECORDINGS): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await childPids(serverPid)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker)) pids.push(pid);
    } catch {
      /* gone */
    }
  }
  return pids;
}

export { processesWith } from "./server.ts";
