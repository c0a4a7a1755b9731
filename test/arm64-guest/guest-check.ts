/**
 * Checks a glasscast server as a viewer would — the page, MJPEG, a snapshot,
 * /state, a WebRTC viewer (werift) and Chromium playing WHEP — and prints one line,
 * `guest-check: {…}`. test/arm64-guest.test.ts runs it against the server in
 * the emulated arm64 guest (scripts/arm64-guest/boot), from the network
 * namespace that holds the guest's network card:
 * `bun guest-check.ts URL [THIS_HOST'S_ADDRESS]` (the address its WebRTC
 * viewer offers; 127.0.0.1 by default).
 */
import { launchChromium } from "../helpers/browser.ts";
import { mjpegParts } from "../helpers/mjpeg-client.ts";
import { connectViewer } from "../helpers/webrtc-client.ts";

const BASE = process.argv[2] ?? "http://127.0.0.1:8080";
const HOST_ADDRESS = process.argv[3] ?? "127.0.0.1";

/** Width and height from a JPEG's start-of-frame segment. */
function jpegSize(jpeg: Uint8Array): { width: number; height: number } | null {
  for (let i = 2; i + 9 < jpeg.length; ) {
    if (jpeg[i] !== 0xff) return null;
    const marker = jpeg[i + 1]!;
    const length = (jpeg[i + 2]! << 8) | jpeg[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xc3) {
      return { height: (jpeg[i + 5]! << 8) | jpeg[i + 6]!, width: (jpeg[i + 7]! << 8) | jpeg[i + 8]! };
    }
    i += 2 + length;
  }
  return null;
}

async function waitHealthy(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(`${BASE}/healthz`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await Bun.sleep(500);
  }
  throw new Error(`/healthz did not answer 200 within ${ms} ms`);
}

async function mjpeg(count: number, ms: number) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  const started = performance.now();
  const sizes: string[] = [];
  try {
    for await (const jpeg of mjpegParts(await fetch(`${BASE}/video`, { signal: controller.signal }))) {
      const size = jpegSize(jpeg);
      sizes.push(size ? `${size.width}x${size.height}` : "?");
      if (sizes.length >= count) break;
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { parts: sizes.length, seconds: (performance.now() - started) / 1000, size: sizes.at(-1) ?? null };
}

interface StateDocument {
  streams: { name: string; state: string; framesCaptured: number; outputs: { webrtc: { framesSent: number } | null } }[];
}

const readState = async () => (await (await fetch(`${BASE}/state`)).json()) as StateDocument;

/**
 * A WebRTC viewer: what it received, and what the server says it sent (its
 * /state), since under full-system emulation the server can be too slow for
 * the viewer's DTLS retransmission timers while still completing its side.
 */
async function webrtc(frames: number, ms: number) {
  const sentBefore = (await readState()).streams[0]!.outputs.webrtc?.framesSent ?? 0;
  const viewer = await connectViewer(BASE, { hostAddress: HOST_ADDRESS });
  let iceConnected = false;
  viewer.pc.iceConnectionStateChange.subscribe((s) => {
    if (s === "connected" || s === "completed") iceConnected = true;
  });
  const end = Date.now() + ms;
  let sent = 0;
  while (viewer.received.frames < frames && Date.now() < end) {
    await Bun.sleep(500);
    iceConnected ||= ["connected", "completed"].includes(viewer.pc.iceConnectionState);
    sent = ((await readState()).streams[0]!.outputs.webrtc?.framesSent ?? 0) - sentBefore;
  }
  const { received, pc } = viewer;
  const states = { iceConnected, ice: pc.iceConnectionState, connection: pc.connectionState };
  await viewer.close();
  sent = Math.max(sent, ((await readState()).streams[0]!.outputs.webrtc?.framesSent ?? 0) - sentBefore);
  return { frames: received.frames, sent, keyframes: received.keyframes, startedClean: received.startedClean, firstFrameMs: received.firstFrameMs, ...states };
}

/** In the page, same origin as the server: a WHEP viewer in a <video>; resolves with the frames it decoded. */
const PLAY_OVER_WHEP = `async ([frames, ms]) => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", { direction: "recvonly" });
  const video = document.createElement("video");
  video.muted = true; video.autoplay = true; video.playsInline = true;
  document.body.append(video);
  pc.ontrack = (e) => { video.srcObject = e.streams[0] ?? new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => { if (pc.iceGatheringState === "complete") done(); else pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && done(); });
  const started = performance.now();
  const res = await fetch("/whep", { method: "POST", headers: { "content-type": "application/sdp" }, body: pc.localDescription.sdp });
  if (res.status !== 201) return { status: res.status, frames: 0 };
  await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
  const decoded = () => video.getVideoPlaybackQuality().totalVideoFrames;
  while (decoded() < frames && performance.now() - started < ms) await new Promise((r) => setTimeout(r, 250));
  const result = { status: 201, frames: decoded(), width: video.videoWidth, height: video.videoHeight, seconds: (performance.now() - started) / 1000, connection: pc.connectionState };
  pc.close();
  return result;
}`;

/** Chromium (Debian's), as a person's browser would play it. */
async function chromiumWebrtc(frames: number, ms: number) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${BASE}/healthz`);
    return await page.evaluate(`(${PLAY_OVER_WHEP})([${frames}, ${ms}])`);
  } finally {
    await browser.close();
  }
}

const result: Record<string, unknown> = {};
try {
  await waitHealthy(90_000);
  const page = await fetch(`${BASE}/`);
  result.page = { status: page.status, isGlasscast: (await page.text()).includes("glasscast-config") };
  const snapshot = await fetch(`${BASE}/snapshot`);
  const still = new Uint8Array(await snapshot.arrayBuffer());
  result.snapshot = { status: snapshot.status, type: snapshot.headers.get("content-type"), size: jpegSize(still) };
  result.mjpeg = await mjpeg(30, 30_000);
  result.webrtc = await webrtc(20, 45_000);
  result.chromium = await chromiumWebrtc(20, 60_000);
  const state = await readState();
  result.state = state.streams.map(({ name, state: s, framesCaptured }) => ({ name, state: s, framesCaptured }));
} catch (err) {
  result.error = err instanceof Error ? err.message : String(err);
}
console.log(`guest-check: ${JSON.stringify(result)}`);
process.exit(0);
