/**
 * WebRTC as a client meets it, with werift viewers on loopback: every peer
 * gets the stream from one shared encoder, a new peer starts at a keyframe,
 * each peer is closed only by its own id, WHEP works, bad requests get a 4xx
 * and harm nobody, and peers that come and go leave nothing behind.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { RTCPeerConnection } from "werift";
import { connectViewer, kernelUdpDrops, socketInodes, waitForFrames, type TestViewer } from "./helpers/webrtc-client.ts";
import { withApp } from "./helpers/in-process.ts";
import { startServer, waitFor, withServer, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(120_000);

const json = (body: unknown) => ({ method: "POST", body: JSON.stringify(body) });

/** ffmpeg children of the server: the capture, and the H.264 encoder while it runs. */
function ffmpegCommands(pid: number): string[] {
  const out = Bun.spawnSync(["pgrep", "-a", "-P", String(pid), "ffmpeg"])
    .stdout.toString()
    .trim();
  return out ? out.split("\n") : [];
}
const encoders = (pid: number) => ffmpegCommands(pid).filter((c) => c.includes("libx264"));

/** UDP sockets the process holds: how many (see udpPorts). */
const udpSockets = (pid: number): number => udpPorts(pid).length;

describe("one stream, several peers", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--webrtc-candidate", "127.0.0.1", "--width", "640", "--height", "360"]);
  });
  afterAll(async () => {
    await server.stop();
  });

  test("a werift peer receives H.264 at the source's rate, starting at a keyframe with SPS/PPS", async () => {
    const viewer = await connectViewer(server.url);
    try {
      expect(await waitForFrames(viewer, 61, 60_000)).toBeGreaterThan(60); // ~2 s at 30 fps
      expect(viewer.received.startedClean).toBe(true);
      expect(viewer.received.keyframes).toBeGreaterThanOrEqual(2); // --h264-keyint 30
      // Every packet the server sent arrived, save those the kernel dropped at this (starved) client's
      // full socket buffer: the server skips no sequence number.
      expect(viewer.received.missingPackets).toBeLessThanOrEqual(kernelUdpDrops());
      expect(viewer.received.firstFrameMs).not.toBeNull();
    } finally {
      await viewer.close();
    }
  });

  test("five peers share ONE encoder; /close_connection closes only its caller", async () => {
    const viewers: TestViewer[] = [];
    for (let i = 0; i < 5; i++) viewers.push(await connectViewer(server.url));
    try {
      for (const v of viewers) expect(await waitForFrames(v, 1, 60_000)).toBeGreaterThan(0);
      expect(encoders(server.proc.pid)).toHaveLength(1);
      const state = (await (await fetch(`${server.url}/api/streams`)).json()) as { streams: { webrtcViewers: number }[] };
      expect(state.streams[0]!.webrtcViewers).toBe(5);

      const [gone, ...rest] = viewers;
      const res = await fetch(`${server.url}/close_connection`, { method: "POST", body: gone!.id! });
      expect(await res.text()).toBe("OK");
      // vidgear's page posts "1" when it unloads: it names no peer, and closes nobody.
      expect(await (await fetch(`${server.url}/close_connection`, { method: "POST", body: "1" })).text()).toBe("OK");
      // The others play on: 31 more frames each, which also lets in whatever was in flight to the closed
      // one; during the others' next 31 frames it gets nothing at all (no sleep, no rate).
      for (const v of rest) {
        const before = v.received.frames;
        expect((await waitForFrames(v, before + 31)) - before).toBeGreaterThan(30);
      }
      const goneBefore = gone!.received.frames;
      for (const v of rest) {
        const before = v.received.frames;
        expect((await waitForFrames(v, before + 31)) - before).toBeGreaterThan(30);
      }
      expect(gone!.received.frames).toBe(goneBefore);
    } finally {
      await Promise.all(viewers.map((v) => v.close()));
    }
  });

  test("WHEP: POST /whep answers 201 with an SDP and a Location; DELETE on it ends the session", async () => {
    const viewer = await connectViewer(server.url, { whep: "/whep" });
    try {
      expect(viewer.location).toMatch(/^\/whep\/session\/[0-9a-f-]{36}$/);
      expect(await waitForFrames(viewer, 16, 60_000)).toBeGreaterThan(15);
      const del = await fetch(`${server.url}${viewer.location}`, { method: "DELETE" });
      expect(del.status).toBe(200);
      await Bun.sleep(300);
      const frames = viewer.received.frames;
      await Bun.sleep(1000);
      expect(viewer.received.frames - frames).toBeLessThanOrEqual(1);
      expect((await fetch(`${server.url}${viewer.location}`, { method: "DELETE" })).status).toBe(404);
    } finally {
      await viewer.vanish();
    }
  });

  test("bad requests get a 4xx with a JSON detail; a watching peer is not disturbed", async () => {
    const watcher = await connectViewer(server.url);
    try {
      const start = await waitForFrames(watcher, 1, 60_000);
      const cases: [RequestInit & { path?: string }, number, RegExp][] = [
        [{ method: "POST", body: "{not json" }, 400, /not JSON/],
        [json({ type: "offer" }), 400, /expected \{"sdp"/],
        [json({ sdp: "hello", type: "offer" }), 400, /expected \{"sdp"/],
        [json({ sdp: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ngarbage\r\n", type: "offer" }), 400, /offer/],
        [json({ sdp: "v=0".padEnd(70_000, "x"), type: "offer" }), 413, /larger than/],
        [{ ...json({ sdp: "v=0", type: "offer", stream: "nope" }) }, 404, /no stream "nope"/],
        [{ path: "/whep", method: "POST", body: "v=0", headers: { "content-type": "text/plain" } }, 415, /application\/sdp/],
        [{ path: "/whep", method: "POST", body: "nonsense", headers: { "content-type": "application/sdp" } }, 400, /not an SDP offer/],
        [{ path: "/whep/session/nope", method: "PATCH", body: "a=candidate" }, 405, /PATCH is not allowed here/],
      ];
      for (const [init, status, detail] of cases) {
        const res = await fetch(`${server.url}${init.path ?? "/offer"}`, init);
        expect(res.status).toBe(status);
        expect(((await res.json()) as { detail: string }).detail).toMatch(detail);
      }
      // An offer without video (audio only) cannot be answered.
      const audioOnly = new RTCPeerConnection({ iceServers: [] });
      audioOnly.addTransceiver("audio", { direction: "recvonly" });
      await audioOnly.setLocalDescription(await audioOnly.createOffer());
      const res = await fetch(`${server.url}/offer`, json({ sdp: audioOnly.localDescription!.sdp, type: "offer" }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/no video/);
      await audioOnly.close();
      expect((await waitForFrames(watcher, start + 21, 60_000)) - start).toBeGreaterThan(20); // it kept its picture
    } finally {
      await watcher.close();
    }
  });
});

test.concurrent("30 connect/disconnect cycles leave no UDP socket behind; the encoder stops after the last peer", async () => {
  await withServer(["--webrtc-candidate", "127.0.0.1", "--width", "320", "--height", "240"], async (server) => {
    const pid = server.proc.pid;
    const baseline = udpSockets(pid);
    for (let i = 0; i < 30; i++) {
      const viewer = await connectViewer(server.url);
      await waitFor(() => viewer.received.frames > 0, 30_000, "a first frame");
      // Half close politely, half just vanish (the server drops them when ICE consent fails).
      await (i % 2 === 0 ? viewer.close() : viewer.vanish());
    }
    await waitFor(
      async () => {
        const s = (await (await fetch(`${server.url}/api/streams`)).json()) as { streams: { webrtcViewers: number }[] };
        return s.streams[0]!.webrtcViewers === 0;
      },
      30_000,
      "every peer to be dropped",
    );
    expect(udpSockets(pid)).toBeLessThanOrEqual(baseline);
    await waitFor(() => encoders(pid).length === 0, 30_000, "the encoder to stop");
    expect(ffmpegCommands(pid)).toHaveLength(1); // the capture alone
  });
});

test.concurrent("--webrtc-max-peers: past it, 503 with a JSON reason", async () => {
  await withServer(["--webrtc-candidate", "127.0.0.1", "--webrtc-max-peers", "1", "--width", "320", "--height", "240"], async (server) => {
    const first = await connectViewer(server.url);
    try {
      const res = await fetch(`${server.url}/offer`, json({ sdp: "v=0\r\n", type: "offer" }));
      expect(res.status).toBe(503);
      expect(((await res.json()) as { detail: string }).detail).toContain("--webrtc-max-peers");
    } finally {
      await first.close();
    }
  });
});

/** Local UDP ports the process holds (its fds that are sockets listed in /proc/net/udp). */
function udpPorts(pid: number): number[] {
  const inodes = socketInodes(pid);
  return ["/proc/net/udp", "/proc/net/udp6"]
    .flatMap((f) => readFileSync(f, "utf8").trim().split("\n").slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => inodes.has(cols[9]!))
    .map((cols) => parseInt(cols[1]!.split(":")[1]!, 16));
}

test.concurrent("--webrtc-port-range: peers' media sockets use only those ports", async () => {
  await withServer(["--webrtc-candidate", "127.0.0.1", "--webrtc-port-range", "42100-42120", "--width", "320", "--height", "240"], async (server) => {
    const viewers = [await connectViewer(server.url), await connectViewer(server.url)];
    try {
      await waitFor(() => viewers.every((v) => v.received.frames > 0), 30_000, "frames");
      const ports = udpPorts(server.proc.pid);
      expect(ports.length).toBeGreaterThanOrEqual(2);
      for (const port of ports) {
        expect(port).toBeGreaterThanOrEqual(42100);
        expect(port).toBeLessThanOrEqual(42120);
      }
    } finally {
      await Promise.all(viewers.map((v) => v.close()));
    }
  });
});

// Routes and the page's settings: the answer is the app's, asked in process (no server, no capture).
test("--no-webrtc: no signalling routes, the page plays MJPEG only", async () => {
  await withApp({ webrtc: false }, async ({ ask }) => {
    expect((await ask("POST", "/offer", {}, JSON.stringify({ sdp: "v=0", type: "offer" }))).status).toBe(404);
    expect(await (await ask("GET", "/")).text()).toContain(`"transports":["mjpeg"]`);
  });
});

test("--ice-server and TURN credentials reach the page's WebRTC settings; no public STUN is used by default", async () => {
  const iceConfig = { iceServer: ["stun:127.0.0.1:3478", "turn:127.0.0.1:3478"], iceUsername: "cam", iceCredential: "s3cret" };
  await withApp(iceConfig, async ({ ask }) => {
    const page = await (await ask("GET", "/")).text();
    const config = JSON.parse(/id="glasscast-config">([\s\S]*?)<\/script>/.exec(page)![1]!) as { webrtc: { iceServers: unknown[] } };
    expect(config.webrtc.iceServers).toEqual([{ urls: "stun:127.0.0.1:3478" }, { urls: "turn:127.0.0.1:3478", username: "cam", credential: "s3cret" }]);
  });
  await withApp({}, async ({ ask }) => {
    const page = await (await ask("GET", "/")).text();
    expect(page).toContain(`"iceServers":[]`);
  });
});
