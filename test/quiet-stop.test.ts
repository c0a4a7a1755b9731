/**
 * A clean stop leaves the log silent: SIGTERM stops ffmpeg, which then
 * complains about the pipe or FIFO whose reader is gone ("Broken pipe", three
 * lines at every service restart), and that is the noise of our own stop, not
 * a problem. An image sequence's start says nothing either (swscale's note on
 * JPEG's full-range layouts). A real problem still warns: a child's complaint
 * mid-run, a source that cannot be read.
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setLogLevel } from "../src/log.ts";
import { spawnOwned } from "../src/process/child.ts";
import { ffmpeg, makeClip, tempDir } from "./helpers/ffmpeg.ts";
import { readParts } from "./helpers/mjpeg-client.ts";
import { connectViewer } from "./helpers/webrtc-client.ts";
import { startServer, waitFor } from "./helpers/server.ts";

setDefaultTimeout(60_000);

const dir = tempDir("glasscast-quiet-");
const clip = makeClip(dir, 10, "640x360", 30);
const shots = join(dir, "shots");
mkdirSync(shots);
ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=5", "-frames:v", "8", join(shots, "shot-%02d.jpg")]);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const problems = (stderr: string) => stderr.split("\n").filter((l) => / (warn|error) /.test(l));

describe("SIGTERM: a clean stop logs no warning or error", () => {
  const sources: [string, string[]][] = [
    ["testsrc (1280x720: ffmpeg is mid-write when it is stopped)", ["--source", "testsrc"]],
    ["a video file", ["--source", clip, "--loop"]],
    ["an image sequence (and its start logs nothing either)", ["--source", join(shots, "*.jpg"), "--loop"]],
  ];
  for (const [name, args] of sources) {
    test(name, async () => {
      const server = await startServer(args);
      let code: number;
      try {
        expect((await readParts(`${server.url}/video`, { count: 5, ms: 15_000 })).length).toBe(5);
      } finally {
        code = await server.stop("SIGTERM");
      }
      expect(code).toBe(0);
      expect(problems(server.stderr())).toEqual([]);
    });
  }
});

test("SIGTERM with a WebRTC viewer (the H.264 encoder running too) logs no warning or error", async () => {
  const server = await startServer(["--source", "testsrc", "--width", "640", "--height", "360"]);
  const viewer = await connectViewer(server.url);
  let code: number;
  try {
    await waitFor(() => viewer.received.frames >= 5, 20_000, "H.264 frames at the WebRTC viewer");
  } finally {
    code = await server.stop("SIGTERM");
    await viewer.pc.close();
  }
  expect(code).toBe(0);
  expect(problems(server.stderr())).toEqual([]);
});

test("a source that cannot be read still warns, with ffmpeg's reason", async () => {
  const bad = join(dir, "bad.mp4");
  writeFileSync(bad, "this is not a video\n".repeat(100));
  const server = await startServer(["--source", bad]);
  try {
    await waitFor(() => problems(server.stderr()).some((l) => l.includes("Invalid data found")), 15_000, "ffmpeg's complaint as a warning");
  } finally {
    await server.stop();
  }
});

describe("a child's stderr: warnings while it runs, debug once we stop it", () => {
  const logged: string[] = [];
  const write = process.stderr.write;
  const capture = () => {
    setLogLevel("debug");
    process.stderr.write = ((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    }) as typeof write;
  };
  afterEach(() => {
    process.stderr.write = write;
    setLogLevel("info");
    logged.length = 0;
  });
  // Like ffmpeg on a FIFO: "Broken pipe" whenever it runs, and once more as it is stopped.
  const script = `echo "av_interleaved_write_frame(): Broken pipe (mid-run)" >&2
    trap 'echo "Error writing trailer: Broken pipe (stopping)" >&2; exit 255' TERM
    while :; do sleep 0.05; done`;
  /** The level of the relayed stderr line that starts with `said` (not of the "started" line, which shows the script). */
  const levelOf = (said: string) => /^\S+ (\w+)\s/.exec(logged.find((l) => l.includes(`capture[test]: ${said}`)) ?? "")?.[1];

  test("a mid-run broken pipe is a warning; the one said while we stop it is debug", async () => {
    capture();
    const child = spawnOwned(["sh", "-c", script], { label: "capture[test]", stderrLevel: "warn" });
    await waitFor(() => levelOf("av_interleaved_write_frame") !== undefined, 10_000, "the mid-run line");
    await child.stop();
    await waitFor(() => levelOf("Error writing trailer") !== undefined, 10_000, "the line said while stopping");
    expect(levelOf("av_interleaved_write_frame")).toBe("warn");
    expect(levelOf("Error writing trailer")).toBe("debug");
  });

  test("a child that ends by itself keeps its last words at warn, even when stop() comes after", async () => {
    capture();
    const child = spawnOwned(["sh", "-c", `echo "Conversion failed!" >&2; exit 1`], { label: "capture[test]", stderrLevel: "warn" });
    expect(await child.exited).toBe(1);
    await child.stop();
    await waitFor(() => levelOf("Conversion failed!") !== undefined, 10_000, "the child's last line");
    expect(levelOf("Conversion failed!")).toBe("warn");
  });
});
