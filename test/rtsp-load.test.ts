/**
 * RTSP next to the other outputs, under load: ten RTSP clients, MJPEG
 * viewers and a WebRTC peer of one stream share ONE H.264 encoder; a TCP
 * client that stops reading skips to later keyframes while the others keep
 * their rate and the server's memory stays bounded; the encoder stops after
 * the last client leaves.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readParts } from "./helpers/mjpeg-client.ts";
import { feedRateDuring, freePort, RtspClient, waitForAccessUnits } from "./helpers/rtsp.ts";
import { rssOf, startServer, waitFor, type RunningServer } from "./helpers/server.ts";
import { connectViewer } from "./helpers/webrtc-client.ts";

setDefaultTimeout(120_000);

/** The server's ffmpeg children running libx264 (H.264 encoders). */
function encoders(pid: number): string[] {
  const out = Bun.spawnSync(["pgrep", "-a", "-P", String(pid), "ffmpeg"])
    .stdout.toString()
    .trim();
  return (out ? out.split("\n") : []).filter((c) => c.includes("libx264"));
}

interface RtspState {
  streams: { outputs: { rtsp: { viewers: { frames: number; skipped: number }[] } } }[];
}

/**
 * A client in another process (Debian's python3) that sets a 4 KiB receive
 * buffer, plays over TCP and then never reads again: the server's socket
 * fills up and stays full.
 */
const STALLED_CLIENT = `
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
url = sys.argv[2]
def ask(n, lines):
    s.sendall(("\\r\\n".join(lines + ["CSeq: %d" % n, "", ""])).encode())
    head = b""
    while b"\\r\\n\\r\\n" not in head:
        head += s.recv(1)
    text = head.decode("latin1")
    length = 0
    for line in text.split("\\r\\n"):
        if line.lower().startswith("content-length:"): length = int(line.split(":")[1])
    body = b""
    while len(body) < length: body += s.recv(length - len(body))
    return text
ask(1, ["DESCRIBE %s RTSP/1.0" % url])
setup = ask(2, ["SETUP %s/trackID=0 RTSP/1.0" % url, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"])
session = [l.split(":", 1)[1].strip().split(";")[0] for l in setup.split("\\r\\n") if l.lower().startswith("session:")][0]
s.sendall(("PLAY %s RTSP/1.0\\r\\nCSeq: 3\\r\\nSession: %s\\r\\n\\r\\n" % (url, session)).encode())
print("playing", flush=True)
time.sleep(600)
`;

/**
 * A client (python3, another process) that reads at a fixed pace, slower
 * than the stream: it parses the interleaved RTP and reports, once it has
 * seen `jumps` skips or `seconds` passed, how the skips looked: a jump of
 * the RTP timestamp by more than a second is a skip (here they are seconds
 * long: the backlog it skips), and the access unit after it must be a
 * keyframe with SPS/PPS, with no gap in the sequence numbers.
 */
const SLOW_CLIENT = `
import socket, sys, time, json, struct
port, url, rate, want, seconds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.connect(("127.0.0.1", port))
buf = b""
def reply():
    global buf
    while b"\\r\\n\\r\\n" not in buf: buf += s.recv(4096)
    head, buf = buf.split(b"\\r\\n\\r\\n", 1)
    text = head.decode("latin1")
    length = 0
    for line in text.split("\\r\\n"):
        if line.lower().startswith("content-length:"): length = int(line.split(":")[1])
    while len(buf) < length: buf += s.recv(4096)
    buf = buf[length:]
    return text
s.sendall(("DESCRIBE %s RTSP/1.0\\r\\nCSeq: 1\\r\\n\\r\\n" % url).encode()); reply()
s.sendall(("SETUP %s/trackID=0 RTSP/1.0\\r\\nCSeq: 2\\r\\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\\r\\n\\r\\n" % url).encode())
session = [l.split(":", 1)[1].strip().split(";")[0] for l in reply().split("\\r\\n") if l.lower().startswith("session:")][0]
s.sendall(("PLAY %s RTSP/1.0\\r\\nCSeq: 3\\r\\nSession: %s\\r\\n\\r\\n" % (url, session)).encode()); reply()
out = {"aus": 0, "keyframes": 0, "jumps": 0, "jumpsAtKeyframe": 0, "seqGaps": 0, "detail": []}
last_seq = None; last_ts = None; types = set(); after_jump = False
start = time.time(); s.settimeout(0.05)
while (out["jumps"] < want or after_jump) and time.time() - start < seconds:
    t0 = time.time()
    try: buf += s.recv(max(1, int(rate * 0.05)))
    except socket.timeout: pass
    while len(buf) >= 4 and len(buf) >= 4 + struct.unpack(">H", buf[2:4])[0]:
        ch, n = buf[1], struct.unpack(">H", buf[2:4])[0]
        pkt, buf = buf[4:4 + n], buf[4 + n:]
        if ch != 0: continue
        seq, ts = struct.unpack(">H", pkt[2:4])[0], struct.unpack(">I", pkt[4:8])[0]
        if last_seq is not None and seq != (last_seq + 1) & 0xffff: out["seqGaps"] += 1
        last_seq = seq
        if last_ts is not None and out["aus"] > 40 and ((ts - last_ts) & 0xffffffff) > 90000 and not types:
            out["jumps"] += 1; after_jump = True; out["detail"].append([out["aus"], (ts - last_ts) & 0xffffffff])
        t = pkt[12] & 0x1f
        if t == 24:
            i = 13
            while i + 2 < len(pkt):
                size = struct.unpack(">H", pkt[i:i + 2])[0]; types.add(pkt[i + 2] & 0x1f); i += 2 + size
        elif t == 28:
            if pkt[13] & 0x80: types.add(pkt[13] & 0x1f)
        else: types.add(t)
        if pkt[1] & 0x80:
            out["aus"] += 1
            if 5 in types: out["keyframes"] += 1
            if after_jump: out["detail"][-1].append(sorted(types))
            if after_jump and 5 in types and 7 in types: out["jumpsAtKeyframe"] += 1
            after_jump = False; types = set(); last_ts = ts
    time.sleep(max(0, 0.05 - (time.time() - t0)))
print(json.dumps(out), flush=True)
`;

describe("one 1280x720 stream, many outputs", () => {
  let server: RunningServer;
  let port: number;
  let base: string;
  beforeAll(async () => {
    port = freePort();
    server = await startServer([
      "--rtsp-port",
      String(port),
      "--width",
      "1280",
      "--height",
      "720",
      "--fps",
      "30",
      "--webrtc-candidate",
      "127.0.0.1",
      "--h264-bitrate",
      "8000",
    ]);
    base = `rtsp://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server.stop();
  });

  test("10 RTSP clients + 2 MJPEG viewers + 1 WebRTC peer: exactly one H.264 encoder; every RTSP client at the source's rate", async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => RtspClient.connect("127.0.0.1", port)));
    const peer = await connectViewer(server.url);
    const mjpeg = [0, 1].map(() => readParts(`${server.url}/video`, { count: 60, ms: 20_000 }));
    try {
      await Promise.all(clients.map((c) => c.play(`${base}/`)));
      await Promise.all(clients.map((c) => waitForAccessUnits(c, 40, 20_000)));
      await waitFor(() => peer.received.frames >= 30, 20_000, "30 access units at the WebRTC peer");
      expect(encoders(server.proc.pid)).toHaveLength(1);
      // The live rate: access units counted over the next 60 of the first client, for all of them.
      const start = clients.map((c) => c.counts.accessUnits);
      const t0 = performance.now();
      const { fps: made } = await feedRateDuring(server.url, 0, () => waitForAccessUnits(clients[0]!, start[0]! + 60, 20_000));
      const seconds = (performance.now() - t0) / 1000;
      expect(made).toBeGreaterThan(10);
      clients.forEach((c, i) => {
        // Each gets what the one encoder makes (30 a second, fewer when the machine starves it).
        const fps = (c.counts.accessUnits - start[i]!) / seconds;
        expect({ i, ok: fps > 0.8 * made && fps < 40 }).toEqual({ i, ok: true });
        expect(c.counts.startedClean).toBe(true);
        expect(c.counts.sequenceGaps).toBe(0);
      });
      expect(new Set(clients.map((c) => c.counts.ssrc)).size).toBe(10);
      for (const parts of await Promise.all(mjpeg)) expect(parts.length).toBe(60);
      expect(encoders(server.proc.pid)).toHaveLength(1);
    } finally {
      for (const c of clients) c.close();
      await peer.close();
    }
  });

  test("a client reading slower than the stream skips whole access units and resumes each time at a keyframe with SPS/PPS", async () => {
    // 8 Mbit/s of 720p read at 300 kB/s: its connection fills, then it skips.
    const slow = Bun.spawn(["/usr/bin/python3", "-c", SLOW_CLIENT, String(port), `${base}/main`, "300000", "2", "60"], { stdout: "pipe", stderr: "inherit" });
    const report = JSON.parse(await new Response(slow.stdout).text()) as {
      aus: number;
      keyframes: number;
      jumps: number;
      jumpsAtKeyframe: number;
      seqGaps: number;
      detail: unknown[];
    };
    expect(report.jumps).toBeGreaterThanOrEqual(2);
    expect({ atKeyframe: report.jumpsAtKeyframe, detail: report.detail }).toEqual({ atKeyframe: report.jumps, detail: report.detail });
    expect(report.seqGaps).toBe(0); // skipped access units are never numbered: nothing looks lost
  });

  test("a TCP client that stops reading skips to later keyframes; the others keep their rate; memory stays bounded", async () => {
    const rssBefore = await rssOf(server.proc.pid);
    const stalled = Bun.spawn(["/usr/bin/python3", "-c", STALLED_CLIENT, String(port), `${base}/main`], { stdout: "pipe", stderr: "inherit" });
    const reader = await RtspClient.connect("127.0.0.1", port);
    try {
      const out = (stalled.stdout as ReadableStream<Uint8Array>).getReader();
      expect(new TextDecoder().decode((await out.read()).value)).toContain("playing");
      await reader.play(`${base}/main`);
      // The stalled client's connection fills (kernel buffers, then the server's bounded queue): it starts skipping.
      const state = async () => ((await (await fetch(`${server.url}/state`)).json()) as RtspState).streams[0]!.outputs.rtsp.viewers;
      await waitFor(async () => (await state()).some((v) => v.skipped > 30), 60_000, "the stalled client to skip access units");
      // Meanwhile the reading client keeps the source's rate.
      const from = reader.counts.accessUnits;
      const t0 = performance.now();
      const { fps: made } = await feedRateDuring(server.url, 0, () => waitForAccessUnits(reader, from + 60, 20_000));
      const fps = (reader.counts.accessUnits - from) / ((performance.now() - t0) / 1000);
      expect(made).toBeGreaterThan(10);
      expect(fps).toBeGreaterThan(0.8 * made);
      expect(reader.counts.sequenceGaps).toBe(0);
      // Skipping more, holding no more: the server's memory does not grow with the backlog.
      const skippedThen = Math.max(...(await state()).map((v) => v.skipped));
      await waitFor(async () => Math.max(...(await state()).map((v) => v.skipped)) > skippedThen + 60, 20_000, "60 more skipped");
      expect((await rssOf(server.proc.pid)) - rssBefore).toBeLessThan(100 * 1024 * 1024);
    } finally {
      stalled.kill("SIGKILL");
      await stalled.exited;
      reader.close();
    }
    // With everyone gone the encoder stops (after its linger).
    await waitFor(() => encoders(server.proc.pid).length === 0, 20_000, "the encoder to stop");
  });
});
