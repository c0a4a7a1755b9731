/**
 * RTSP push ingest (--source NAME=rtsp-push:PATH), end to end with real
 * publishers: ffmpeg (`-f rtsp`, TCP and UDP) and GStreamer's rtspclientsink
 * ANNOUNCE and RECORD to glasscast's own RTSP server, which takes them with
 * the playback logins (an --ingest-token as the password, or an --auth
 * user). MJPEG viewers get pictures of the pushed size and colour; a WebRTC
 * viewer and an RTSP reader of the same path get the publisher's H.264
 * untouched (its own SPS, no encoder in glasscast); the publisher leaving
 * gives NO SIGNAL, the next one pictures again; a second publisher while
 * one sends is refused (453); wrong or missing credentials 401, a viewer
 * token 403. Bad options exit 2 naming the option.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { JpegDecoder } from "../src/encoders/jpeg-decoder.ts";
import { NAL } from "../src/media/h264/annexb.ts";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { mjpegParts } from "./helpers/mjpeg-client.ts";
import { ffmpegRtsp, freePort, RtspClient } from "./helpers/rtsp.ts";
import { processesWith, CLI, ROOT, startServer, waitFor, type RunningServer } from "./helpers/server.ts";
import { connectViewer, waitForFrames } from "./helpers/webrtc-client.ts";

setDefaultTimeout(120_000);

const W = 320;
const H = 240;
const TOKEN = "ingest-token-0123456789";
const VIEWER = "viewer-token-0123456789";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

async function server(args: string[]): Promise<RunningServer & { rtspPort: number }> {
  const rtspPort = freePort();
  const s = await startServer(["--rtsp-port", String(rtspPort), "--webrtc-candidate", "127.0.0.1", "--log-level", "debug", ...args]);
  cleanup.push(() => s.stop());
  return Object.assign(s, { rtspPort });
}

async function stream(s: RunningServer, headers: Record<string, string> = {}) {
  const snapshot = (await (await fetch(`${s.url}/state`, { headers })).json()) as StatsSnapshot;
  return snapshot.streams[0]!;
}

/** libx264 as every ffmpeg publisher here runs it (its SPS is the same for the same settings and size). */
const X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "10", "-pix_fmt", "yuv420p"];

/** A publisher: ffmpeg pushing a solid colour at 10 fps to `url` over `transport`, until stopped. */
function ffmpegPush(url: string, transport: "tcp" | "udp", colour: string): { stderr(): string; stop(): Promise<unknown>; exited: Promise<number> } {
  const proc = Bun.spawn(
    [
      "ffmpeg",
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-re",
      "-f",
      "lavfi",
      "-i",
      `color=c=${colour}:size=${W}x${H}:rate=10`,
      ...X264,
      "-f",
      "rtsp",
      "-rtsp_transport",
      transport,
      url,
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  let err = "";
  void new Response(proc.stderr as ReadableStream).text().then((t) => {
    err = t;
  });
  const stop = async () => {
    proc.kill("SIGTERM");
    return proc.exited;
  };
  cleanup.push(stop);
  return { stderr: () => err, stop, exited: proc.exited };
}

/** The SPS libx264 makes for these settings (what the publisher sends): encoded once, here. */
async function publisherSps(): Promise<Uint8Array> {
  const proc = Bun.spawn(
    [
      "ffmpeg",
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-f",
      "lavfi",
      "-i",
      `color=c=red:size=${W}x${H}:rate=10`,
      "-frames:v",
      "1",
      ...X264,
      "-f",
      "h264",
      "-",
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "ignore" },
  );
  const bytes = Buffer.from(await new Response(proc.stdout).arrayBuffer());
  // The NAL unit after the first start code whose type is SPS, up to the next start code.
  for (let i = bytes.indexOf("000001", 0, "hex"); i >= 0; i = bytes.indexOf("000001", i + 3, "hex")) {
    if ((bytes[i + 3]! & 0x1f) !== NAL.SPS) continue;
    const end = bytes.indexOf("000001", i + 3, "hex");
    let nal = bytes.subarray(i + 3, end < 0 ? bytes.length : end);
    while (nal.at(-1) === 0) nal = nal.subarray(0, -1); // a 4-byte start code's leading zero
    return new Uint8Array(nal);
  }
  throw new Error("libx264 made no SPS");
}

/** An MJPEG client that keeps reading until closed, keeping the newest JPEG. */
function watch(url: string, headers: Record<string, string> = {}): { readonly parts: number; readonly last: Uint8Array | null } {
  const abort = new AbortController();
  const client = { parts: 0, last: null as Uint8Array | null };
  void (async () => {
    const res = await fetch(url, { signal: abort.signal, headers });
    for await (const jpeg of mjpegParts(res)) {
      client.parts++;
      client.last = jpeg.slice();
    }
  })().catch(() => {});
  cleanup.push(async () => abort.abort());
  return client;
}

/** The picture's mean U and V (0 to 255; 128 is grey) and its size. */
function colourOf(jpeg: Uint8Array): { u: number; v: number; width: number; height: number } {
  const raw = new JpegDecoder().decode(jpeg);
  const chroma = raw.data.subarray(raw.width * raw.height);
  const half = chroma.length / 2;
  let u = 0;
  let v = 0;
  for (let i = 0; i < half; i++) {
    u += chroma[i]!;
    v += chroma[half + i]!;
  }
  return { u: u / half, v: v / half, width: raw.width, height: raw.height };
}
const isRed = (j: Uint8Array | null) => j !== null && colourOf(j).v > 200;
const isBlue = (j: Uint8Array | null) => j !== null && colourOf(j).u > 200;
/** NO SIGNAL: grey letters on a dark grey picture. */
const isGrey = (j: Uint8Array | null) => j !== null && Math.abs(colourOf(j).u - 128) < 6 && Math.abs(colourOf(j).v - 128) < 6;

/** SPS and PPS of an SDP's sprop-parameter-sets. */
function spropSps(sdp: string): Uint8Array | null {
  const m = /sprop-parameter-sets=([A-Za-z0-9+/=]+),/.exec(sdp);
  return m ? new Uint8Array(Buffer.from(m[1]!, "base64")) : null;
}

describe("ffmpeg pushes to glasscast's RTSP server", () => {
  test("over TCP with the ingest token: MJPEG gets its colour and size, WebRTC and an RTSP reader its own H.264, no encoder; it stops → NO SIGNAL; a UDP publisher → pictures again", async () => {
    const b = await server(["--source", "door=rtsp-push:door", "--ingest-token", TOKEN]);
    const url = `rtsp://127.0.0.1:${b.rtspPort}/door`;
    expect((await stream(b)).source).toBe(`RTSP push to ${url}`);
    expect(b.stderr()).toContain(`RTSP publishers push to ${url}; publishers log in with an --ingest-token`);
    const sps = await publisherSps();
    let push = ffmpegPush(`rtsp://publisher:${TOKEN}@127.0.0.1:${b.rtspPort}/door`, "tcp", "red");
    const mjpeg = watch(`${b.url}/video`);
    await waitFor(() => isRed(mjpeg.last), 45_000, `red pictures at the MJPEG viewer (${b.stderr().slice(-800)}; pusher: ${push.stderr().slice(-300)})`);
    expect(colourOf(mjpeg.last!)).toMatchObject({ width: W, height: H });
    expect((await stream(b)).ingest).toMatchObject({ endpoint: url, state: "live", publisher: "127.0.0.1", sessions: 1 });

    const viewer = await connectViewer(b.url, { stream: "door" });
    cleanup.push(() => viewer.close());
    expect(await waitForFrames(viewer, 10, 30_000)).toBeGreaterThanOrEqual(10);
    expect(viewer.received.startedClean).toBe(true);
    expect(viewer.received.sps).toEqual(sps);

    // A reader of the publish path: the publisher's SPS in the SDP, and ffmpeg decodes its pictures.
    const reader = await RtspClient.connect("127.0.0.1", b.rtspPort);
    cleanup.push(async () => reader.close());
    const describeReply = await reader.request("DESCRIBE", url, { Accept: "application/sdp" });
    expect(describeReply.status).toBe(200);
    expect(spropSps(describeReply.body)).toEqual(sps);
    const decoded = await ffmpegRtsp(url, "tcp", 10);
    expect(decoded.frameSizes.length).toBe(10);
    expect(decoded.frameSizes[0]).toBe((W * H * 3) / 2);
    expect((await stream(b)).encoders.h264).toMatchObject({ running: true, passthrough: true, pid: null });
    expect(await processesWith(b.proc.pid, "libx264")).toBe(0);

    await push.stop();
    await waitFor(() => isGrey(mjpeg.last), 20_000, "NO SIGNAL after the publisher stopped");
    expect((await stream(b)).ingest).toMatchObject({ state: "waiting", publisher: null });
    push = ffmpegPush(`rtsp://publisher:${TOKEN}@127.0.0.1:${b.rtspPort}/door`, "udp", "blue");
    await waitFor(() => isBlue(mjpeg.last), 45_000, `blue pictures from the UDP publisher (${b.stderr().slice(-800)}; pusher: ${push.stderr().slice(-300)})`);
    expect((await stream(b)).state).toBe("running");
    expect((await stream(b)).ingest).toMatchObject({ state: "live", sessions: 2 });
  });

  test("a second publisher while one sends is refused (453) and the first keeps the stream; no credentials, a wrong password: 401", async () => {
    const b = await server(["--source", "cam=rtsp-push:yard/cam", "--auth", "admin:pass-word-1"]);
    // An --auth user publishes too, at the rtsp-push:PATH path.
    const first = ffmpegPush(`rtsp://admin:pass-word-1@127.0.0.1:${b.rtspPort}/yard/cam`, "udp", "red");
    const admin = { authorization: `Basic ${Buffer.from("admin:pass-word-1").toString("base64")}` };
    const mjpeg = watch(`${b.url}/video`, admin);
    await waitFor(() => isRed(mjpeg.last), 45_000, `red pictures (${b.stderr().slice(-800)}; pusher: ${first.stderr().slice(-300)})`);

    const second = ffmpegPush(`rtsp://admin:pass-word-1@127.0.0.1:${b.rtspPort}/cam`, "tcp", "blue");
    expect(await second.exited).not.toBe(0);
    await waitFor(() => second.stderr().length > 0, 5000, "the second publisher's error");
    expect(second.stderr()).toContain("453");
    const none = ffmpegPush(`rtsp://127.0.0.1:${b.rtspPort}/cam`, "tcp", "blue");
    expect(await none.exited).not.toBe(0);
    await waitFor(() => none.stderr().length > 0, 5000, "the error of the publisher without a login");
    expect(none.stderr()).toContain("401");
    const wrong = ffmpegPush(`rtsp://admin:wrong-password@127.0.0.1:${b.rtspPort}/cam`, "tcp", "blue");
    expect(await wrong.exited).not.toBe(0);
    await waitFor(() => wrong.stderr().length > 0, 5000, "the error of the publisher with a wrong password");
    expect(wrong.stderr()).toContain("401");
    expect(b.stderr()).not.toContain("wrong-password");
    expect(b.stderr()).not.toContain("pass-word-1");

    const frames = mjpeg.parts;
    await waitFor(() => mjpeg.parts >= frames + 5, 20_000, "the first publisher's pictures go on");
    expect(isRed(mjpeg.last)).toBe(true);
    expect((await stream(b, admin)).ingest).toMatchObject({ state: "live", sessions: 1 });
  });

  test("a viewer token does not publish (403); an ingest token is not a viewer's password", async () => {
    const b = await server(["--source", "door=rtsp-push:door", "--ingest-token", TOKEN, "--viewer-token", VIEWER]);
    const client = await RtspClient.connect("127.0.0.1", b.rtspPort);
    cleanup.push(async () => client.close());
    const sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n";
    const announce = (uri: string, extra: string[] = []) => {
      const reply = client.nextReply();
      client.writeRaw(
        [`ANNOUNCE ${uri} RTSP/1.0`, "CSeq: 1", "Content-Type: application/sdp", ...extra, `Content-Length: ${sdp.length}`, "", sdp].join("\r\n"),
      );
      return reply;
    };
    expect((await announce(`rtsp://127.0.0.1:${b.rtspPort}/door?token=${VIEWER}`)).status).toBe(403);
    expect((await announce(`rtsp://127.0.0.1:${b.rtspPort}/door`, [`Authorization: Basic ${Buffer.from(`x:${VIEWER}`).toString("base64")}`])).status).toBe(401);
    expect((await announce(`rtsp://127.0.0.1:${b.rtspPort}/door`, [`Authorization: Bearer ${TOKEN}`])).status).toBe(200);
    // Playing with the ingest token as a viewer's: refused.
    const reader = await RtspClient.connect("127.0.0.1", b.rtspPort);
    cleanup.push(async () => reader.close());
    expect((await reader.request("DESCRIBE", `rtsp://127.0.0.1:${b.rtspPort}/door?token=${TOKEN}`)).status).toBe(401);
  });
});

describe("GStreamer's rtspclientsink pushes", () => {
  const missing = ["rtspclientsink", "openh264enc"].filter((e) => Bun.spawnSync(["gst-inspect-1.0", e], { stdout: "ignore", stderr: "ignore" }).exitCode !== 0);
  if (missing.length > 0) console.log(`skipped: GStreamer lacks ${missing.join(", ")} (scripts/setup --test installs gstreamer1.0-rtsp and -plugins-bad)`);
  for (const protocol of ["tcp", "udp"] as const) {
    test.skipIf(missing.length > 0)(`over ${protocol.toUpperCase()} with the ingest token as its password: MJPEG gets its pictures`, async () => {
      const b = await server(["--source", "door=rtsp-push:door", "--ingest-token", TOKEN]);
      const proc = Bun.spawn(
        [
          "gst-launch-1.0",
          "-q",
          "videotestsrc",
          "is-live=true",
          "pattern=red",
          "!",
          `video/x-raw,width=${W},height=${H},framerate=10/1`,
          "!",
          "openh264enc",
          "gop-size=10",
          "!",
          "h264parse",
          "!",
          "rtspclientsink",
          `location=rtsp://127.0.0.1:${b.rtspPort}/door`,
          `protocols=${protocol}`,
          "user-id=publisher",
          `user-pw=${TOKEN}`,
        ],
        { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
      );
      cleanup.push(async () => {
        proc.kill("SIGINT");
        await proc.exited;
      });
      const mjpeg = watch(`${b.url}/video`);
      await waitFor(() => isRed(mjpeg.last), 45_000, `red pictures from GStreamer (${b.stderr().slice(-800)})`);
      expect(colourOf(mjpeg.last!)).toMatchObject({ width: W, height: H });
      expect((await stream(b)).ingest).toMatchObject({ state: "live", sessions: 1 });
    });
  }
});

describe("bad options exit 2 naming the option", () => {
  const run = (...args: string[]) => {
    const r = Bun.spawnSync([process.execPath, "run", CLI, "--port", "0", ...args], { cwd: ROOT, stdin: "ignore", timeout: 15_000 });
    return { code: r.exitCode, stderr: r.stderr.toString() };
  };

  test("a bad path, a path of another stream, the retired --rtsp-push-port, RTSP off, open to a network, a turn nothing decodes", () => {
    expect(run("--source", "rtsp-push:/x")).toMatchObject({ code: 2, stderr: expect.stringContaining("--source") });
    expect(run("--source", "rtsp-push:a//b")).toMatchObject({ code: 2, stderr: expect.stringContaining("--source") });
    expect(run("--host", "127.0.0.1", "--source", "a=rtsp-push:b", "--source", "b=testsrc")).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("uses the path of stream b"),
    });
    expect(run("--host", "127.0.0.1", "--source", "rtsp-push:a", "--rtsp-push-port", "8555")).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--rtsp-push-port: retired"),
    });
    expect(run("--host", "127.0.0.1", "--source", "rtsp-push:a", "--rtsp-port", "0")).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--rtsp-port"),
    });
    const open = run("--host", "0.0.0.0", "--source", "door=rtsp-push:door");
    expect(open.code).toBe(2);
    expect(open.stderr.includes("would let anyone who reaches 0.0.0.0:8554 replace the picture; give --ingest-token")).toBe(true);
    expect(run("--host", "127.0.0.1", "--source", "testsrc", "--ingest-token", TOKEN)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--ingest-token"),
    });
    expect(run("--host", "127.0.0.1", "--source", "door=rtsp-push:door", "--rotate", "90")).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--rotate"),
    });
  });
});
