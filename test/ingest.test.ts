/**
 * WHIP ingest (--source whip:NAME, POST /whip/NAME), end to end with real
 * programs: glasscast A (test pattern, its one H.264 encoder) publishes with
 * --publish whip+http://… to glasscast B, whose stream is fed by it. B's
 * MJPEG viewers get B-decoded pictures of A's size, B's WebRTC viewers get
 * A's H.264 untouched, starting at a keyframe, and B runs no H.264 encoder.
 * A stopped: B shows NO SIGNAL (/state: waiting); A started again: pictures
 * again. A second publisher while one is live gets 409. Refusals (415, 400,
 * 401, 403, 404) and who may publish are checked in process.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from "werift";
import { JpegDecoder } from "../src/encoders/jpeg-decoder.ts";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { basic, withApp } from "./helpers/in-process.ts";
import { mjpegParts } from "./helpers/mjpeg-client.ts";
import { childPids, startServer, waitFor, type RunningServer } from "./helpers/server.ts";
import { connectViewer, waitForFrames } from "./helpers/webrtc-client.ts";

setDefaultTimeout(120_000);

const W = 320;
const H = 240;
const PUBLISHER = ["--source", "testsrc", "--width", String(W), "--height", String(H), "--fps", "10", "--webrtc-candidate", "127.0.0.1", "--log-level", "debug"];

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

async function server(args: string[]): Promise<RunningServer> {
  const s = await startServer(args);
  cleanup.push(() => s.stop());
  return s;
}

async function stream(s: RunningServer) {
  const snapshot = await (await fetch(`${s.url}/state`)).json() as StatsSnapshot;
  return snapshot.streams[0]!;
}

/** The server's children that run libx264 (an H.264 encoder). */
async function encoders(s: RunningServer): Promise<number> {
  let n = 0;
  for (const pid of await childPids(s.proc.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("libx264")) n++;
    } catch { /* it went away */ }
  }
  return n;
}

/** An MJPEG client that keeps reading until closed, keeping the newest JPEG. */
function watch(url: string): { readonly parts: number; readonly last: Uint8Array | null; close(): void } {
  const abort = new AbortController();
  const client = { parts: 0, last: null as Uint8Array | null, close: () => abort.abort() };
  void (async () => {
    const res = await fetch(url, { signal: abort.signal });
    for await (const jpeg of mjpegParts(res)) { client.parts++; client.last = jpeg.slice(); }
  })().catch(() => {});
  cleanup.push(async () => client.close());
  return client;
}

/** Share of chroma samples far from grey: the test pattern is colourful, NO SIGNAL is grey on dark. */
function colourfulness(jpeg: Uint8Array): number {
  const raw = new JpegDecoder().decode(jpeg);
  const luma = raw.width * raw.height;
  const chroma = raw.data.subarray(luma);
  let far = 0;
  for (const v of chroma) if (Math.abs(v - 128) > 24) far++;
  return far / chroma.length;
}

/** A werift publisher's offer (send-only H.264), as a browser or OBS would post it. */
async function publisherOffer(): Promise<{ pc: RTCPeerConnection; sdp: string }> {
  const pc = new RTCPeerConnection({
    iceServers: [], iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: ["127.0.0.1"],
    codecs: {
      video: [new RTCRtpCodecParameters({ mimeType: "video/H264", clockRate: 90000, parameters: "packetization-mode=1;profile-level-id=42e01f" })],
      audio: [],
    },
  });
  pc.addTransceiver(new MediaStreamTrack({ kind: "video" }), { direction: "sendonly" });
  await pc.setLocalDescription(await pc.createOffer());
  cleanup.push(() => pc.close());
  return { pc, sdp: pc.localDescription!.sdp };
}

describe("WHIP ingest between two glasscasts", () => {
  test("A publishes to B: MJPEG and WebRTC viewers of B get A's pictures with no encoder in B; A stopped → NO SIGNAL; A again → pictures", async () => {
    const b = await server(["--source", "cam=whip:cam", "--webrtc-candidate", "127.0.0.1", "--source-timeout", "3", "--log-level", "debug"]);
    expect((await stream(b)).ingest).toMatchObject({ endpoint: "/whip/cam", state: "waiting", publisher: null });
    const publishTo = ["--publish", `whip+http://127.0.0.1:${b.port}/whip/cam`];
    let a = await server([...PUBLISHER, ...publishTo]);

    await waitFor(async () => (await stream(b)).framesCaptured >= 20, 45_000, `20 frames at B (A: ${a.stderr().slice(-500)})`);
    const live = await stream(b);
    expect(live.ingest).toMatchObject({ state: "live", publisher: "127.0.0.1", sessions: 1 });
    expect(live.ingest!.bytes).toBeGreaterThan(10_000);
    expect(live.state).toBe("running");

    // MJPEG: one decode and one JPEG per frame, at A's size, the test pattern's colours.
    const mjpeg = watch(`${b.url}/video`);
    await waitFor(() => mjpeg.parts >= 15, 30_000, "15 MJPEG parts from B");
    const raw = new JpegDecoder().decode(mjpeg.last!);
    expect([raw.width, raw.height]).toEqual([W, H]);
    expect(colourfulness(mjpeg.last!)).toBeGreaterThan(0.2);

    // WebRTC: A's H.264 passed through, starting at a keyframe with SPS and PPS.
    const viewer = await connectViewer(b.url, { stream: "cam" });
    cleanup.push(() => viewer.close());
    expect(await waitForFrames(viewer, 15, 30_000)).toBeGreaterThanOrEqual(15);
    expect(viewer.received.startedClean).toBe(true);
    const withViewers = await stream(b);
    expect(withViewers.encoders.h264).toMatchObject({ running: true, passthrough: true, pid: null });
    expect(await encoders(a)).toBe(1);
    expect(await encoders(b)).toBe(0);

    // A second publisher while A is live: 409, and A keeps the stream.
    const second = await publisherOffer();
    const busy = await fetch(`${b.url}/whip/cam`, { method: "POST", headers: { "content-type": "application/sdp" }, body: second.sdp });
    expect(busy.status).toBe(409);
    expect((await stream(b)).ingest).toMatchObject({ state: "live", sessions: 1 });

    // A stops (it DELETEs its session): B's viewers see NO SIGNAL, and keep their connections.
    await a.stop();
    await waitFor(async () => (await stream(b)).ingest?.state === "waiting", 20_000, "B's ingest waiting after A stopped");
    const before = mjpeg.parts;
    await waitFor(() => mjpeg.parts >= before + 2 && colourfulness(mjpeg.last!) < 0.01, 20_000, "NO SIGNAL pictures at B's MJPEG viewer");
    const waiting = await stream(b);
    expect(waiting.state).toBe("restarting");
    expect(waiting.ingest!.publisher).toBeNull();

    // A again: pictures again, for the viewers that stayed and for new ones.
    a = await server([...PUBLISHER, ...publishTo]);
    await waitFor(async () => (await stream(b)).ingest?.state === "live", 45_000, `B live again (A: ${a.stderr().slice(-500)})`);
    await waitFor(() => mjpeg.last !== null && colourfulness(mjpeg.last) > 0.2, 30_000, "test-pattern pictures at B's MJPEG viewer again");
    const again = await connectViewer(b.url, { stream: "cam" });
    cleanup.push(() => again.close());
    expect(await waitForFrames(again, 10, 30_000)).toBeGreaterThanOrEqual(10);
    expect(again.received.startedClean).toBe(true);
    expect((await stream(b)).ingest).toMatchObject({ state: "live", sessions: 2 });
    expect(await encoders(b)).toBe(0);
    expect(b.stderr()).toContain("publisher 127.0.0.1 left");
  });
});

describe("who may publish, and bad publishes", () => {
  const AUTH = { source: ["cam=whip:cam"], auth: ["admin:secret-pw"], viewerToken: ["viewer-token-123456"], ingestToken: ["ingest-token-123456"] };
  const sdp = { "content-type": "application/sdp" };

  test("with --auth: no credentials 401, a viewer token 403, a wrong token 401; an ingest token or a login gets to the checks: 415, 400, 404", async () => {
    await withApp(AUTH, async ({ ask }) => {
      const offer = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
      expect((await ask("POST", "/whip/cam", sdp, offer)).status).toBe(401);
      const viewer = await ask("POST", "/whip/cam", { ...sdp, authorization: "Bearer viewer-token-123456" }, offer);
      expect(viewer.status).toBe(403);
      expect((await ask("POST", "/whip/cam?token=viewer-token-123456", sdp, offer)).status).toBe(403);
      expect((await ask("POST", "/whip/cam", { ...sdp, authorization: "Bearer not-the-token-1234" }, offer)).status).toBe(401);
      expect((await ask("DELETE", "/whip/cam/session/x", { authorization: "Bearer viewer-token-123456" })).status).toBe(403);
      for (const authorization of ["Bearer ingest-token-123456", basic("admin:secret-pw")]) {
        expect((await ask("POST", "/whip/cam", { "content-type": "text/plain", authorization }, offer)).status).toBe(415);
        expect((await ask("POST", "/whip/cam", { ...sdp, authorization }, "hello")).status).toBe(400);
        expect((await ask("POST", "/whip/nope", { ...sdp, authorization }, offer)).status).toBe(404);
        // An SDP without video is refused by the endpoint itself.
        expect((await ask("POST", "/whip/cam", { ...sdp, authorization }, offer)).status).toBe(400);
        expect((await ask("DELETE", "/whip/cam/session/unknown", { authorization })).status).toBe(404);
      }
    });
  });

  test("viewer tokens alone protect viewing: nobody may publish (403); with nothing given publishing is open like the rest", async () => {
    await withApp({ source: ["cam=whip:cam"], viewerToken: ["viewer-token-123456"] }, async ({ ask }) => {
      expect((await ask("POST", "/whip/cam", { ...sdp, authorization: "Bearer viewer-token-123456" }, "v=0\r\n")).status).toBe(403);
      expect((await ask("POST", "/whip/cam", sdp, "v=0\r\n")).status).toBe(403);
    });
    await withApp({ source: ["cam=whip:cam"] }, async ({ ask }) => {
      expect((await ask("POST", "/whip/cam", { "content-type": "application/json" }, "{}")).status).toBe(415);
      const options = await ask("OPTIONS", "/whip/cam");
      expect(options.headers.get("accept-post")).toBe("application/sdp");
    });
  });

  test("a real offer gets 201, application/sdp and a Location that DELETE ends", async () => {
    await withApp({ source: ["cam=whip:cam"], webrtcCandidate: ["127.0.0.1"] }, async ({ ask, gc }) => {
      const { sdp: offer } = await publisherOffer();
      const res = await ask("POST", "/whip/cam", sdp, offer);
      expect(res.status).toBe(201);
      expect(res.headers.get("content-type")).toBe("application/sdp");
      const location = res.headers.get("location")!;
      expect(location).toMatch(/^\/whip\/cam\/session\/[0-9a-f-]+$/);
      expect(await res.text()).toMatch(/^v=0/);
      const ingest = gc.streams.find((s) => s.name === "cam")!.ingest!;
      expect(ingest.state).toBe("live");
      expect((await ask("POST", "/whip/cam", sdp, (await publisherOffer()).sdp)).status).toBe(409);
      expect((await ask("DELETE", location)).status).toBe(200);
      expect(ingest.state).toBe("waiting");
      expect((await ask("DELETE", location)).status).toBe(404);
    });
  });
});
