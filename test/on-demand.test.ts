/**
 * On demand (the default for a capture glasscast runs; --on-demand for every
 * stream): a stream captures only while someone watches (MJPEG, a
 * snapshot, WebRTC) and stops --on-demand-linger seconds after the last viewer;
 * --always-on captures from the start; a program's own stream takes its frames
 * with no viewer unless --on-demand is given;
 * --mjpeg-max-viewers caps MJPEG viewers with a 503 that says why; each viewer's
 * join and leave, and each source restart, is one structured log line.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { jpegSize } from "../src/media/jpeg-splitter.ts";
import { readParts } from "./helpers/mjpeg-client.ts";
import { childPids, CLI, processesWith, startServer, waitFor, type RunningServer } from "./helpers/server.ts";
import { withApp } from "./helpers/in-process.ts";
import { connectViewer } from "./helpers/webrtc-client.ts";

setDefaultTimeout(60_000);

const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function serve(...args: string[]): Promise<RunningServer> {
  const server = await startServer(["--width", "320", "--height", "240", ...args]);
  servers.push(server);
  return server;
}

/** ffmpeg processes of the server (capture or encoder). */
function ffmpegs(server: RunningServer, what = "testsrc2"): Promise<number> {
  return processesWith(server.proc.pid, what);
}

test("no capture while nobody watches; a viewer starts it, and it stops --on-demand-linger after the last one leaves", async () => {
  const server = await serve("--on-demand", "--on-demand-linger", "1", "--no-webrtc");
  await Bun.sleep(1500);
  expect(await ffmpegs(server)).toBe(0);
  const state = async () => ((await (await fetch(`${server.url}/api/streams`)).json()) as { streams: { state: string }[] }).streams[0]!.state;
  expect(await state()).toBe("idle");

  const parts = await readParts(`${server.url}/video`, { count: 15, ms: 30_000 });
  expect(parts.length).toBe(15);
  expect(await ffmpegs(server)).toBe(1);
  // The process goes first; the stream says idle once its capture run has ended (a moment later on a busy machine).
  await waitFor(async () => (await ffmpegs(server)) === 0 && (await state()) === "idle", 30_000, "the capture to stop after the viewer left");
  expect(await ffmpegs(server)).toBe(0);
  expect(await state()).toBe("idle");
  expect(server.stderr()).toMatch(/capture stopped, no viewer for 1 s/);

  // A snapshot of an idle stream starts it, waits for a fresh picture, and lets it stop again.
  const snapshot = await fetch(`${server.url}/snapshot.jpg`);
  expect(snapshot.status).toBe(200);
  expect(jpegSize(new Uint8Array(await snapshot.arrayBuffer()))).toEqual({ width: 320, height: 240 });
  await waitFor(async () => (await ffmpegs(server)) === 0, 30_000, "the capture to stop after the snapshot");
});

test("by default the capture runs only while watched (healthy while idle); --always-on runs it from the start", async () => {
  // --no-always-on is the default, said out loud: the test helper adds --always-on unless told how to capture.
  const server = await serve("--no-always-on", "--on-demand-linger", "1", "--no-webrtc");
  const always = await serve("--always-on", "--no-webrtc");
  await waitFor(async () => (await ffmpegs(always)) === 1, 30_000, "the --always-on capture");
  expect(await ffmpegs(server)).toBe(0);
  const health = await fetch(`${server.url}/healthz`);
  expect(health.status).toBe(200);
  const state = ((await (await fetch(`${server.url}/state`)).json()) as { streams: { state: string; capturing: boolean }[] }).streams[0]!;
  expect(state).toMatchObject({ state: "idle", capturing: false });
  const snapshot = await fetch(`${server.url}/snapshot.jpg`);
  expect(snapshot.status).toBe(200);
  expect(jpegSize(new Uint8Array(await snapshot.arrayBuffer()))).toEqual({ width: 320, height: 240 });
  await waitFor(async () => (await ffmpegs(server)) === 0, 30_000, "the capture to stop after the snapshot");
  expect(await ffmpegs(always)).toBe(1);
});

test("--always-on with --on-demand stops the program with a message naming the option", async () => {
  const proc = Bun.spawn([process.execPath, "run", CLI, "--source", "testsrc", "--port", "0", "--always-on", "--on-demand"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toContain("--always-on: cannot be used with --on-demand");
});

test("a program's own stream takes its frames with no viewer by default, and waits for one with --on-demand", async () => {
  for (const onDemand of [false, true]) {
    await withApp({ onDemand }, async ({ gc }) => {
      const stream = gc.streams.find((p) => p.name === "main")!.stream;
      expect(stream.capturing).toBe(!onDemand);
    });
  }
});

test("a WebRTC viewer starts an idle stream too, and its leaving lets it stop", async () => {
  const server = await serve("--on-demand", "--on-demand-linger", "1");
  expect(await ffmpegs(server)).toBe(0);
  const viewer = await connectViewer(server.url);
  await waitFor(() => viewer.received.frames >= 15, 30_000, "access units at the viewer");
  expect(await ffmpegs(server)).toBe(1);
  await viewer.close();
  await waitFor(async () => (await ffmpegs(server, "ffmpeg")) === 0, 30_000, "capture and encoder to stop");
});

test("--mjpeg-max-viewers: past it /video answers 503 with the reason; a place that frees up is taken again", async () => {
  const server = await serve("--mjpeg-max-viewers", "2", "--no-webrtc");
  const hold = [new AbortController(), new AbortController()];
  const open = await Promise.all(hold.map((c) => fetch(`${server.url}/video`, { signal: c.signal })));
  expect(open.map((r) => r.status)).toEqual([200, 200]);
  const third = await fetch(`${server.url}/video`);
  expect(third.status).toBe(503);
  expect(((await third.json()) as { detail: string }).detail).toMatch(/too many MJPEG viewers: the most is 2 \(--mjpeg-max-viewers\)/);
  expect((await fetch(`${server.url}/?action=stream`)).status).toBe(503);
  expect((await fetch(`${server.url}/snapshot.jpg`)).status).toBe(200); // snapshots are not capped
  hold[0]!.abort();
  await waitFor(
    async () => {
      const again = await fetch(`${server.url}/video`);
      const ok = again.status === 200;
      await again.body?.cancel();
      return ok;
    },
    30_000,
    "a freed place",
  );
  hold[1]!.abort();
});

test("--log-format json: one object per line; a viewer's join and leave, and a source restart, each with their fields", async () => {
  const server = await serve("--log-format", "json", "--no-webrtc");
  await readParts(`${server.url}/video`, { count: 5, ms: 30_000 });
  await waitFor(() => server.stderr().includes("viewer.leave"), 30_000, "the leave line");
  const [capture] = await childPids(server.proc.pid);
  process.kill(capture!, "SIGKILL");
  await waitFor(() => server.stderr().includes("source.restart"), 30_000, "the restart line");
  const events = server
    .stderr()
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const e of events) expect(typeof e.time === "string" && typeof e.level === "string" && typeof e.msg === "string").toBe(true);
  const join = events.find((e) => e.event === "viewer.join")!;
  expect(join).toMatchObject({ level: "info", stream: "main", transport: "mjpeg", addr: "127.0.0.1", viewers: 1 });
  const leave = events.find((e) => e.event === "viewer.leave")!;
  expect(leave).toMatchObject({ stream: "main", transport: "mjpeg", viewer: join.viewer, viewers: 0 });
  expect(leave.frames).toBeGreaterThanOrEqual(5);
  expect(events.find((e) => e.event === "source.restart")).toMatchObject({ level: "warn", stream: "main", restarts: 1, retry_s: 1 });
});
