/**
 * A V4L2 camera, end to end, through the fake ffmpeg (test/fakes/ffmpeg),
 * which takes the real ffmpeg's v4l2 arguments and writes what a UVC webcam
 * gives: its JPEGs reach MJPEG viewers byte for byte, its H.264 reaches
 * WebRTC viewers with no encoder, raw pictures are encoded once; a camera
 * that dies, is unplugged at startup or freezes comes back by itself while
 * viewers keep their connections and see NO SIGNAL meanwhile.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { jpegSize } from "../src/media/jpeg-splitter.ts";
import { captureProcesses, FAKE_FFMPEG, fakeCamera, isNoSignal, key, processesWith, recordedJpegs, recordingOf } from "./helpers/camera.ts";
import { mjpegParts, readParts } from "./helpers/mjpeg-client.ts";
import { startServer, waitFor, type RunningServer } from "./helpers/server.ts";
import { connectViewer } from "./helpers/webrtc-client.ts";

setDefaultTimeout(60_000);

const SIZE = ["--width", "320", "--height", "240", "--fps", "30"];
const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function serve(camera: ReturnType<typeof fakeCamera>, ...args: string[]): Promise<RunningServer> {
  const server = await startServer(["--ffmpeg", FAKE_FFMPEG, "--source", "/dev/video7", ...SIZE, ...args], camera.env);
  servers.push(server);
  return server;
}

/** The v4l2 input part of a capture command line. */
function v4l2Input(argv: string[]): string[] {
  const at = argv.indexOf("v4l2") - 1;
  return argv.slice(at, argv.indexOf("-i", at) + 2);
}

describe("passthrough", () => {
  test("an MJPEG camera: its JPEGs reach MJPEG viewers and snapshots byte for byte; ffmpeg asks the camera for the size, rate and format", async () => {
    const camera = fakeCamera("mjpeg,yuyv422");
    const server = await serve(camera);
    const parts = await readParts(`${server.url}/video`, { count: 45, ms: 10_000 });
    expect(parts.length).toBe(45);
    const recorded = recordedJpegs(recordingOf("mjpeg", "320x240", "mjpeg"));
    for (const part of parts) expect(recorded.has(key(part.jpeg))).toBe(true);
    const snapshot = new Uint8Array(await (await fetch(`${server.url}/snapshot.jpg`)).arrayBuffer());
    expect(recorded.has(key(snapshot))).toBe(true);

    const runs = camera.runs();
    expect(runs.some((argv) => argv.includes("-list_formats"))).toBe(true); // auto asks the camera what it gives
    const capture = runs.find((argv) => argv.includes("-video_size"))!;
    expect(v4l2Input(capture)).toEqual(["-f", "v4l2", "-input_format", "mjpeg", "-video_size", "320x240", "-framerate", "30", "-i", "/dev/video7"]);
    expect(capture.join(" ")).toContain("-c:v copy -f mjpeg");
    expect(capture).not.toContain("-vf");

    // WebRTC viewers of the same camera: its JPEGs decoded and encoded once, by one encoder.
    const viewer = await connectViewer(server.url);
    try {
      await waitFor(() => viewer.received.frames >= 20, 15_000, "20 access units at the WebRTC viewer");
      expect(await processesWith(server.proc.pid, "libx264")).toBe(1);
      expect(await processesWith(server.proc.pid, "-fflags nobuffer -f mjpeg")).toBe(1);
    } finally {
      await viewer.close();
    }
  });

  test("720p JPEGs, each longer than one read of the pipe, still reach viewers byte for byte", async () => {
    const camera = fakeCamera("mjpeg");
    const server = await startServer(
      ["--ffmpeg", FAKE_FFMPEG, "--source", "/dev/video7", "--width", "1280", "--height", "720", "--fps", "30", "--no-webrtc"],
      camera.env,
    );
    servers.push(server);
    const parts = await readParts(`${server.url}/video`, { count: 60, ms: 15_000 });
    expect(parts.length).toBe(60);
    const recorded = recordedJpegs(recordingOf("mjpeg", "1280x720", "mjpeg"));
    expect(parts.filter((p) => !recorded.has(key(p.jpeg))).length).toBe(0);
  });

  test("an H.264 camera: its access units reach a WebRTC viewer with no encoder process; MJPEG viewers get pictures through one decoder", async () => {
    const camera = fakeCamera("mjpeg,yuyv422,h264");
    const server = await serve(camera);
    const viewer = await connectViewer(server.url);
    try {
      await waitFor(() => viewer.received.frames >= 30, 15_000, "30 access units at the WebRTC viewer");
      expect(viewer.received.startedClean).toBe(true);
      expect(await processesWith(server.proc.pid, "libx264")).toBe(0);
      const capture = camera.runs().find((argv) => argv.includes("-video_size"))!;
      expect(v4l2Input(capture)).toContain("h264");
      expect(capture.join(" ")).toContain("-c:v copy");

      const snapshot = await fetch(`${server.url}/snapshot.jpg`);
      expect(snapshot.status).toBe(200);
      const jpeg = new Uint8Array(await snapshot.arrayBuffer());
      expect(jpegSize(jpeg)).toEqual({ width: 320, height: 240 });
      expect(isNoSignal(jpeg)).toBe(false);
      const parts = await readParts(`${server.url}/video`, { count: 20, ms: 10_000 });
      expect(parts.length).toBe(20);
      expect(await processesWith(server.proc.pid, "-f h264 -i pipe:0")).toBe(1);
      expect(await processesWith(server.proc.pid, "libx264")).toBe(0);
    } finally {
      await viewer.close();
    }
  });

  test("a raw (YUYV) camera, or --no-passthrough: pictures are decoded once and encoded with the --jpeg-* settings", async () => {
    const camera = fakeCamera("mjpeg,yuyv422");
    const server = await serve(camera, "--input-format", "yuyv", "--no-webrtc");
    const parts = await readParts(`${server.url}/video`, { count: 10, ms: 10_000 });
    expect(parts.length).toBe(10);
    for (const part of parts) expect(jpegSize(part.jpeg)).toEqual({ width: 320, height: 240 });
    const capture = camera.runs().find((argv) => argv.includes("-video_size"))!;
    expect(v4l2Input(capture)).toContain("yuyv422");
    expect(capture).toContain("yuv4mpegpipe");
    expect(camera.runs().some((argv) => argv.includes("-list_formats"))).toBe(false); // asked format: no probe

    const reencoding = fakeCamera("mjpeg,yuyv422");
    const small = await serve(reencoding, "--no-passthrough", "--jpeg-quality", "30", "--no-webrtc");
    const recorded = recordedJpegs(recordingOf("mjpeg", "320x240", "mjpeg"));
    const mean = (list: { jpeg: Uint8Array }[]) => list.reduce((n, p) => n + p.jpeg.length, 0) / list.length;
    const reencoded = await readParts(`${small.url}/video`, { count: 10, ms: 10_000 });
    expect(reencoded.some((p) => recorded.has(key(p.jpeg)))).toBe(false);
    expect(v4l2Input(reencoding.runs().find((argv) => argv.includes("-video_size"))!)).toContain("mjpeg");
    expect(mean(reencoded)).toBeLessThan(mean(parts));
  });
});

/** What a viewer was shown, part by part: the camera's own JPEG, NO SIGNAL, or something else. */
type Kind = "camera" | "no-signal" | "other";

/**
 * An MJPEG viewer on one connection, keeping the kind and hash of every part, until closed: the
 * tests below wait on what it has seen (bounded), not for a fixed time that a busy machine fills
 * with fewer pictures.
 */
function viewer(url: string, recorded: Set<string>): { readonly kinds: Kind[]; readonly keys: string[]; close(): void } {
  const abort = new AbortController();
  const client = { kinds: [] as Kind[], keys: [] as string[], close: () => abort.abort() };
  void (async () => {
    for await (const jpeg of mjpegParts(await fetch(url, { signal: abort.signal }))) {
      const k = key(jpeg);
      client.keys.push(k);
      client.kinds.push(recorded.has(k) ? "camera" : isNoSignal(jpeg) ? "no-signal" : "other");
    }
  })().catch(() => {});
  return client;
}

/** The camera's pictures after the first NO SIGNAL one. */
const cameraAfterGap = (kinds: Kind[]): number => {
  const gap = kinds.indexOf("no-signal");
  return gap < 0 ? 0 : kinds.slice(gap).filter((k) => k === "camera").length;
};

describe("recovery", () => {
  test("a capture killed mid-stream: the viewer keeps its connection, sees NO SIGNAL, then the camera again", async () => {
    const camera = fakeCamera("mjpeg");
    const server = await serve(camera, "--no-webrtc");
    const recorded = recordedJpegs(recordingOf("mjpeg", "320x240", "mjpeg"));
    const watching = viewer(`${server.url}/video`, recorded);
    try {
      await waitFor(() => watching.kinds.length > 10, 30_000, "the camera's first pictures");
      const [pid] = await captureProcesses(server.proc.pid);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid!, "SIGKILL");
      // One connection throughout: NO SIGNAL, then the camera again on it.
      await waitFor(() => cameraAfterGap(watching.kinds) >= 5, 60_000, `the camera back after NO SIGNAL (${watching.kinds.join(" ")})`);
      const kinds = [...watching.kinds];
      expect(kinds).not.toContain("other");
      expect(kinds.indexOf("no-signal")).toBeGreaterThan(10);
      expect(kinds.at(-1)).toBe("camera");
      expect(server.stderr()).toMatch(/restarting in 1 s/);
    } finally {
      watching.close();
    }
  });

  test("a camera unplugged at startup: the server starts and shows NO SIGNAL; the stream comes up when it is plugged in", async () => {
    const camera = fakeCamera("mjpeg", "unplugged");
    const server = await serve(camera, "--no-webrtc");
    const before = await fetch(`${server.url}/snapshot.jpg`);
    expect(before.status).toBe(200);
    expect(isNoSignal(new Uint8Array(await before.arrayBuffer()))).toBe(true);
    expect(server.stderr()).toMatch(/No such file or directory/);
    const recorded = recordedJpegs(recordingOf("mjpeg", "320x240", "mjpeg"));
    const watching = viewer(`${server.url}/video`, recorded);
    try {
      await waitFor(() => watching.kinds.length > 0, 30_000, "the first picture");
      camera.set("streaming");
      await waitFor(() => watching.kinds.filter((k) => k === "camera").length > 30, 60_000, "30 of the camera's pictures once plugged in");
      expect(watching.kinds[0]).toBe("no-signal");
      expect(watching.kinds).not.toContain("other");
    } finally {
      watching.close();
    }
  });

  test("a camera that stops delivering is restarted after --source-timeout; NO SIGNAL counts the time since the last frame", async () => {
    const camera = fakeCamera("mjpeg");
    const server = await serve(camera, "--no-webrtc", "--source-timeout", "2");
    const recorded = recordedJpegs(recordingOf("mjpeg", "320x240", "mjpeg"));
    await waitFor(async () => (await captureProcesses(server.proc.pid)).length === 1, 30_000, "the capture");
    camera.set("frozen");
    const watching = viewer(`${server.url}/video`, recorded);
    try {
      await waitFor(() => watching.kinds.includes("camera"), 30_000, "the camera's pictures before it freezes");
      for (const pid of await captureProcesses(server.proc.pid)) process.kill(pid, "SIGKILL"); // restarts frozen
      await waitFor(() => /no frame for 2 s/.test(server.stderr()), 30_000, "the source timeout");
      camera.set("streaming");
      const frozenAt = watching.kinds.lastIndexOf("camera");
      await waitFor(() => watching.kinds.slice(frozenAt + 1).includes("camera"), 60_000, "the camera back");
      expect(watching.kinds.filter((k) => k !== "camera").every((k) => k === "no-signal")).toBe(true);
      // The time since the last frame changes the picture each second.
      expect(new Set(watching.keys.filter((_, i) => watching.kinds[i] === "no-signal")).size).toBeGreaterThanOrEqual(3);
      expect(watching.kinds.at(-1)).toBe("camera");
    } finally {
      watching.close();
    }
  });
});

describe("bad camera options stop the program at startup, naming the option", () => {
  test.concurrent.each([
    [["--source", "/dev/video7", "--width", "320"], /--width: a V4L2 camera is asked for a whole size/],
    [["--input-format", "mjpeg"], /--input-format: applies to a camera/],
    [["--source", "/dev/video7", "--input-format", "bayer"], /--input-format: "bayer" is not allowed; expected one of auto, mjpeg, yuyv, yuv420, h264/],
    [["--rotate", "45"], /--rotate: "45" is not allowed; expected one of 0, 90, 180, 270/],
    [["--source", "/etc/hostname/../../dev/vid"], /--source/],
  ])("%p", async (args, message) => {
    const proc = Bun.spawn([process.execPath, "run", "src/cli.ts", "--port", "0", ...args], { stdout: "pipe", stderr: "pipe" });
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toMatch(message);
  });
});
