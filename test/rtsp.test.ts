/**
 * RTSP as real clients meet it, on 127.0.0.1: ffmpeg (TCP and UDP), GStreamer
 * rtspsrc and OpenCV play every stream from the stream's one H.264 feed;
 * a new client starts at a keyframe with SPS/PPS; each client has its own
 * SSRC and sequence numbers; RTCP sender reports come; sessions are counted
 * in /state and /metrics; past --rtsp-max-clients SETUP answers 453; bad
 * requests get a 4xx (or 501) and harm nobody.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { parsePrometheus } from "./helpers/prometheus.ts";
import { feedRateDuring, ffmpegRtsp, freePort, gstRtsp, liveRate, opencvRtsp, run, RtspClient, waitForAccessUnits } from "./helpers/rtsp.ts";
import { startServer, waitFor, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(90_000);

const WIDTH = 640;
const HEIGHT = 360;
const FRAME_BYTES = WIDTH * HEIGHT * 1.5; // yuv420p

interface StateDoc {
  streams: {
    name: string;
    encoders: { h264: { pid: number | null } | null };
    outputs: { rtsp: { viewers: { address: string; frames: number; skipped: number }[]; joined: number; framesSent: number } | null };
  }[];
  totals: { rtspClients: number | null };
}

describe("open server, two streams", () => {
  let server: RunningServer;
  let port: number;
  let base: string;
  beforeAll(async () => {
    port = freePort();
    server = await startServer([
      "--rtsp-port",
      String(port),
      "--source",
      "main=testsrc",
      "--source",
      "side=testsrc",
      "--width",
      String(WIDTH),
      "--height",
      String(HEIGHT),
      "--fps",
      "30",
      "--rtsp-max-clients",
      "12",
    ]);
    base = `rtsp://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server.stop();
  });

  // The four readers of main run side by side (each checks its own pictures, and the ffmpeg ones their rate against
  // what the encoder made meanwhile); the tests after them count clients and sessions, one at a time.
  test.concurrent("ffprobe: one H.264 constrained baseline video stream of 640x360", async () => {
    const r = await run(
      [
        "ffprobe",
        "-v",
        "error",
        "-rtsp_transport",
        "tcp",
        "-select_streams",
        "v",
        "-show_entries",
        "stream=codec_name,profile,width,height",
        "-of",
        "json",
        `${base}/main`,
      ],
      30_000,
    );
    expect(JSON.parse(r.stdout).streams).toEqual([{ codec_name: "h264", profile: "Constrained Baseline", width: WIDTH, height: HEIGHT }]);
  });

  test.concurrent("ffmpeg over TCP (interleaved): H.264 640x360 at the source's rate", async () => {
    const { result: r, fps } = await feedRateDuring(server.url, 0, () => ffmpegRtsp(`${base}/main`, "tcp", 150));
    expect(r.stderr).toBe("");
    expect(r.frameTimes.length).toBe(150);
    expect(new Set(r.frameSizes)).toEqual(new Set([FRAME_BYTES]));
    // Every picture the encoder makes (30 a second, fewer on a loaded machine), after the GOP burst.
    expect(fps).toBeGreaterThan(10);
    const rate = liveRate(r.frameTimes, 50);
    expect(rate).toBeGreaterThan(0.8 * fps);
    expect(rate).toBeLessThan(40);
  });

  test.concurrent("ffmpeg over UDP (client_port/server_port): the same pictures at the same rate", async () => {
    const { result: r, fps } = await feedRateDuring(server.url, 0, () => ffmpegRtsp(`${base}/`, "udp", 150));
    expect(r.frameTimes.length).toBe(150);
    expect(new Set(r.frameSizes)).toEqual(new Set([FRAME_BYTES]));
    expect(fps).toBeGreaterThan(10);
    const rate = liveRate(r.frameTimes, 50);
    expect(rate).toBeGreaterThan(0.8 * fps);
    expect(rate).toBeLessThan(40);
  });

  test.concurrent("OpenCV cv2.VideoCapture reads 60 pictures of 640x360", async () => {
    const r = await opencvRtsp(`${base}/main`, 60);
    expect(r.stdout.trim()).toBe(`60 ${WIDTH} ${HEIGHT}`);
  });

  test("GStreamer rtspsrc ! rtph264depay ! avdec_h264 decodes 60 pictures of 640x360, over TCP and over UDP", async () => {
    const joined = async () => ((await (await fetch(`${server.url}/state`)).json()) as StateDoc).streams.map((s) => s.outputs.rtsp!.joined);
    const before = await joined();
    for (const tcp of [true, false]) {
      const r = await gstRtsp(`${base}/side`, { buffers: 60, width: WIDTH, height: HEIGHT, tcp });
      expect({ tcp, code: r.code, stderr: r.stderr }).toEqual({ tcp, code: 0, stderr: "" });
    }
    // Both played the stream named (a track URL resolved against rtsp://host/side must not fall back to the first).
    expect(await joined()).toEqual([before[0]!, before[1]! + 2]);
  });

  test("DESCRIBE: SDP with sprop-parameter-sets, profile-level-id, packetization-mode=1 and controls", async () => {
    const c = await RtspClient.connect("127.0.0.1", port);
    try {
      const options = await c.request("OPTIONS", `${base}/main`);
      expect(options.status).toBe(200);
      for (const m of ["DESCRIBE", "SETUP", "PLAY", "TEARDOWN", "GET_PARAMETER"]) expect(options.headers.get("public")).toContain(m);
      const d = await c.request("DESCRIBE", `${base}/main`, { Accept: "application/sdp" });
      expect(d.status).toBe(200);
      expect(d.headers.get("content-type")).toBe("application/sdp");
      expect(d.body).toContain("m=video 0 RTP/AVP 96");
      expect(d.body).toContain("a=rtpmap:96 H264/90000");
      expect(d.body).toMatch(/a=fmtp:96 packetization-mode=1;profile-level-id=42[0-9a-f]{4};sprop-parameter-sets=Z[A-Za-z0-9+/=]+,aM[A-Za-z0-9+/=]+/);
      expect(d.body).toContain("a=control:*");
      expect(d.body).toContain(`a=control:${base}/main/trackID=0`);
      const sps = Buffer.from(/sprop-parameter-sets=([^,]+),/.exec(d.body)![1]!, "base64");
      expect(sps[0]! & 0x1f).toBe(7);
      expect((await c.request("DESCRIBE", `${base}/nope`)).status).toBe(404);
    } finally {
      c.close();
    }
  });

  test("a client starts at a keyframe with SPS/PPS; RTP-Info names its first seq and rtptime; own SSRC; sender reports; TEARDOWN ends it", async () => {
    const a = await RtspClient.connect("127.0.0.1", port);
    const b = await RtspClient.connect("127.0.0.1", port);
    try {
      const { setup, play } = await a.play(`${base}/main`);
      await b.play(`${base}/main`);
      expect(setup.headers.get("session")).toMatch(/^[0-9A-F]{24};timeout=60$/);
      expect(setup.headers.get("transport")).toMatch(/^RTP\/AVP\/TCP;unicast;interleaved=0-1;ssrc=[0-9A-F]{8}$/);
      expect(play.headers.get("range")).toBe("npt=0.000-");
      await Promise.all([waitForAccessUnits(a, 70, 15_000), waitForAccessUnits(b, 70, 15_000)]);
      expect(a.counts.startedClean).toBe(true);
      expect(a.counts.sequenceGaps).toBe(0);
      expect(a.counts.keyframes).toBeGreaterThanOrEqual(2); // --h264-keyint 30
      const info = /url=([^;]+);seq=(\d+);rtptime=(\d+)/.exec(play.headers.get("rtp-info")!)!;
      expect(info[1]).toBe(`${base}/main/trackID=0`);
      expect(Number(info[2])).toBe(a.counts.firstSeq!);
      expect(Number(info[3])).toBe(a.counts.firstTimestamp!);
      expect(a.counts.ssrc).not.toBe(b.counts.ssrc);
      expect(Number.parseInt(/ssrc=([0-9A-F]+)/.exec(setup.headers.get("transport")!)![1]!, 16)).toBe(a.counts.ssrc!);
      expect(a.counts.senderReports).toBeGreaterThanOrEqual(1);
      // GET_PARAMETER keeps the session; TEARDOWN ends it and the stream stops coming.
      expect((await a.request("GET_PARAMETER", `${base}/main`)).status).toBe(200);
      expect((await a.request("TEARDOWN", `${base}/main`)).status).toBe(200);
      const after = a.counts.accessUnits;
      await waitForAccessUnits(b, b.counts.accessUnits + 15, 10_000);
      expect(a.counts.accessUnits).toBeLessThanOrEqual(after + 1);
      expect((await a.request("PLAY", `${base}/main`)).status).toBe(454);
    } finally {
      a.close();
      b.close();
    }
  });

  test("/state and /metrics count RTSP clients like MJPEG and WebRTC viewers; they leave when their connection closes", async () => {
    const clients = await Promise.all([0, 1].map(() => RtspClient.connect("127.0.0.1", port)));
    try {
      for (const c of clients) await c.play(`${base}/side`);
      await Promise.all(clients.map((c) => waitForAccessUnits(c, 30, 15_000)));
      const state = (await (await fetch(`${server.url}/state`)).json()) as StateDoc;
      const side = state.streams.find((s) => s.name === "side")!;
      expect(side.outputs.rtsp!.viewers).toHaveLength(2);
      expect(side.outputs.rtsp!.viewers[0]!.address).toBe("127.0.0.1");
      expect(side.outputs.rtsp!.viewers[0]!.frames).toBeGreaterThanOrEqual(30);
      expect(state.totals.rtspClients).toBe(2);
      const m = parsePrometheus(await (await fetch(`${server.url}/metrics`)).text());
      expect(m.value("glasscast_viewers", { stream: "side", transport: "rtsp" })).toBe(2);
      expect(m.value("glasscast_rtsp_clients")).toBe(2);
      expect(m.value("glasscast_frames_sent_total", { stream: "side", transport: "rtsp" })).toBeGreaterThanOrEqual(60);
    } finally {
      for (const c of clients) c.close();
    }
    await waitFor(async () => ((await (await fetch(`${server.url}/state`)).json()) as StateDoc).totals.rtspClients === 0, 5000, "the sessions to end");
  });

  test("malformed requests: 400 and the connection closed; unknown methods 501 with the connection kept", async () => {
    const cases: [string, number][] = [
      ["GARBAGE\r\n\r\n", 400],
      ["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400], // a TLS hello
      [`OPTIONS ${base}/ RTSP/1.0\r\nCSeq: 1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 400],
      [`OPTIONS ${base}/ RTSP/2.0\r\nCSeq: 1\r\n\r\n`, 505],
      [`SET_PARAMETER ${base}/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 99999999\r\n\r\n`, 413],
      [`OPTIONS ${base}/ RTSP/1.0\r\nCSeq 1\r\n\r\n`, 400],
    ];
    for (const [bytes, status] of cases) {
      const c = await RtspClient.connect("127.0.0.1", port);
      const reply = c.nextReply();
      c.writeRaw(bytes);
      expect({ bytes: bytes.slice(0, 30), status: (await reply).status }).toEqual({ bytes: bytes.slice(0, 30), status });
      await Promise.race([c.ended, Bun.sleep(5000)]);
      expect(c.closed).toBe(true);
    }
    // A head that never ends is cut off at its limit too.
    const endless = await RtspClient.connect("127.0.0.1", port);
    const cut = endless.nextReply();
    endless.writeRaw(`OPTIONS ${base}/ RTSP/1.0\r\nCSeq: 1\r\n`);
    for (let i = 0; i < 40; i++) endless.writeRaw(`X-${i}: ${"b".repeat(1000)}\r\n`);
    expect((await cut).status).toBe(400);

    const c = await RtspClient.connect("127.0.0.1", port);
    try {
      const unknown = await c.request("FOO", `${base}/main`);
      expect(unknown.status).toBe(501);
      expect((await c.request("ANNOUNCE", `${base}/main`)).status).toBe(405);
      expect((await c.request("PLAY", `${base}/main`)).status).toBe(454);
      expect((await c.request("PLAY", `${base}/main`, { Session: "DEADBEEF" })).status).toBe(454);
      expect((await c.request("SETUP", `${base}/main/trackID=0`, { Transport: "RTP/AVP;multicast;port=5000-5001" })).status).toBe(461);
      expect((await c.request("DESCRIBE", "http://example.org/x")).status).toBe(400);
      const noCseq = c.nextReply();
      c.writeRaw(`OPTIONS ${base}/ RTSP/1.0\r\n\r\n`);
      expect((await noCseq).status).toBe(400);
      // Still the same connection, still serving.
      expect((await c.request("OPTIONS", `${base}/`)).status).toBe(200);
      expect(c.closed).toBe(false);
    } finally {
      c.close();
    }
    expect(server.proc.exitCode).toBeNull();
  });

  test("a client that sends requests without waiting for answers is cut off at 16; a player next to it is unharmed", async () => {
    const player = await RtspClient.connect("127.0.0.1", port);
    const flooder = await RtspClient.connect("127.0.0.1", port);
    try {
      await player.play(`${base}/main`);
      flooder.writeRaw(Array.from({ length: 200 }, (_, i) => `OPTIONS ${base}/ RTSP/1.0\r\nCSeq: ${i + 1}\r\n\r\n`).join(""));
      await Promise.race([flooder.ended, Bun.sleep(5000)]);
      expect(flooder.closed).toBe(true);
      await waitForAccessUnits(player, player.counts.accessUnits + 30, 10_000);
      expect(player.counts.sequenceGaps).toBe(0);
    } finally {
      player.close();
      flooder.close();
    }
  });

  test("PAUSE stops the packets; PLAY again starts at a keyframe", async () => {
    const c = await RtspClient.connect("127.0.0.1", port);
    const kinds: boolean[] = [];
    c.onAccessUnit = (keyframe) => kinds.push(keyframe);
    try {
      await c.play(`${base}/main`);
      await waitForAccessUnits(c, 20, 10_000);
      expect((await c.request("PAUSE", `${base}/main`)).status).toBe(200);
      const paused = c.counts.accessUnits;
      await Bun.sleep(700);
      expect(c.counts.accessUnits).toBeLessThanOrEqual(paused + 1); // one may have been on its way
      const from = c.counts.accessUnits;
      expect((await c.request("PLAY", `${base}/main`)).status).toBe(200);
      await waitForAccessUnits(c, from + 20, 10_000);
      expect(kinds[from]).toBe(true);
    } finally {
      c.close();
    }
  });

  test("past --rtsp-max-clients SETUP answers 453 Not Enough Bandwidth", async () => {
    const clients = await Promise.all(Array.from({ length: 12 }, () => RtspClient.connect("127.0.0.1", port)));
    const extra = await RtspClient.connect("127.0.0.1", port);
    try {
      for (const c of clients) await c.play(`${base}/main`);
      expect((await extra.request("DESCRIBE", `${base}/main`)).status).toBe(200);
      const refused = await extra.request("SETUP", `${base}/main/trackID=0`, { Transport: "RTP/AVP/TCP;unicast;interleaved=0-1" });
      expect(refused.status).toBe(453);
      clients[0]!.close();
      await waitFor(
        async () => (await extra.request("SETUP", `${base}/main/trackID=0`, { Transport: "RTP/AVP/TCP;unicast;interleaved=0-1" })).status === 200,
        5000,
        "a free place",
      );
    } finally {
      for (const c of clients) c.close();
      extra.close();
    }
  });

  test("a UDP client killed without TEARDOWN (its ports now unreachable) harms nobody; its session is reaped later (so this test comes last)", async () => {
    const proc = Bun.spawn(
      [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-rtsp_transport",
        "udp",
        "-i",
        `${base}/main`,
        "-f",
        "framecrc",
        "-flush_packets",
        "1",
        "-",
      ],
      { stdout: "pipe", stderr: "ignore" },
    );
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    let lines = 0;
    while (lines < 20) {
      const { value, done } = await reader.read();
      if (done) break;
      lines += new TextDecoder()
        .decode(value)
        .split("\n")
        .filter((l) => l.startsWith("0,")).length;
    }
    expect(lines).toBeGreaterThanOrEqual(20);
    proc.kill("SIGKILL");
    await proc.exited;
    // The server keeps sending to the dead ports for a while: the kernel answers "port unreachable".
    const c = await RtspClient.connect("127.0.0.1", port);
    try {
      await c.play(`${base}/main`);
      await waitForAccessUnits(c, 45, 15_000);
    } finally {
      c.close();
    }
    expect(server.proc.exitCode).toBeNull();
  });
});
