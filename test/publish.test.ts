/**
 * --publish against real servers on 127.0.0.1: ffmpeg listening as an RTMP,
 * RTSP and SRT server (decoding every picture it gets), and a WHIP endpoint
 * with a werift receiver. The server is the real CLI (real capture, real
 * encoder). Checked: decoded pictures of the right size arrive, at the
 * source's rate; a listener killed and started again is published to again
 * (reconnects counted in /state) while an MJPEG viewer keeps its pictures;
 * WHIP's token, 201 + Location and DELETE; one H.264 encoder whatever the
 * number of destinations; no secret of any URL in stderr, /state or /metrics.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { createPushSource } from "../src/index.ts";
import { createGlasscast } from "../src/server.ts";
import { OptionError } from "../src/config/validate.ts";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { FAKE_FFMPEG, fakeCamera } from "./helpers/camera.ts";
import { mjpegParts } from "./helpers/mjpeg-client.ts";
import { parsePrometheus } from "./helpers/prometheus.ts";
import { freeTcpPort, freeUdpPort, startListener, startWhipEndpoint, type Listener, type WhipEndpoint } from "./helpers/publish-servers.ts";
import { childPids, processesWith, isAlive, startServer, waitFor, type RunningServer } from "./helpers/server.ts";

// A test may wait for a place (SIDE_BY_SIDE) before its own waits begin.
setDefaultTimeout(240_000);

const W = 320;
const H = 240;
/** A decoded 4:2:0 picture of W×H. */
const PICTURE_BYTES = (W * H * 3) / 2;
/** Small, slow pictures: the machine is shared; 10 fps also tells wall-clock timestamps from ffmpeg's 25 fps default. */
const SOURCE = ["--source", "testsrc", "--width", String(W), "--height", String(H), "--fps", "10", "--webrtc-candidate", "127.0.0.1"];

/** What a test started, undone in reverse when it ends. Each test has its own: they run side by side. */
type Cleanup = (() => Promise<unknown>)[];

/**
 * Tests that run at once. Each has its own server, listeners and ports and waits on conditions,
 * never on time, and most of each is waiting for a reconnect, a back-off or a stall the server
 * takes seconds for by design: three side by side overlap those waits, while more would only
 * make a busy machine start every server (a Bun process each) at the same time.
 */
const SIDE_BY_SIDE = 3;
let running = 0;
const queue: (() => void)[] = [];

/** A test body with its own cleanup, always run, once one of the SIDE_BY_SIDE places is free. */
function withCleanup(body: (cleanup: Cleanup) => Promise<void>): () => Promise<void> {
  return async () => {
    if (running >= SIDE_BY_SIDE) await new Promise<void>((resolve) => queue.push(resolve));
    else running++;
    const cleanup: Cleanup = [];
    try {
      await body(cleanup);
    } finally {
      for (const f of cleanup.reverse()) await f().catch(() => undefined);
      const next = queue.shift();
      if (next)
        next(); // the place passes to the next test
      else running--;
    }
  };
}

async function server(cleanup: Cleanup, args: string[]): Promise<RunningServer> {
  const s = await startServer([...SOURCE, "--log-level", "debug", ...args]);
  cleanup.push(() => s.stop());
  return s;
}

function listener(cleanup: Cleanup, protocol: "rtmp" | "rtsp" | "srt", port: number, srtOptions = ""): Listener {
  const l = startListener(protocol, port, "live/x", srtOptions);
  cleanup.push(() => l.kill());
  return l;
}

async function state(s: RunningServer): Promise<StatsSnapshot> {
  return (await fetch(`${s.url}/state`)).json() as Promise<StatsSnapshot>;
}

async function destinations(s: RunningServer) {
  return (await state(s)).streams[0]!.outputs.publish;
}

/** The server's children that run libx264 (an H.264 encoder). */
const encoders = (s: RunningServer): Promise<number> => processesWith(s.proc.pid, "libx264");

/** An MJPEG client that keeps reading (and counting whole parts) until closed. */
function watch(cleanup: Cleanup, url: string): { readonly parts: number; close(): void } {
  const abort = new AbortController();
  const client = { parts: 0, close: () => abort.abort() };
  void (async () => {
    const res = await fetch(url, { signal: abort.signal });
    for await (const _ of mjpegParts(res)) client.parts++;
  })().catch(() => {});
  cleanup.push(async () => client.close());
  return client;
}

/** Every picture decoded whole at W×H. */
function expectPictures(l: Listener, atLeast: number): void {
  expect(l.pictures.length).toBeGreaterThanOrEqual(atLeast);
  expect(l.dimensions()).toBe(`${W}x${H}`);
  expect(l.pictures.every((p) => p.size === PICTURE_BYTES)).toBe(true);
}

async function expectNoSecret(s: RunningServer, secrets: string[]): Promise<void> {
  const texts = { stderr: s.stderr(), state: await (await fetch(`${s.url}/state`)).text(), metrics: await (await fetch(`${s.url}/metrics`)).text() };
  for (const secret of secrets) {
    for (const [where, text] of Object.entries(texts)) expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
  }
}

describe("RTMP", () => {
  test.concurrent(
    "ffmpeg as an RTMP server decodes the stream at its rate; killed and restarted, it is published to again while MJPEG viewers keep their pictures",
    withCleanup(async (cleanup) => {
      const port = freeTcpPort();
      let rtmp = listener(cleanup, "rtmp", port);
      const s = await server(cleanup, ["--publish", `rtmp://bob:hunter22@127.0.0.1:${port}/live/x`]);
      await waitFor(() => rtmp.pictures.length >= 30, 90_000, `30 pictures at the RTMP listener (${rtmp.stderr()})`);
      expectPictures(rtmp, 30);
      // Wall-clock timestamps: 30 pictures of a 10 fps source span about 3 s (ffmpeg's 25 fps default would make it 1.2 s).
      const tb = rtmp.timeBase()!;
      const p = rtmp.pictures;
      const interval = ((p.at(-1)!.pts - p[0]!.pts) * tb) / (p.length - 1);
      expect(interval).toBeGreaterThan(0.07);
      expect(interval).toBeLessThan(0.2); // a loaded machine may capture a little slower, never faster

      let [d] = await destinations(s);
      expect(d).toMatchObject({ url: `rtmp://***@127.0.0.1:${port}/live/***`, protocol: "rtmp", state: "live", reconnects: 0 });
      expect(d!.bytes).toBeGreaterThan(0);
      expect(d!.frames).toBeGreaterThanOrEqual(30);
      expect(await encoders(s)).toBe(1);

      // The listener dies: the destination retries; an MJPEG viewer of the same stream keeps getting pictures meanwhile.
      const viewer = watch(cleanup, `${s.url}/video`);
      await waitFor(() => viewer.parts >= 3, 60_000, "the MJPEG viewer's first pictures");
      await rtmp.kill();
      await waitFor(async () => (await destinations(s))[0]!.state !== "live", 90_000, "the destination to notice the listener is gone");
      const atOutage = viewer.parts;
      [d] = await destinations(s);
      expect(d!.lastError).not.toBeNull();
      rtmp = listener(cleanup, "rtmp", port);
      await waitFor(() => rtmp.pictures.length >= 10, 120_000, `pictures at the restarted listener (${rtmp.stderr()})`);
      expectPictures(rtmp, 10);
      [d] = await destinations(s);
      expect(d!.state).toBe("live");
      expect(d!.reconnects).toBeGreaterThanOrEqual(1);
      expect(viewer.parts).toBeGreaterThan(atOutage + 5); // the outage lasted over a second at 10 fps
      const metrics = parsePrometheus(await (await fetch(`${s.url}/metrics`)).text());
      const destination = `rtmp://***@127.0.0.1:${port}/live/***`;
      expect(metrics.value("glasscast_publish_state", { stream: "main", destination, state: "live" })).toBe(1);
      expect(metrics.value("glasscast_publish_state", { stream: "main", destination, state: "retrying" })).toBe(0);
      expect(metrics.value("glasscast_publish_reconnects_total", { stream: "main", destination })).toBeGreaterThanOrEqual(1);
      expect(metrics.value("glasscast_publish_bytes_total", { stream: "main", destination })).toBeGreaterThan(0);
      await expectNoSecret(s, ["hunter22"]);
      expect(s.stderr()).toContain("event=publish.retry");
    }),
  );
});

describe("back-off", () => {
  test.concurrent(
    "a destination that refuses is tried again after 1, 2, 4 s (the sources' back-off), its state retrying in between",
    withCleanup(async (cleanup) => {
      const port = freeTcpPort(); // nobody listens
      const s = await server(cleanup, ["--publish", `rtmp://127.0.0.1:${port}/live/x`]);
      await waitFor(() => /retry_s=4\b/.test(s.stderr()), 90_000, "the third retry");
      const waits = [...s.stderr().matchAll(/event=publish\.retry .*retry_s=(\d+)/g)].map((m) => Number(m[1]));
      expect(waits.slice(0, 3)).toEqual([1, 2, 4]);
      const [d] = await destinations(s);
      expect(["retrying", "connecting"]).toContain(d!.state);
      expect(d!.reconnects).toBeGreaterThanOrEqual(2);
      expect(d!.lastError).toContain("Connection refused");
    }),
  );
});

describe("RTSP", () => {
  test.concurrent(
    "ffmpeg as an RTSP server (ANNOUNCE/RECORD over TCP) decodes the stream",
    withCleanup(async (cleanup) => {
      const port = freeTcpPort();
      const rtsp = listener(cleanup, "rtsp", port);
      const s = await server(cleanup, ["--publish", `main=rtsp://127.0.0.1:${port}/live/x`]);
      await waitFor(() => rtsp.pictures.length >= 20, 90_000, `20 pictures at the RTSP listener (${rtsp.stderr()})`);
      expectPictures(rtsp, 20);
      const [d] = await destinations(s);
      expect(d).toMatchObject({ protocol: "rtsp", state: "live" });
    }),
  );
});

const hasSrt = Bun.spawnSync(["ffmpeg", "-hide_banner", "-protocols"]).stdout.toString().split("Output:")[1]?.includes(" srt") ?? false;

describe.skipIf(!hasSrt)("SRT", () => {
  test.concurrent(
    "ffmpeg as an SRT listener (MPEG-TS, passphrase) decodes the stream; the passphrase is masked",
    withCleanup(async (cleanup) => {
      const port = await freeUdpPort();
      const passphrase = "correct-horse-battery";
      const srt = listener(cleanup, "srt", port, `&passphrase=${passphrase}`);
      const s = await server(cleanup, ["--publish", `srt://127.0.0.1:${port}?mode=caller&passphrase=${passphrase}`]);
      await waitFor(() => srt.pictures.length >= 20, 90_000, `20 pictures at the SRT listener (${srt.stderr()})`);
      expectPictures(srt, 20);
      const [d] = await destinations(s);
      expect(d).toMatchObject({ protocol: "srt", state: "live", url: `srt://127.0.0.1:${port}?mode=***&passphrase=***` });
      await expectNoSecret(s, [passphrase]);
    }),
  );
});

describe("WHIP", () => {
  test.concurrent(
    "werift publishes to a WHIP endpoint: bearer token, 201 + answer, pictures and keyframes, DELETE on stop",
    withCleanup(async (cleanup) => {
      const token = "whip-secret-token-42";
      const whip: WhipEndpoint = startWhipEndpoint(token);
      cleanup.push(() => whip.stop());
      const s = await server(cleanup, ["--publish", `whip+http://${token}@127.0.0.1:${whip.port}/whip/live`]);
      await waitFor(() => (whip.sessions[0]?.frames ?? 0) >= 20, 90_000, "20 pictures at the WHIP endpoint");
      const session = whip.sessions[0]!;
      expect(whip.authorizations[0]).toBe(`Bearer ${token}`);
      expect(session.keyframes).toBeGreaterThanOrEqual(1);
      expect(session.startedClean).toBe(true);
      const [d] = await destinations(s);
      expect(d).toMatchObject({ protocol: "whip", state: "live", url: `whip+http://***@127.0.0.1:${whip.port}/whip/live`, reconnects: 0 });
      await expectNoSecret(s, [token]);
      expect(await s.stop()).toBe(0);
      expect(session.deleted).toBe(true);
      expect(s.stderr()).not.toContain(token);
    }),
  );

  test.concurrent(
    "a refused token is retried with back-off and shown as the last error; --publish-token is sent when the URL has none",
    withCleanup(async (cleanup) => {
      const whip = startWhipEndpoint("the-right-token-123");
      cleanup.push(() => whip.stop());
      const s = await server(cleanup, ["--publish", `http://127.0.0.1:${whip.port}/whip/live`, "--publish-token", "a-wrong-token-456"]);
      await waitFor(() => whip.refused >= 2, 90_000, "two refused attempts");
      const [d] = await destinations(s);
      expect(d!.state).not.toBe("live");
      expect(d!.lastError).toContain("401");
      expect(d!.reconnects).toBeGreaterThanOrEqual(1);
      expect(whip.authorizations[0]).toBe("Bearer a-wrong-token-456");
      await expectNoSecret(s, ["a-wrong-token-456"]);
    }),
  );
});

describe("one encoder", () => {
  test.concurrent(
    "three destinations (RTMP, SRT, WHIP) and a WebRTC-free stream share one H.264 encoder",
    withCleanup(async (cleanup) => {
      const rtmpPort = freeTcpPort();
      const rtmp = listener(cleanup, "rtmp", rtmpPort);
      const whip = startWhipEndpoint();
      cleanup.push(() => whip.stop());
      const publish = ["--publish", `rtmp://127.0.0.1:${rtmpPort}/live/x`, "--publish", `whip+http://127.0.0.1:${whip.port}/whip/live`];
      let srt: Listener | null = null;
      if (hasSrt) {
        const srtPort = await freeUdpPort();
        srt = listener(cleanup, "srt", srtPort);
        publish.push("--publish", `srt://127.0.0.1:${srtPort}?mode=caller`);
      } else {
        publish.push("--publish", `rtsp://127.0.0.1:${freeTcpPort()}/nobody`); // a third destination all the same
      }
      const s = await server(cleanup, ["--no-webrtc", ...publish]);
      await waitFor(
        () => rtmp.pictures.length >= 15 && (whip.sessions[0]?.frames ?? 0) >= 15 && (srt === null || srt.pictures.length >= 15),
        120_000,
        "15 pictures at every destination",
      );
      expect(await encoders(s)).toBe(1);
      const st = (await state(s)).streams[0]!;
      expect(st.encoders.h264?.running).toBe(true); // shown although there is no WebRTC
      expect(st.outputs.webrtc).toBeNull();
      const ds = st.outputs.publish;
      expect(ds).toHaveLength(3);
      expect(ds.filter((d) => d.state === "live").length).toBeGreaterThanOrEqual(hasSrt ? 3 : 2);
      // Shutdown stops every push child with the encoder and the capture.
      const children = await childPids(s.proc.pid);
      expect(children.length).toBeGreaterThanOrEqual(2 + (hasSrt ? 2 : 1));
      expect(await s.stop()).toBe(0);
      await waitFor(() => children.every((pid) => !isAlive(pid)), 30_000, "every child process gone");
    }),
  );
});

describe("a destination that blocks", () => {
  test.concurrent(
    "its queue stays bounded: access units are skipped, it is closed and tried again, and the MJPEG viewer keeps its pictures",
    withCleanup(async (cleanup) => {
      // Accepts, reads and never answers: ffmpeg's RTMP handshake waits for ever, and stops reading its stdin.
      let connections = 0;
      const sink = Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: {
          open() {
            connections++;
          },
          data() {},
        },
      });
      cleanup.push(async () => sink.stop(true));
      // Bigger pictures, so that the queue (1 MiB) fills in seconds.
      const s = await startServer([
        "--source",
        "testsrc",
        "--width",
        "640",
        "--height",
        "480",
        "--fps",
        "30",
        "--h264-bitrate",
        "6000",
        "--publish",
        `rtmp://127.0.0.1:${sink.port}/live/x`,
      ]);
      cleanup.push(() => s.stop());
      const viewer = watch(cleanup, `${s.url}/video`);
      await waitFor(async () => (await destinations(s))[0]!.skipped > 0, 120_000, "the blocked destination to skip access units");
      const skippingFrom = viewer.parts;
      let [d] = await destinations(s);
      expect(d!.state).toBe("connecting");
      // Nothing taken for 10 s: closed and made again.
      await waitFor(async () => (await destinations(s))[0]!.reconnects >= 1 && connections >= 2, 120_000, "a new connection after the stall");
      [d] = await destinations(s);
      expect(d!.lastError).toContain("it took nothing for 10 s");
      expect(d!.frames).toBeGreaterThan(0);
      // Capture and the MJPEG viewer were not held up meanwhile (over 10 s at 30 fps; a loaded machine still gets well past 30).
      expect(viewer.parts - skippingFrom).toBeGreaterThan(30);
      const st = await state(s);
      expect(st.streams[0]!.state).toBe("running");
      // Bounded: the queue (1 MiB) and the pipe took what they hold, and the rest was skipped, not buffered.
      expect(d!.bytes).toBeLessThan(3 * 1024 * 1024);
      expect(d!.frames).toBeLessThan(st.streams[0]!.encoders.h264!.accessUnits / 2);
    }),
  );
});

describe("WHIP reconnects", () => {
  test.concurrent(
    "an endpoint that closes the session and comes back on the same port is published to again",
    withCleanup(async (cleanup) => {
      let whip = startWhipEndpoint();
      cleanup.push(() => whip.stop());
      const port = whip.port;
      const s = await server(cleanup, ["--publish", `whip+http://127.0.0.1:${port}/whip/live`]);
      await waitFor(() => (whip.sessions[0]?.frames ?? 0) >= 10, 90_000, "10 pictures at the WHIP endpoint");
      await whip.stop(); // closes its peer connection (a DTLS close alert) and stops answering
      // Noticed by the DTLS close alert, or at the latest when its RTCP reports stop for 10 s.
      await waitFor(async () => (await destinations(s))[0]!.state !== "live", 90_000, "the destination to notice the session is gone");
      whip = startWhipEndpoint(null, port);
      cleanup.push(() => whip.stop());
      await waitFor(() => (whip.sessions.at(-1)?.frames ?? 0) >= 10, 120_000, "10 pictures at the restarted endpoint");
      const [d] = await destinations(s);
      expect(d).toMatchObject({ state: "live" });
      expect(d!.reconnects).toBeGreaterThanOrEqual(1);
      expect(whip.sessions.at(-1)!.startedClean).toBe(true);
    }),
  );
});

describe("an H.264 camera", () => {
  test.concurrent(
    "its own H.264 is published untouched: no encoder, even with --no-webrtc (auto asks the camera for H.264)",
    withCleanup(async (cleanup) => {
      const camera = fakeCamera("mjpeg,yuyv422,h264");
      const port = freeTcpPort();
      const rtmp = listener(cleanup, "rtmp", port);
      const s = await startServer(
        [
          "--ffmpeg",
          FAKE_FFMPEG,
          "--source",
          "/dev/video7",
          "--width",
          String(W),
          "--height",
          String(H),
          "--fps",
          "30",
          "--no-webrtc",
          "--publish",
          `rtmp://127.0.0.1:${port}/live/x`,
        ],
        camera.env,
      );
      cleanup.push(() => s.stop());
      await waitFor(() => rtmp.pictures.length >= 30, 90_000, `30 pictures at the RTMP listener (${rtmp.stderr()})`);
      expectPictures(rtmp, 30);
      expect(await encoders(s)).toBe(0);
      const st = (await state(s)).streams[0]!;
      expect(st.encoders.h264).toMatchObject({ running: true, passthrough: true, pid: null });
      const capture = camera.runs().find((argv) => argv.includes("-video_size"))!;
      expect(capture.join(" ")).toContain("-input_format h264");
    }),
  );
});

describe("a program's own stream", () => {
  test.concurrent(
    "createGlasscast({ streams, publish }) publishes a pushed stream by its name; a name that is none is refused",
    withCleanup(async (cleanup) => {
      const whip = startWhipEndpoint();
      cleanup.push(() => whip.stop());
      const push = createPushSource();
      let level = 0;
      const timer = setInterval(() => push.push({ format: "gray", width: 64, height: 48, data: new Uint8Array(64 * 48).fill(level++ % 256) }), 50);
      cleanup.push(async () => clearInterval(timer));
      const gc = await createGlasscast({
        host: "127.0.0.1",
        port: 0,
        logLevel: "error",
        webrtcCandidate: ["127.0.0.1"],
        streams: [{ name: "robot", source: push.source }],
        publish: [`robot=whip+http://127.0.0.1:${whip.port}/whip/live`],
      });
      cleanup.push(() => gc.close());
      await waitFor(() => (whip.sessions[0]?.frames ?? 0) >= 10, 90_000, "10 pictures of the pushed stream at the WHIP endpoint");
      expect(whip.sessions[0]!.startedClean).toBe(true);
      expect(gc.streams[0]!.publish![0]!.report()).toMatchObject({ state: "live", protocol: "whip" });
      await gc.close();
      expect(whip.sessions[0]!.deleted).toBe(true);

      const refused = createGlasscast({
        port: 0,
        logLevel: "error",
        streams: [{ name: "robot", source: createPushSource().source }],
        publish: ["arm=rtmp://h/live/x"],
      });
      await expect(refused).rejects.toThrow(OptionError);
      await expect(refused).rejects.toThrow(/--publish: arm="rtmp:\/\/h\/live\/\*\*\*" names the stream "arm"/);
    }),
  );
});
