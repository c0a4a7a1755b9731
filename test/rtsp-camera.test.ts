/**
 * RTSP with the rest of the program: an H.264 camera (the fake V4L2 ffmpeg
 * and the fake rpicam-vid) reaches RTSP clients untouched, with no encoder;
 * --on-demand capture starts with the first RTSP client and stops after the
 * last; bad --rtsp-* options and a taken --rtsp-port exit 2 naming the option.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { CLI } from "./helpers/server.ts";
import { FAKE_FFMPEG, FAKE_RPICAM, fakeCamera, processesWith } from "./helpers/camera.ts";
import { ffmpegRtsp, freePort, RtspClient, waitForAccessUnits } from "./helpers/rtsp.ts";
import { startServer, waitFor, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(90_000);

const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function serve(args: string[], env: Record<string, string> = {}): Promise<{ server: RunningServer; base: string; port: number }> {
  const port = freePort();
  const server = await startServer(["--rtsp-port", String(port), ...args], env);
  servers.push(server);
  return { server, base: `rtsp://127.0.0.1:${port}`, port };
}

describe("cameras' own H.264", () => {
  test("a V4L2 H.264 camera: RTSP clients get its access units with no encoder process; ffmpeg decodes them", async () => {
    const camera = fakeCamera("mjpeg,yuyv422,h264");
    // No WebRTC: RTSP alone makes `auto` ask the camera for H.264.
    const { server, base, port } = await serve(
      ["--ffmpeg", FAKE_FFMPEG, "--source", "/dev/video7", "--width", "320", "--height", "240", "--fps", "30", "--no-webrtc"],
      camera.env,
    );
    const c = await RtspClient.connect("127.0.0.1", port);
    try {
      await c.play(`${base}/`);
      await waitForAccessUnits(c, 45, 20_000);
      expect(c.counts.startedClean).toBe(true);
      expect(c.counts.sequenceGaps).toBe(0);
      expect(await processesWith(server.proc.pid, "libx264")).toBe(0);
      const capture = camera.runs().find((argv) => argv.includes("-video_size"))!;
      expect(capture.join(" ")).toContain("-input_format h264");
      expect(capture.join(" ")).toContain("-c:v copy");
      const r = await ffmpegRtsp(`${base}/`, "tcp", 30);
      expect(r.frameTimes.length).toBe(30);
      expect(new Set(r.frameSizes)).toEqual(new Set([320 * 240 * 1.5]));
    } finally {
      c.close();
    }
  });

  test("a Pi camera (rpicam-vid's H.264 with inline headers) reaches RTSP with no encoder", async () => {
    const camera = fakeCamera();
    const { server, base, port } = await serve(
      ["--rpicam", FAKE_RPICAM, "--source", "libcamera:0", "--width", "640", "--height", "480", "--fps", "30", "--no-webrtc"],
      camera.env,
    );
    const c = await RtspClient.connect("127.0.0.1", port);
    try {
      await c.play(`${base}/`);
      await waitForAccessUnits(c, 30, 20_000);
      expect(c.counts.startedClean).toBe(true);
      expect(await processesWith(server.proc.pid, "libx264")).toBe(0);
      expect(camera.runs()[0]!.join(" ")).toContain("--codec h264 --inline");
    } finally {
      c.close();
    }
  });
});

test("--on-demand: no capture until an RTSP client comes (DESCRIBE waits for the first keyframe); it stops after the last leaves", async () => {
  const { server, base, port } = await serve(["--width", "320", "--height", "240", "--on-demand", "--on-demand-linger", "1", "--no-webrtc"]);
  const captures = () => processesWith(server.proc.pid, "testsrc2");
  await Bun.sleep(1000);
  expect(await captures()).toBe(0);
  const c = await RtspClient.connect("127.0.0.1", port);
  try {
    const { describe } = await c.play(`${base}/`);
    expect(describe.body).toContain("sprop-parameter-sets=");
    await waitForAccessUnits(c, 30, 20_000);
    expect(c.counts.startedClean).toBe(true);
    expect(await captures()).toBe(1);
    expect((await c.request("TEARDOWN", `${base}/`)).status).toBe(200);
  } finally {
    c.close();
  }
  // The encoder lingers 5 s, the capture --on-demand-linger after the last hold.
  await waitFor(async () => (await captures()) === 0, 20_000, "the capture to stop after the RTSP client left");
});

describe("options", () => {
  const cli = (args: string[]) => {
    const r = Bun.spawnSync([process.execPath, "run", CLI, "--host", "127.0.0.1", "--port", "0", ...args], { timeout: 20_000 });
    return { code: r.exitCode, stderr: r.stderr.toString() };
  };

  test("bad --rtsp-port and --rtsp-max-clients values exit 2 naming the option", () => {
    for (const [args, message] of [
      [["--rtsp-port", "70000"], /--rtsp-port: "70000" is not allowed; expected an integer from 0 to 65535/],
      [["--rtsp-port", "x"], /--rtsp-port: "x" is not allowed/],
      [["--rtsp-max-clients", "0"], /--rtsp-max-clients: "0" is not allowed; expected an integer from 1 to 10000/],
    ] as const) {
      const r = cli([...args]);
      expect({ args, code: r.code, ok: message.test(r.stderr) }).toEqual({ args, code: 2, ok: true });
    }
  });

  test("a --rtsp-port that is taken exits 2 naming --rtsp-port", () => {
    const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const r = cli(["--rtsp-port", String(taken.port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--rtsp-port: cannot listen on 127.0.0.1:${taken.port}`);
    } finally {
      taken.stop(true);
    }
  });

  test("SIGTERM with RTSP clients playing: they are disconnected and the server exits 0", async () => {
    const { server, base, port } = await serve(["--width", "320", "--height", "240"]);
    const c = await RtspClient.connect("127.0.0.1", port);
    await c.play(`${base}/`);
    await waitForAccessUnits(c, 10, 20_000);
    const code = await Promise.race([server.stop("SIGTERM"), Bun.sleep(15_000).then(() => "timeout")]);
    expect(code).toBe(0);
    await Promise.race([c.ended, Bun.sleep(5000)]);
    expect(c.closed).toBe(true);
  });

  test("--rtsp-port 0: no RTSP server (and /state says so)", async () => {
    const server = await startServer(["--width", "320", "--height", "240", "--rtsp-port", "0"]);
    servers.push(server);
    const state = (await (await fetch(`${server.url}/state`)).json()) as { totals: { rtspClients: number | null }; streams: { outputs: { rtsp: unknown } }[] };
    expect(state.totals.rtspClients).toBeNull();
    expect(state.streams[0]!.outputs.rtsp).toBeNull();
  });
});
