/**
 * The camera by default: without --source, glasscast serves the first camera
 * it finds (a Pi camera that rpicam-vid --list-cameras lists, else the first
 * V4L2 node that is a camera, the Pi's codec and ISP nodes set apart) and the
 * test pattern only when there is none, saying which and why in its start
 * line, in /api/streams and on the page. Run on fake machines: a sysfs folder
 * (GLASSCAST_V4L2_SYSFS) and the fake ffmpeg and rpicam-vid (--ffmpeg,
 * --rpicam), as a user points glasscast at their own tools.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FAKE_FFMPEG, FAKE_RPICAM, fakeCamera, isNoSignal } from "./helpers/camera.ts";
import { tempDir } from "./helpers/ffmpeg.ts";
import { readParts } from "./helpers/mjpeg-client.ts";
import { viewerSourceText } from "../src/routes/api.ts";
import { alwaysOnUnlessChosen, childPids, CLI, isAlive, startProgram, waitFor, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(90_000);

const scratch = tempDir("glasscast-default-source-");
const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(scratch, { recursive: true, force: true });
});

/** A sysfs folder: videoN/name for each node. */
function sysfs(name: string, nodes: Record<number, string>): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [n, node] of Object.entries(nodes)) {
    mkdirSync(join(dir, `video${n}`), { recursive: true });
    writeFileSync(join(dir, `video${n}`, "name"), `${node}\n`);
  }
  return dir;
}

/** A Raspberry Pi 4's own V4L2 nodes (codec, ISP, HEVC decoder) and a Pi 5's back end: none is a camera. */
const PI_NODES: Record<number, string> = {
  10: "bcm2835-codec-decode",
  11: "bcm2835-codec-encode",
  12: "bcm2835-codec-isp",
  13: "bcm2835-isp",
  14: "bcm2835-isp",
  15: "bcm2835-isp",
  16: "bcm2835-isp",
  19: "rpivid",
  20: "pispbe",
  21: "rpi-hevc-dec",
};

/** Stops the servers of the tests that ended, so that they do not slow the start-up a test times. */
async function stopFinishedServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
}

/** The CLI without --source, on a fake machine. */
async function serve(args: string[], env: Record<string, string>): Promise<RunningServer> {
  const server = await startProgram(
    [process.execPath, "run", CLI, "--host", "127.0.0.1", "--port", "0", "--ffmpeg", FAKE_FFMPEG, ...alwaysOnUnlessChosen(args), ...args],
    env,
  );
  servers.push(server);
  return server;
}

async function streams(server: RunningServer): Promise<{ source: string; state: string }[]> {
  return ((await (await fetch(`${server.url}/api/streams`)).json()) as { streams: { source: string; state: string }[] }).streams;
}

const startLine = (server: RunningServer) => server.stdout().split("\n")[0]!;

describe("no --source: the first camera found", () => {
  test("a webcam among the Pi's codec and ISP nodes is chosen, said so, and its frames arrive through ffmpeg", async () => {
    const camera = fakeCamera("mjpeg,yuyv422");
    const machine = sysfs("pi4-webcam", { ...PI_NODES, 0: "HD Pro Webcam C920", 1: "HD Pro Webcam C920" });
    // No Pi camera: rpicam-vid lists none.
    const server = await serve(["--rpicam", FAKE_RPICAM], { ...camera.env, FAKE_CAMERA_COUNT: "0", GLASSCAST_V4L2_SYSFS: machine });
    expect(startLine(server)).toMatch(/^glasscast \S+: camera \/dev\/video0 \(HD Pro Webcam C920; found, no --source given\) → http:\/\/127\.0\.0\.1:\d+\//);
    const parts = await readParts(`${server.url}/video`, { count: 20, ms: 60_000 });
    expect(parts.filter((p) => !isNoSignal(p.jpeg)).length).toBeGreaterThan(0);
    // The capture opened the webcam; the codec nodes were never probed (set apart by name).
    const runs = camera.runs();
    expect(runs.some((argv) => argv.includes("-i") && argv[argv.indexOf("-i") + 1] === "/dev/video0" && !argv.includes("-list_formats"))).toBe(true);
    expect(runs.flat().filter((a) => /^\/dev\/video(1\d|2\d)$/.test(a))).toEqual([]);
    const [stream] = await streams(server);
    expect(stream!.source).toBe("camera /dev/video0 (HD Pro Webcam C920; found, no --source given)");
  });

  test("only the Pi's own nodes (which an ffmpeg probe would open): no camera, the test pattern", async () => {
    const camera = fakeCamera();
    const server = await serve(["--rpicam", FAKE_RPICAM], { ...camera.env, FAKE_CAMERA_COUNT: "0", GLASSCAST_V4L2_SYSFS: sysfs("pi4-bare", PI_NODES) });
    expect(startLine(server)).toContain(
      ": test pattern (no camera found: no libcamera camera, no V4L2 camera (10 nodes, none a camera); no --source given) → http://",
    );
  });

  test("a Pi camera that rpicam-vid --list-cameras lists is libcamera:0, before a webcam", async () => {
    const camera = fakeCamera();
    const machine = sysfs("pi-both", { ...PI_NODES, 0: "HD Pro Webcam C920" });
    const server = await serve(["--rpicam", FAKE_RPICAM], { ...camera.env, GLASSCAST_V4L2_SYSFS: machine });
    expect(startLine(server)).toMatch(/: camera libcamera:0 \(imx708; found, no --source given\) → http:/);
    expect(camera.runs().some((argv) => argv.includes("--list-cameras"))).toBe(true);
    const parts = await readParts(`${server.url}/video`, { count: 20, ms: 60_000 });
    expect(parts.filter((p) => !isNoSignal(p.jpeg)).length).toBeGreaterThan(0);
    // The capture is rpicam-vid on camera 0.
    expect(camera.runs().some((argv) => argv.includes("--camera") && argv[argv.indexOf("--camera") + 1] === "0" && argv.includes("-o"))).toBe(true);
    expect((await streams(server))[0]!.source).toBe("camera libcamera:0 (imx708; found, no --source given)");
  });

  test("nothing found: the test pattern, with the reason in the start line and on the page's feed", async () => {
    const camera = fakeCamera();
    const server = await serve(["--rpicam", join(scratch, "no-such-rpicam-vid")], { ...camera.env, GLASSCAST_V4L2_SYSFS: join(scratch, "no-sysfs") });
    const line = startLine(server);
    expect(line).toContain(": test pattern (no camera found: no rpicam-vid, no V4L2 camera; no --source given) → http://");
    const [stream] = await streams(server);
    expect(stream!.source).toBe("test pattern (no camera found: no rpicam-vid, no V4L2 camera; no --source given)");
    const parts = await readParts(`${server.url}/video`, { count: 3, ms: 60_000 });
    expect(parts.length).toBe(3);
  });

  test("options that do not fit the camera found stop the program, naming it", async () => {
    const camera = fakeCamera();
    const machine = sysfs("webcam-half-size", { 0: "HD Pro Webcam C920" });
    const proc = Bun.spawn([process.execPath, "run", CLI, "--port", "0", "--ffmpeg", FAKE_FFMPEG, "--rpicam", join(scratch, "none"), "--width", "640"], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, ...camera.env, GLASSCAST_V4L2_SYSFS: machine },
    });
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toBe(
      "glasscast: --width: a V4L2 camera is asked for a whole size; give both --width and --height (see: glasscast devices)" +
        " (without --source, glasscast chose the camera /dev/video0 (HD Pro Webcam C920; found, no --source given); give --source testsrc for the test pattern)\n",
    );
  });

  test("a source in the --config file: no camera is looked for", async () => {
    const camera = fakeCamera();
    const config = join(scratch, "pattern.toml");
    writeFileSync(config, 'source = "testsrc"\n');
    const server = await serve(["--rpicam", FAKE_RPICAM, "--config", config], {
      ...camera.env,
      GLASSCAST_V4L2_SYSFS: sysfs("with-config", { 0: "HD Pro Webcam C920" }),
    });
    expect(startLine(server)).toMatch(/^glasscast \S+: test pattern → http:/);
    await waitFor(() => camera.runs().length > 0, 30_000, "the capture");
    expect(
      camera
        .runs()
        .flat()
        .filter((a) => a === "--list-cameras" || a === "-list_formats" || a.startsWith("/dev/video")),
    ).toEqual([]);
  });

  test("--source testsrc with cameras present: the test pattern, and no camera is looked for", async () => {
    const camera = fakeCamera();
    const machine = sysfs("pi-both-forced", { ...PI_NODES, 0: "HD Pro Webcam C920" });
    const server = await serve(["--rpicam", FAKE_RPICAM, "--source", "testsrc"], { ...camera.env, GLASSCAST_V4L2_SYSFS: machine });
    expect(startLine(server)).toMatch(/^glasscast \S+: test pattern → http:/);
    // The fake ffmpeg runs the pattern; neither fake was asked for its cameras or formats.
    await waitFor(() => camera.runs().length > 0, 30_000, "the capture");
    expect(
      camera
        .runs()
        .flat()
        .filter((a) => a === "--list-cameras" || a === "-list_formats" || a.startsWith("/dev/video")),
    ).toEqual([]);
    expect((await streams(server))[0]!.source).toBe("test pattern");
  });

  test("an rpicam-vid whose listing hangs is killed at its time limit: the webcam, with the reason", async () => {
    await stopFinishedServers();
    const camera = fakeCamera();
    camera.set("hung");
    const machine = sysfs("pi-hung", { ...PI_NODES, 0: "HD Pro Webcam C920" });
    const started = Date.now();
    const server = await serve(["--rpicam", FAKE_RPICAM], { ...camera.env, GLASSCAST_V4L2_SYSFS: machine });
    // The bound is 5 s: a detection that waited for rpicam-vid (which hangs for ever) would start late or never.
    // (The earlier tests' servers are stopped first, so that their captures do not slow this start-up.)
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(startLine(server)).toMatch(
      /: camera \/dev\/video0 \(HD Pro Webcam C920; found, no --source given; rpicam-vid: \S+ --list-cameras: no answer within 5 s \(killed\)\) → http:/,
    );
    // The hung lister is gone: no rpicam-vid left under the server.
    for (const pid of await childPids(server.proc.pid)) {
      const cmd = await Bun.file(`/proc/${pid}/cmdline`)
        .text()
        .catch(() => "");
      expect(cmd.includes("--list-cameras") && isAlive(pid)).toBe(false);
    }
  });

  test("a hung rpicam-vid and no other camera: the test pattern, saying why", async () => {
    await stopFinishedServers();
    const camera = fakeCamera();
    camera.set("hung");
    const server = await serve(["--rpicam", FAKE_RPICAM], { ...camera.env, GLASSCAST_V4L2_SYSFS: join(scratch, "no-sysfs") });
    expect(startLine(server)).toMatch(
      /: test pattern \(no camera found: rpicam-vid: \S+ --list-cameras: no answer within 5 s \(killed\), no V4L2 camera; no --source given\) → http:/,
    );
    await waitFor(async () => (await streams(server))[0]!.state === "running", 60_000, "the test pattern");
  });
});

test("/api/streams tells viewers a source without a URL's query (its password is masked already)", () => {
  expect(viewerSourceText("rtsp://***@192.0.2.10/stream1?token=s3cret&channel=1")).toBe("rtsp://***@192.0.2.10/stream1?***");
  expect(viewerSourceText("https://cam.example/live/index.m3u8")).toBe("https://cam.example/live/index.m3u8");
  expect(viewerSourceText("camera /dev/video0 (HD Pro Webcam C920; found, no --source given)")).toBe(
    "camera /dev/video0 (HD Pro Webcam C920; found, no --source given)",
  );
  expect(viewerSourceText("shots/*.jpg?")).toBe("shots/*.jpg?");
});
