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
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpSender } from "werift";
import { packetizeH264 } from "../src/media/h264/rtp-h264.ts";
import type { AccessUnit } from "../src/media/h264/annexb.ts";
import { JpegDecoder } from "../src/encoders/jpeg-decoder.ts";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { cliInProcess, runCli } from "./helpers/cli-in-process.ts";
import { basic, withApp } from "./helpers/in-process.ts";
import { mjpegParts } from "./helpers/mjpeg-client.ts";
import { parsePrometheus } from "./helpers/prometheus.ts";
import { launchChromium } from "./helpers/browser.ts";
import { processesWith, startServer, waitFor, type RunningServer } from "./helpers/server.ts";
import { connectViewer, waitForFrames } from "./helpers/webrtc-client.ts";

setDefaultTimeout(240_000);

const W = 320;
const H = 240;
const PUBLISHER = [
  "--source",
  "testsrc",
  "--width",
  String(W),
  "--height",
  String(H),
  "--fps",
  "10",
  "--webrtc-candidate",
  "127.0.0.1",
  "--log-level",
  "debug",
];

type Cleanup = (() => Promise<unknown>)[];
/** What the in-process tests started, undone after each. */
const cleanup: Cleanup = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

/**
 * A test with its own cleanup, always run: the tests between real glasscasts run side by side
 * (each has its own servers and ports and waits on conditions), so they cannot share one list.
 */
function own(body: (cleanup: Cleanup) => Promise<void>): () => Promise<void> {
  return async () => {
    const mine: Cleanup = [];
    try {
      await body(mine);
    } finally {
      for (const f of mine.reverse()) await f().catch(() => undefined);
    }
  };
}

async function server(list: Cleanup, args: string[]): Promise<RunningServer> {
  const s = await startServer(args);
  list.push(() => s.stop());
  return s;
}

async function stream(s: RunningServer) {
  const snapshot = (await (await fetch(`${s.url}/state`)).json()) as StatsSnapshot;
  return snapshot.streams[0]!;
}

/** The server's children that run libx264 (an H.264 encoder). */
const encoders = (s: RunningServer): Promise<number> => processesWith(s.proc.pid, "libx264");

/** An MJPEG client that keeps reading until closed, keeping the newest JPEG. */
function watch(list: Cleanup, url: string): { readonly parts: number; readonly last: Uint8Array | null; close(): void } {
  const abort = new AbortController();
  const client = { parts: 0, last: null as Uint8Array | null, close: () => abort.abort() };
  void (async () => {
    const res = await fetch(url, { signal: abort.signal });
    for await (const jpeg of mjpegParts(res)) {
      client.parts++;
      client.last = jpeg.slice();
    }
  })().catch(() => {});
  list.push(async () => client.close());
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
async function publisherOffer(): Promise<{ pc: RTCPeerConnection; sdp: string; sender: RTCRtpSender }> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ["127.0.0.1"],
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: "video/H264",
          clockRate: 90000,
          parameters: "packetization-mode=1;profile-level-id=42e01f",
          rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }],
        }),
      ],
      audio: [],
    },
  });
  const { sender } = pc.addTransceiver(new MediaStreamTrack({ kind: "video" }), { direction: "sendonly" });
  await pc.setLocalDescription(await pc.createOffer());
  cleanup.push(() => pc.close());
  return { pc, sdp: pc.localDescription!.sdp, sender };
}

describe("WHIP ingest between two glasscasts", () => {
  test.concurrent(
    "A publishes to B: MJPEG and WebRTC viewers of B get A's pictures with no encoder in B; A stopped → NO SIGNAL; A again → pictures",
    own(async (cleanup) => {
      const b = await server(cleanup, ["--source", "cam=whip:cam", "--webrtc-candidate", "127.0.0.1", "--source-timeout", "3", "--log-level", "debug"]);
      expect((await stream(b)).ingest).toMatchObject({ endpoint: "/whip/cam", state: "waiting", publisher: null });
      const publishTo = ["--publish", `whip+http://127.0.0.1:${b.port}/whip/cam`];
      let a = await server(cleanup, [...PUBLISHER, ...publishTo]);

      await waitFor(async () => (await stream(b)).framesCaptured >= 20, 90_000, `20 frames at B (A: ${a.stderr().slice(-500)})`);
      const live = await stream(b);
      expect(live.ingest).toMatchObject({ state: "live", publisher: "127.0.0.1", sessions: 1 });
      expect(live.ingest!.bytes).toBeGreaterThan(10_000);
      expect(live.state).toBe("running");

      // MJPEG: one decode and one JPEG per frame, at A's size, the test pattern's colours.
      const mjpeg = watch(cleanup, `${b.url}/video`);
      await waitFor(() => mjpeg.parts >= 15, 60_000, "15 MJPEG parts from B");
      const raw = new JpegDecoder().decode(mjpeg.last!);
      expect([raw.width, raw.height]).toEqual([W, H]);
      expect(colourfulness(mjpeg.last!)).toBeGreaterThan(0.2);

      // WebRTC: A's H.264 passed through, starting at a keyframe with SPS and PPS.
      const viewer = await connectViewer(b.url, { stream: "cam" });
      cleanup.push(() => viewer.close());
      expect(await waitForFrames(viewer, 15, 60_000)).toBeGreaterThanOrEqual(15);
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
      await waitFor(async () => (await stream(b)).ingest?.state === "waiting", 60_000, "B's ingest waiting after A stopped");
      const before = mjpeg.parts;
      await waitFor(() => mjpeg.parts >= before + 2 && colourfulness(mjpeg.last!) < 0.01, 60_000, "NO SIGNAL pictures at B's MJPEG viewer");
      const waiting = await stream(b);
      expect(waiting.state).toBe("restarting");
      expect(waiting.ingest!.publisher).toBeNull();

      // A again: pictures again, for the viewers that stayed and for new ones.
      a = await server(cleanup, [...PUBLISHER, ...publishTo]);
      await waitFor(async () => (await stream(b)).ingest?.state === "live", 90_000, `B live again (A: ${a.stderr().slice(-500)})`);
      await waitFor(() => mjpeg.last !== null && colourfulness(mjpeg.last) > 0.2, 60_000, "test-pattern pictures at B's MJPEG viewer again");
      const again = await connectViewer(b.url, { stream: "cam" });
      cleanup.push(() => again.close());
      expect(await waitForFrames(again, 10, 60_000)).toBeGreaterThanOrEqual(10);
      expect(again.received.startedClean).toBe(true);
      expect((await stream(b)).ingest).toMatchObject({ state: "live", sessions: 2 });
      // The NO SIGNAL picture went to the WebRTC viewer that stayed through an encoder, which stops with the publisher back.
      await waitFor(async () => (await encoders(b)) === 0, 60_000, "no H.264 encoder in B with a publisher live");
      expect(b.stderr()).toContain("publisher 127.0.0.1 left");
      const metrics = parsePrometheus(await (await fetch(`${b.url}/metrics`)).text());
      expect(metrics.value("glasscast_ingest_live", { stream: "cam" })).toBe(1);
      expect(metrics.value("glasscast_ingest_sessions_total", { stream: "cam" })).toBe(2);
      expect(metrics.value("glasscast_ingest_bytes_total", { stream: "cam" })).toBeGreaterThan(live.ingest!.bytes);
      // B stops with a publisher live: quietly (its end is no NO SIGNAL round), and cleanly.
      expect(await b.stop()).toBe(0);
      await Bun.sleep(200); // the last stderr lines
      const afterStop = b.stderr().split("SIGTERM: stopping")[1] ?? "";
      expect(afterStop).not.toContain("waiting for a publisher");
      expect(afterStop).not.toContain("left:");
    }),
  );
});

/** A browser publisher: a tone, then a changing colour canvas as H.264 only, the offer with every candidate; the POST's status and the answer's audio port. */
const PUBLISH_FROM_CANVAS = `(async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 320;
  canvas.height = 240;
  const ctx = canvas.getContext("2d");
  let n = 0;
  setInterval(() => { ctx.fillStyle = "hsl(" + ((n++ * 10) % 360) + ",100%,50%)"; ctx.fillRect(0, 0, 320, 240); }, 50);
  const pc = new RTCPeerConnection();
  // Audio first, as OBS offers it: the ingest takes the video and declines the audio.
  const audio = new AudioContext();
  const tone = audio.createOscillator();
  const sink = audio.createMediaStreamDestination();
  tone.connect(sink);
  tone.start();
  pc.addTransceiver(sink.stream.getAudioTracks()[0], { direction: "sendonly" });
  const transceiver = pc.addTransceiver(canvas.captureStream(20).getVideoTracks()[0], { direction: "sendonly" });
  transceiver.setCodecPreferences(RTCRtpSender.getCapabilities("video").codecs.filter((c) => c.mimeType === "video/H264"));
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === "complete") resolve(); };
  });
  const res = await fetch("/whip/cam", { method: "POST", headers: { "content-type": "application/sdp" }, body: pc.localDescription.sdp });
  const answer = res.status === 201 ? await res.text() : "";
  if (answer) await pc.setRemoteDescription({ type: "answer", sdp: answer });
  window.publisher = pc;
  return { status: res.status, audio: (/^m=audio (\\d+)/m.exec(answer) || [])[1] ?? null };
})()`;

describe("a browser publishes", () => {
  test.concurrent(
    "Chromium (audio, then a canvas track as H.264, every candidate in the offer) publishes to whip:cam; B decodes its pictures and runs no encoder",
    own(async (cleanup) => {
      const b = await server(cleanup, ["--source", "cam=whip:cam", "--webrtc-candidate", "127.0.0.1", "--log-level", "debug"]);
      const browser = await launchChromium();
      cleanup.push(() => browser.close());
      const page = await browser.newPage();
      await page.goto(`${b.url}/`); // the page's own player watches too (WebRTC), which is fine
      const published = (await page.evaluate(PUBLISH_FROM_CANVAS)) as { status: number; audio: string | null };
      expect(published).toEqual({ status: 201, audio: "0" });
      await waitFor(async () => (await stream(b)).framesCaptured >= 20, 60_000, "20 frames from Chromium");
      const live = await stream(b);
      expect([live.width, live.height]).toEqual([320, 240]);
      expect(live.ingest).toMatchObject({ state: "live", publisher: "127.0.0.1" });
      const snapshot = new Uint8Array(await (await fetch(`${b.url}/snapshot.jpg`)).arrayBuffer());
      expect(colourfulness(snapshot)).toBeGreaterThan(0.2);
      await waitFor(async () => (await encoders(b)) === 0, 60_000, "no H.264 encoder in B with Chromium publishing");
    }),
  );
});

describe("a publisher that vanishes", () => {
  test.concurrent(
    "A killed (no DELETE): B notices the silence within --source-timeout, shows NO SIGNAL, and takes A back when it restarts",
    own(async (cleanup) => {
      const b = await server(cleanup, ["--source", "cam=whip:cam", "--webrtc-candidate", "127.0.0.1", "--source-timeout", "2", "--log-level", "debug"]);
      const publishTo = ["--publish", `whip+http://127.0.0.1:${b.port}/whip/cam`];
      let a = await server(cleanup, [...PUBLISHER, ...publishTo]);
      await waitFor(async () => (await stream(b)).framesCaptured >= 10, 90_000, `10 frames at B (A: ${a.stderr().slice(-500)})`);
      const mjpeg = watch(cleanup, `${b.url}/video`);
      await waitFor(() => mjpeg.last !== null && colourfulness(mjpeg.last) > 0.2, 60_000, "test-pattern pictures at B");
      await a.stop("SIGKILL");
      await waitFor(async () => (await stream(b)).ingest?.state === "waiting", 60_000, "B's ingest waiting after A was killed");
      await waitFor(() => mjpeg.last !== null && colourfulness(mjpeg.last) < 0.01, 20_000, "NO SIGNAL at B's MJPEG viewer");
      expect(b.stderr()).toMatch(
        /publisher 127\.0\.0\.1 left: (no video from the publisher for 2 s|the WebRTC connection failed|the publisher (closed|failed) the DTLS session)/,
      );
      a = await server(cleanup, [...PUBLISHER, ...publishTo]);
      await waitFor(async () => (await stream(b)).ingest?.state === "live", 45_000, `B live again (A: ${a.stderr().slice(-500)})`);
      await waitFor(() => mjpeg.last !== null && colourfulness(mjpeg.last) > 0.2, 30_000, "test-pattern pictures at B again");
    }),
  );

  test("a publisher that sends no keyframe is asked for one (PLI); one that falls silent is dropped after --source-timeout", async () => {
    await withApp({ source: ["cam=whip:cam"], webrtcCandidate: ["127.0.0.1"], sourceTimeout: 2 }, async ({ ask, gc }) => {
      const publisher = await publisherOffer();
      let plis = 0;
      publisher.sender.onRtcp.subscribe((rtcp) => {
        if (rtcp.type === 206) plis++;
      });
      const res = await ask("POST", "/whip/cam", { "content-type": "application/sdp" }, publisher.sdp);
      expect(res.status).toBe(201);
      await publisher.pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
      await new Promise<void>((resolve) => publisher.sender.onReady.once(() => resolve()));
      const ingest = gc.streams.find((s) => s.name === "cam")!.ingest!;
      let seq = 0;
      const sendAu = (au: AccessUnit, timestamp: number) => {
        const payloads = packetizeH264(au);
        payloads.forEach((payload, i) => {
          const header = new RtpHeader({ payloadType: 0, ssrc: 0, sequenceNumber: seq++ & 0xffff, timestamp, marker: i === payloads.length - 1 });
          void publisher.sender.sendRtp(new RtpPacket(header, Buffer.from(payload)));
        });
      };
      const pSlice: AccessUnit = { nals: [new Uint8Array([0x41, 0x88, 1, 2, 3])], keyframe: false };
      for (let i = 0; plis < 2 && i < 100; i++) {
        sendAu(pSlice, i * 3000);
        await Bun.sleep(100);
      }
      expect(plis).toBeGreaterThanOrEqual(2);
      expect(ingest.stats()).toMatchObject({ state: "live", frames: 0 });
      expect(ingest.stats().dropped).toBeGreaterThan(0);
      sendAu({ nals: [SPS, PPS, new Uint8Array([0x65, 0x88, 1, 2, 3])], keyframe: true }, 400_000);
      sendAu(pSlice, 403_000);
      await waitFor(() => ingest.stats().frames >= 2, 5000, "the keyframe and the picture after it");
      await waitFor(() => gc.streams.find((s) => s.name === "cam")!.stream.stats().framesCaptured >= 2, 5000, "the stream's frames");
      // Silence, the connection still up: dropped after --source-timeout.
      await waitFor(() => ingest.state === "waiting", 10_000, "the silent publisher dropped");
    });
  });
});

describe("an --on-demand ingest", () => {
  test("without viewers nothing is kept; the first viewer's capture asks the publisher for a keyframe and starts with it", async () => {
    await withApp({ source: ["cam=whip:cam"], webrtcCandidate: ["127.0.0.1"], onDemand: true, idleTimeout: 1 }, async ({ ask, gc }) => {
      const publisher = await publisherOffer();
      let plis = 0;
      publisher.sender.onRtcp.subscribe((rtcp) => {
        if (rtcp.type === 206) plis++;
      });
      const res = await ask("POST", "/whip/cam", { "content-type": "application/sdp" }, publisher.sdp);
      expect(res.status).toBe(201);
      await publisher.pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
      await new Promise<void>((resolve) => publisher.sender.onReady.once(() => resolve()));
      // A camera that makes a keyframe when asked (PLI), P pictures otherwise.
      let seq = 0;
      let answered = 0;
      const sendAu = (au: AccessUnit, timestamp: number) => {
        const payloads = packetizeH264(au);
        payloads.forEach((payload, i) => {
          const header = new RtpHeader({ payloadType: 0, ssrc: 0, sequenceNumber: seq++ & 0xffff, timestamp, marker: i === payloads.length - 1 });
          void publisher.sender.sendRtp(new RtpPacket(header, Buffer.from(payload)));
        });
      };
      let t = 0;
      const camera = setInterval(() => {
        t += 9000;
        const key = answered < plis;
        if (key) answered = plis;
        sendAu(
          key
            ? { nals: [SPS, PPS, new Uint8Array([0x65, 0x88, 1, 2, 3])], keyframe: true }
            : { nals: [new Uint8Array([0x41, 0x88, 1, 2, 3])], keyframe: false },
          t,
        );
      }, 100);
      try {
        const cam = gc.streams.find((s) => s.name === "cam")!;
        await waitFor(() => cam.ingest!.stats().frames >= 10, 10_000, "frames at the ingest");
        expect(cam.stream.capturing).toBe(false);
        expect(cam.stream.stats().framesCaptured).toBe(0);
        const plisBefore = plis;
        const release = cam.stream.hold();
        try {
          await waitFor(() => cam.stream.stats().framesCaptured >= 5, 10_000, "frames once a viewer holds the stream");
          expect(plis).toBeGreaterThan(plisBefore);
        } finally {
          release();
        }
      } finally {
        clearInterval(camera);
      }
    });
  });
});

const SPS = new Uint8Array([
  0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05, 0x07, 0xec, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0f, 0x03, 0xc5, 0x0a, 0xa8,
]);
const PPS = new Uint8Array([0x68, 0xce, 0x0f, 0xc8]);

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

  test("a real offer gets 201, application/sdp and a Location that DELETE ends; one that never sent video is replaced; a broken one is a 400", async () => {
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
      // A second offer while the first has sent nothing (it never connects here): it takes the stream over.
      const second = await ask("POST", "/whip/cam", sdp, (await publisherOffer()).sdp);
      expect(second.status).toBe(201);
      expect((await ask("GET", location)).status).toBe(404);
      expect((await ask("DELETE", location)).status).toBe(404);
      expect(ingest.stats().sessions).toBe(2);
      const secondLocation = second.headers.get("location")!;
      expect(secondLocation).not.toBe(location);
      // An offer werift cannot answer (a media section without a mid): 400, never 500.
      const broken = await ask("POST", "/whip/cam", sdp, "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
      expect(broken.status).toBe(400);
      const location2 = secondLocation;
      // No trickle ICE or ICE restart (RFC 9725 §4.3.1): PATCH is not allowed on a session.
      expect((await ask("PATCH", location2, { "content-type": "application/trickle-ice-sdpfrag" }, "a=end-of-candidates\r\n")).status).toBe(405);
      expect((await ask("DELETE", location2)).status).toBe(200);
      expect(ingest.state).toBe("waiting");
      expect((await ask("DELETE", location2)).status).toBe(404);
    });
  });
});

describe("bad options exit 2 naming the option", () => {
  // Parse errors: answered in process, as src/cli.ts would (test/cli-options.test.ts pins that the
  // real program answers the same); the secret-bearing one also by the real program below.
  const run = (...args: string[]) => cliInProcess(["--port", "0", ...args]);

  test("whip: without a name, the same WHIP name twice, --ingest-token without a WHIP source, a short token", () => {
    expect(run("--source", "whip:")).toMatchObject({ code: 2, stderr: expect.stringContaining("--source") });
    expect(run("--source", "a=whip:x", "--source", "b=whip:x")).toMatchObject({ code: 2, stderr: expect.stringContaining("whip:x is given to two streams") });
    expect(run("--source", "testsrc", "--ingest-token", "ingest-token-123456")).toMatchObject({ code: 2, stderr: expect.stringContaining("--ingest-token") });
    const short = runCli(["--port", "0", "--source", "cam=whip:cam", "--ingest-token", "short-secret"]);
    expect(short.code).toBe(2);
    expect(short.stderr.includes("--ingest-token")).toBe(true);
    expect(short.stderr.includes("short-secret")).toBe(false);
    const same = run("--source", "cam=whip:cam", "--ingest-token", "shared-token-123456", "--viewer-token", "shared-token-123456");
    expect(same.code).toBe(2);
    expect(same.stderr.includes("--ingest-token: one is also a --viewer-token")).toBe(true);
    expect(same.stderr.includes("shared-token-123456")).toBe(false);
    expect(run("--source", "cam=whip:cam", "--rotate", "90")).toMatchObject({ code: 2, stderr: expect.stringContaining("--rotate") });
  });
});
