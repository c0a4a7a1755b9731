/**
 * A Raspberry Pi camera, end to end, through the fake rpicam-vid
 * (test/fakes/rpicam-vid) selected with --rpicam as a user would: the
 * hardware encoder's JPEGs reach MJPEG viewers byte for byte, its H.264
 * reaches WebRTC with no encoder, a quarter turn takes raw pictures and is
 * done here, and impossible combinations stop the program at startup.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { jpegSize } from "../src/media/jpeg-splitter.ts";
import { FAKE_RPICAM, fakeCamera, isNoSignal, key, processesWith, recordedJpegs, recordingOf } from "./helpers/camera.ts";
import { bothWays, cliInProcess } from "./helpers/cli-in-process.ts";
import { mjpegParts, readParts } from "./helpers/mjpeg-client.ts";
import { startServer, waitFor, type RunningServer } from "./helpers/server.ts";
import { connectViewer } from "./helpers/webrtc-client.ts";

// Each test has its own server and fake camera and waits on conditions: they run side by side.
setDefaultTimeout(90_000);

const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function serve(camera: ReturnType<typeof fakeCamera>, ...args: string[]): Promise<RunningServer> {
  const server = await startServer(
    ["--rpicam", FAKE_RPICAM, "--source", "libcamera:0", "--width", "320", "--height", "240", "--fps", "30", ...args],
    camera.env,
  );
  servers.push(server);
  return server;
}

describe("rpicam-vid", () => {
  test.concurrent("--codec mjpeg: the hardware encoder's JPEGs reach MJPEG viewers byte for byte", async () => {
    const camera = fakeCamera();
    const server = await serve(camera, "--input-format", "mjpeg", "--no-webrtc", "--jpeg-quality", "85");
    const parts = await readParts(`${server.url}/video`, { count: 40, ms: 30_000 });
    expect(parts.length).toBe(40);
    const recorded = recordedJpegs(recordingOf("rpicam-mjpeg", "320x240", "mjpeg"));
    for (const part of parts) expect(recorded.has(key(part.jpeg))).toBe(true);
    expect(camera.runs()[0]!.join(" ")).toBe("-t 0 -n --camera 0 --codec mjpeg --quality 85 --width 320 --height 240 --framerate 30 --flush -o -");
  });

  test.concurrent("auto with WebRTC on a Pi with encoders: its H.264 (inline headers) reaches WebRTC with no encoder; snapshots decode it", async () => {
    const camera = fakeCamera();
    const server = await serve(camera, "--h264-keyint", "15");
    const viewer = await connectViewer(server.url);
    try {
      await waitFor(() => viewer.received.frames >= 30, 60_000, "30 access units at the WebRTC viewer");
      expect(viewer.received.startedClean).toBe(true);
      expect(await processesWith(server.proc.pid, "libx264")).toBe(0);
      expect(camera.runs()[0]!.join(" ")).toContain("--codec h264 --inline --intra 15 --bitrate 2500000 --profile baseline");
      const snapshot = new Uint8Array(await (await fetch(`${server.url}/snapshot.jpg`)).arrayBuffer());
      expect(jpegSize(snapshot)).toEqual({ width: 320, height: 240 });
      expect(isNoSignal(snapshot)).toBe(false);
    } finally {
      await viewer.close();
    }
  });

  test.concurrent("--rotate 90 takes raw I420 and turns it here; 180 and the mirrors are asked of rpicam-vid", async () => {
    const camera = fakeCamera();
    const turned = await serve(camera, "--rotate", "90", "--no-webrtc");
    const parts = await readParts(`${turned.url}/video`, { count: 10, ms: 30_000 });
    expect(parts.length).toBe(10);
    for (const part of parts) expect(jpegSize(part.jpeg)).toEqual({ width: 240, height: 320 });
    const argv = camera.runs()[0]!.join(" ");
    expect(argv).toContain("--codec yuv420");
    expect(argv).not.toMatch(/--hflip|--vflip|--rotation/);

    const mirrored = fakeCamera();
    const half = await serve(mirrored, "--rotate", "180", "--hflip", "--input-format", "mjpeg", "--no-webrtc");
    await readParts(`${half.url}/video`, { count: 3, ms: 30_000 });
    const flags = mirrored.runs()[0]!;
    expect(flags).toContain("--vflip"); // 180° is both mirrors; with --hflip only the vertical one is left
    expect(flags).not.toContain("--hflip");
  });

  test.concurrent("a camera that is not there at startup: NO SIGNAL, then the picture when it appears", async () => {
    const camera = fakeCamera("mjpeg", "unplugged");
    const server = await serve(camera, "--input-format", "mjpeg", "--no-webrtc");
    // One connection throughout; waited on (bounded), not read for a fixed time.
    const abort = new AbortController();
    const seen: boolean[] = []; // NO SIGNAL or not, part by part
    void (async () => {
      for await (const jpeg of mjpegParts(await fetch(`${server.url}/video`, { signal: abort.signal }))) seen.push(isNoSignal(jpeg));
    })().catch(() => {});
    try {
      await waitFor(() => seen.length > 0 && /no cameras available/.test(server.stderr()), 30_000, "NO SIGNAL and rpicam-vid's complaint");
      camera.set("streaming");
      await waitFor(() => seen.includes(false), 60_000, "the camera's picture once it appears");
      expect(seen[0]).toBe(true);
    } finally {
      abort.abort();
    }
  });
});

describe("impossible combinations stop the program at startup, naming the option", () => {
  const cases: [string[], RegExp][] = [
    [["--rpicam", "/nonexistent/rpicam-vid"], /--rpicam: "\/nonexistent\/rpicam-vid" was not found; install rpicam-apps/],
    [["--rpicam", FAKE_RPICAM, "--stabilize"], /--stabilize: works on sources captured through ffmpeg/],
    [["--rpicam", FAKE_RPICAM, "--rotate", "270", "--input-format", "h264"], /--rotate: 270 needs raw pictures/],
    [["--rpicam", FAKE_RPICAM, "--input-format", "yuv420", "--width", "1000", "--height", "562"], /--width: .*multiple of 64/],
    [["--rpicam", FAKE_RPICAM, "--input-format", "yuyv"], /--input-format: yuyv is a V4L2 format/],
  ];
  const argv = (args: string[]) => ["--port", "0", "--source", "libcamera:0", ...args];
  test.each(cases)("%p", (args, message) => {
    const r = cliInProcess(argv(args));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test.concurrent("the real program exits 2 with the same message", async () => {
    for (const { real, inProcess } of await bothWays(cases.slice(0, 2).map(([args]) => argv(args)))) expect(real).toEqual(inProcess);
  });
});
