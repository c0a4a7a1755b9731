/**
 * Hostile RTSP publishers against an `rtsp-push:` stream: announcements that
 * cannot be used (not SDP, no H.264, too big, the wrong type), requests out
 * of order, a second publisher, and a publisher that RECORDs and then sends
 * garbage: huge interleaved frames, RTP that never ends a picture (past the
 * 16 MiB bound), bytes that are not RTSP at all. Each gets a clear 4xx (or
 * its connection closed), never a stack or a secret, and a real publisher's
 * stream beside it keeps its viewer's pictures.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect } from "node:net";
import { RtspClient, type RtspReply } from "../../scripts/bench/lib/rtsp-client.ts";
import { MAX_IDLE_PER_CLIENT } from "../../src/outputs/rtsp/server.ts";
import { freePort } from "../helpers/rtsp.ts";
import { startServer, waitFor, type RunningServer } from "../helpers/server.ts";
import { expectNoLeak, HealthyViewer } from "./helpers.ts";

setDefaultTimeout(120_000);

const TOKEN = "ingest-token-adversarial-0123";
const auth = { Authorization: `Basic ${Buffer.from(`publisher:${TOKEN}`).toString("base64")}` };
const H264_SDP =
  "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:streamid=0\r\n";

let b: RunningServer;
let port: number;
let healthy: HealthyViewer;
let pusher: ReturnType<typeof Bun.spawn>;
const clients: RtspClient[] = [];

async function client(): Promise<RtspClient> {
  const c = await RtspClient.connect("127.0.0.1", port);
  clients.push(c);
  return c;
}

/** A request with a body (RtspClient.request sends none). */
function withBody(c: RtspClient, method: string, uri: string, body: string, headers: Record<string, string> = {}): Promise<RtspReply> {
  const reply = c.nextReply();
  const head = [`${method} ${uri} RTSP/1.0`, "CSeq: 7", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), `Content-Length: ${Buffer.byteLength(body)}`];
  c.writeRaw(head.join("\r\n") + "\r\n\r\n" + body);
  return reply;
}

function checked(reply: RtspReply): number {
  expectNoLeak(reply.body, [TOKEN]);
  return reply.status;
}

beforeAll(async () => {
  port = freePort();
  b = await startServer([
    "--source",
    "door=rtsp-push:door",
    "--source",
    "yard=rtsp-push:yard",
    "--source",
    "lobby=testsrc",
    "--rtsp-port",
    String(port),
    "--ingest-token",
    TOKEN,
    "--width",
    "160",
    "--height",
    "120",
    "--fps",
    "10",
    "--source-timeout",
    "5",
  ]);
  pusher = Bun.spawn(
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
      "testsrc=size=160x120:rate=10",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-tune",
      "zerolatency",
      "-g",
      "10",
      "-pix_fmt",
      "yuv420p",
      "-f",
      "rtsp",
      "-rtsp_transport",
      "tcp",
      `rtsp://publisher:${TOKEN}@127.0.0.1:${port}/door`,
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
  );
  healthy = new HealthyViewer(`${b.url}/video/door`);
  await waitFor(
    async () => ((await (await fetch(`${b.url}/state`)).json()) as { streams: { ingest: { state: string } }[] }).streams[0]!.ingest.state === "live",
    45_000,
    "the real publisher live",
  );
  await healthy.keepsWatching(5, 45_000);
});

afterAll(async () => {
  for (const c of clients) c.close();
  healthy?.close();
  pusher?.kill("SIGTERM");
  await pusher?.exited;
  await b?.stop();
});

describe("announcements that cannot be used", () => {
  test("not SDP, no H.264, audio only, the wrong type, no stream, a stream nobody pushes to: 4xx, and the connection still answers", async () => {
    const c = await client();
    const yard = `rtsp://127.0.0.1:${port}/yard`;
    expect(checked(await withBody(c, "ANNOUNCE", yard, "hello", { ...auth, "Content-Type": "application/sdp" }))).toBe(400);
    const vp8 = H264_SDP.replace("H264/90000", "VP8/90000");
    const refused = await withBody(c, "ANNOUNCE", yard, vp8, { ...auth, "Content-Type": "application/sdp" });
    expect(checked(refused)).toBe(415);
    expect(refused.body).toContain("VP8");
    const audio = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\n";
    expect(checked(await withBody(c, "ANNOUNCE", yard, audio, { ...auth, "Content-Type": "application/sdp" }))).toBe(415);
    expect(checked(await withBody(c, "ANNOUNCE", yard, H264_SDP, { ...auth, "Content-Type": "text/plain" }))).toBe(415);
    expect(checked(await withBody(c, "ANNOUNCE", yard, H264_SDP.replace("packetization-mode=1", "packetization-mode=2"), auth))).toBe(415);
    expect(checked(await withBody(c, "ANNOUNCE", `rtsp://127.0.0.1:${port}/nowhere`, H264_SDP, auth))).toBe(404);
    expect(checked(await withBody(c, "ANNOUNCE", `rtsp://127.0.0.1:${port}/lobby`, H264_SDP, auth))).toBe(405);
    expect(checked(await c.request("RECORD", yard, auth))).toBe(454);
    expect(checked(await c.request("RECORD", yard, { ...auth, Session: "NOSUCHSESSION" }))).toBe(454);
    expect((await c.request("OPTIONS", yard)).headers.get("public")).toContain("ANNOUNCE");
    await healthy.keepsWatching(3);
  });

  test("a body over 16 KiB: 413 and the connection closed", async () => {
    const c = await client();
    const reply = await withBody(c, "ANNOUNCE", `rtsp://127.0.0.1:${port}/yard`, H264_SDP + "a=x:" + "y".repeat(20_000) + "\r\n", auth);
    expect(checked(reply)).toBe(413);
    await c.ended;
    await healthy.keepsWatching(3);
  });

  test("a second publisher of a live stream: 453 at ANNOUNCE; the first keeps it", async () => {
    const c = await client();
    const reply = await withBody(c, "ANNOUNCE", `rtsp://127.0.0.1:${port}/door`, H264_SDP, { ...auth, "Content-Type": "application/sdp" });
    expect(checked(reply)).toBe(453);
    expect(reply.body).toContain("already has a publisher");
    await healthy.keepsWatching(5);
  });

  test("SETUP of a track that was not announced: 404; PLAY on a publishing session: 455", async () => {
    const c = await client();
    const yard = `rtsp://127.0.0.1:${port}/yard`;
    expect(checked(await withBody(c, "ANNOUNCE", yard, H264_SDP, { ...auth, "Content-Type": "application/sdp" }))).toBe(200);
    expect(checked(await c.request("SETUP", `${yard}/streamid=5`, { Transport: "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record" }))).toBe(404);
    const setup = await c.request("SETUP", `${yard}/streamid=0`, { Transport: "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record" });
    expect(checked(setup)).toBe(200);
    c.session = setup.headers.get("session")!.split(";")[0]!;
    expect(checked(await c.request("PLAY", yard))).toBe(455);
    expect(checked(await c.request("TEARDOWN", yard))).toBe(200);
  });
});

/** A plain TCP connection (node:net buffers every write, so megabytes go out whole) that reads RTSP answers' status. */
async function rawConnection(): Promise<{
  send(bytes: string | Uint8Array): void;
  status(): Promise<{ status: number; session: string | null; text: string }>;
  closed: Promise<void>;
  end(): void;
}> {
  const socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  let text = "";
  let wake: (() => void) | null = null;
  socket.on("data", (d: Buffer) => {
    text += d.toString("latin1");
    wake?.();
  });
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => {
      wake?.();
      resolve();
    }),
  );
  socket.on("error", () => {});
  return {
    send: (bytes) => {
      socket.write(bytes);
    },
    async status() {
      const end = Date.now() + 20_000;
      for (;;) {
        const m = /RTSP\/1\.0 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(text);
        if (m) {
          const length = Number(/content-length: (\d+)/i.exec(m[2]!)?.[1] ?? 0);
          const total = m.index + m[0].length + length;
          if (text.length >= total) {
            const body = text.slice(m.index + m[0].length, total);
            text = text.slice(total);
            return { status: Number(m[1]), session: /session: ([^;\r]+)/i.exec(m[2]!)?.[1] ?? null, text: body };
          }
        }
        if (Date.now() > end) throw new Error("no RTSP answer in time");
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 200);
        });
      }
    },
    closed,
    end: () => socket.destroy(),
  };
}

describe("a stranger's interleaved frames", () => {
  test("interleaved frames on a connection with no interleaved session (no login, no SETUP): the connection is closed at once", async () => {
    const c = await rawConnection();
    // Tiny frames cost the server most per byte: each is a message of its own.
    const tiny = Buffer.concat(Array.from({ length: 4096 }, () => Buffer.from([0x24, 0, 0, 4, 0x80, 0x60, 0, 1])));
    for (let i = 0; i < 16; i++) c.send(tiny);
    const closed = await Promise.race([c.closed.then(() => true), Bun.sleep(10_000).then(() => false)]);
    expect(closed).toBe(true);
    await healthy.keepsWatching(3);
    // A client that plays over TCP still sends its receiver reports: they are its session's, and welcome.
    const viewer = await client();
    const lobby = `rtsp://127.0.0.1:${port}/lobby`;
    const { play } = await viewer.play(lobby);
    expect(play.status).toBe(200);
    viewer.writeRaw(Buffer.from([0x24, 1, 0, 8, 0x81, 201, 0, 1, 0, 0, 0, 1]));
    expect((await viewer.request("GET_PARAMETER", lobby, { Session: play.headers.get("session")!.split(";")[0]! })).status).toBe(200);
    expect(viewer.closed).toBe(false);
  });

  test("a player's session is no licence to flood: past its receiver-report budget its connection closes, and the others keep watching", async () => {
    const viewer = await client();
    const { play } = await viewer.play(`rtsp://127.0.0.1:${port}/lobby`);
    expect(play.status).toBe(200);
    // Well-formed RTCP receiver reports on its own channel, 16 × 4096 of them at once.
    const report = Buffer.from([0x24, 1, 0, 8, 0x81, 201, 0, 1, 0, 0, 0, 1]);
    const flood = Buffer.concat(Array.from({ length: 4096 }, () => report));
    for (let i = 0; i < 16 && !viewer.closed; i++) viewer.writeRaw(flood);
    await waitFor(() => viewer.closed, 10_000, "the flooding player's connection closed by the server");
    await healthy.keepsWatching(3);
  });
});

describe("idle connections filling the server", () => {
  test("past the connection limit, a stranger's idle connections give way: a publisher still announces, a player still plays", async () => {
    // 50 (--rtsp-max-clients) × 2 + 32 connections that never say anything, and a few more.
    // (Those past the limit close the idlest others: a reset is what some of them get.)
    const idle = await Promise.all(
      Array.from({ length: 140 }, async () => {
        const socket = connect({ host: "127.0.0.1", port });
        socket.on("error", () => {});
        await new Promise<void>((resolve) => {
          socket.once("connect", resolve);
          socket.once("close", resolve);
        });
        return { end: () => socket.destroy() };
      }),
    );
    try {
      const c = await rawConnection();
      const yard = `rtsp://127.0.0.1:${port}/yard`;
      c.send(
        `ANNOUNCE ${yard} RTSP/1.0\r\nCSeq: 1\r\nAuthorization: ${auth.Authorization}\r\nContent-Type: application/sdp\r\nContent-Length: ${H264_SDP.length}\r\n\r\n${H264_SDP}`,
      );
      expect((await c.status()).status).toBe(200);
      c.end();
      const viewer = await client();
      const { play } = await viewer.play(`rtsp://127.0.0.1:${port}/lobby`);
      expect(play.status).toBe(200);
      viewer.close();
      await healthy.keepsWatching(3);
    } finally {
      for (const s of idle) s.end();
    }
  });
});

describe("one client's idle connections", () => {
  test(`past ${MAX_IDLE_PER_CLIENT}, each new one closes that client's oldest: the server holds at most ${MAX_IDLE_PER_CLIENT} of them`, async () => {
    const opened = Array.from({ length: MAX_IDLE_PER_CLIENT + 10 }, () => ({ closed: false, socket: null as ReturnType<typeof connect> | null }));
    try {
      // One at a time, so that which is oldest is known.
      for (const o of opened) {
        const socket = connect({ host: "127.0.0.1", port });
        o.socket = socket;
        socket.on("error", () => {});
        socket.on("close", () => {
          o.closed = true;
        });
        await new Promise<void>((resolve) => {
          socket.once("connect", resolve);
          socket.once("close", resolve);
        });
      }
      await waitFor(() => opened.filter((o) => o.closed).length >= 10, 10_000, "ten of them closed by the server");
      expect(opened.map((o) => o.closed)).toEqual(opened.map((_, i) => i < 10));
      // A player from the same address still plays (its connection closes the oldest idle one).
      const viewer = await client();
      const { play } = await viewer.play(`rtsp://127.0.0.1:${port}/lobby`);
      expect(play.status).toBe(200);
      viewer.close();
    } finally {
      for (const o of opened) o.socket?.destroy();
    }
  });
});

describe("a publisher that sends garbage", () => {
  test("huge interleaved frames, RTP that never ends a picture, then bytes that are not RTSP: dropped, bounded, and the other stream keeps its pictures", async () => {
    const c = await rawConnection();
    const yard = `rtsp://127.0.0.1:${port}/yard`;
    c.send(
      `ANNOUNCE ${yard} RTSP/1.0\r\nCSeq: 1\r\nAuthorization: ${auth.Authorization}\r\nContent-Type: application/sdp\r\nContent-Length: ${H264_SDP.length}\r\n\r\n${H264_SDP}`,
    );
    expect((await c.status()).status).toBe(200);
    c.send(`SETUP ${yard}/streamid=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n`);
    const setup = await c.status();
    expect(setup.status).toBe(200);
    c.send(`RECORD ${yard} RTSP/1.0\r\nCSeq: 3\r\nSession: ${setup.session}\r\nRange: npt=0.000-\r\n\r\n`);
    expect((await c.status()).status).toBe(200);

    // 13 MB of the largest interleaved frames there are, none of it RTP.
    const frame = Buffer.alloc(4 + 65535, 0xab);
    frame[0] = 0x24;
    frame[1] = 0;
    frame.writeUInt16BE(65535, 2);
    for (let i = 0; i < 200; i++) c.send(frame);
    // 20 MB of one picture's FU-A fragments that never end (past the 16 MiB an access unit may have).
    for (let i = 0; i < 320; i++) {
      const rtp = Buffer.alloc(4 + 12 + 2 + 65000, 0x55);
      rtp[0] = 0x24;
      rtp[1] = 0;
      rtp.writeUInt16BE(rtp.length - 4, 2);
      rtp[4] = 0x80;
      rtp[5] = 96;
      rtp.writeUInt16BE(i, 6);
      rtp.writeUInt32BE(1234, 8);
      rtp.writeUInt32BE(0xdeadbeef, 12);
      rtp[16] = 0x1c;
      rtp[17] = i === 0 ? 0x85 : 0x05; // FU-A of an IDR slice: its start, then middles, never its end
      c.send(rtp);
    }
    // Then an ordinary request: everything before it was read (and dropped), the connection is in step.
    c.send(`GET_PARAMETER ${yard} RTSP/1.0\r\nCSeq: 4\r\nSession: ${setup.session}\r\n\r\n`);
    expect((await c.status()).status).toBe(200);
    await healthy.keepsWatching(5);
    const state = (await (await fetch(`${b.url}/state`)).json()) as { streams: { name: string; ingest: { state: string; frames: number; bytes: number } }[] };
    const ingest = state.streams.find((s) => s.name === "yard")!.ingest;
    // (Live until 5 s after its last packet, --source-timeout: not asserted, a busy machine may take that long.)
    expect(ingest.frames).toBe(0);
    expect(ingest.bytes).toBeGreaterThan(16 * 1024 * 1024);

    // Not RTSP and not '$': 400, the connection closed, and the publisher gone with it.
    c.send("\u0000\u0001 not a request at all\r\n\r\n");
    const refused = await c.status().catch(() => null); // (or already closed: the publisher fell silent meanwhile)
    if (refused) {
      expect(refused.status).toBe(400);
      expectNoLeak(refused.text, [TOKEN]);
    }
    await c.closed;
    await waitFor(
      async () => {
        const s = (await (await fetch(`${b.url}/state`)).json()) as { streams: { name: string; ingest: { state: string } }[] };
        return s.streams.find((x) => x.name === "yard")!.ingest.state === "waiting";
      },
      10_000,
      "the garbage publisher gone",
    );
    await healthy.keepsWatching(5);
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
  });

  test("a publisher that goes silent after its first packet is dropped after --source-timeout (5 s here), and its connection closed", async () => {
    const c = await rawConnection();
    const yard = `rtsp://127.0.0.1:${port}/yard`;
    c.send(
      `ANNOUNCE ${yard} RTSP/1.0\r\nCSeq: 1\r\nAuthorization: ${auth.Authorization}\r\nContent-Type: application/sdp\r\nContent-Length: ${H264_SDP.length}\r\n\r\n${H264_SDP}`,
    );
    expect((await c.status()).status).toBe(200);
    c.send(`SETUP ${yard}/streamid=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n`);
    const setup = await c.status();
    c.send(`RECORD ${yard} RTSP/1.0\r\nCSeq: 3\r\nSession: ${setup.session}\r\n\r\n`);
    expect((await c.status()).status).toBe(200);
    // One RTP packet of the announced type (a non-IDR slice): the publisher is live, then says nothing.
    const rtp = Buffer.alloc(4 + 12 + 20, 0x11);
    rtp[0] = 0x24;
    rtp[1] = 0;
    rtp.writeUInt16BE(rtp.length - 4, 2);
    rtp[4] = 0x80;
    rtp[5] = 0x80 | 96;
    rtp.writeUInt16BE(1, 6);
    rtp.writeUInt32BE(0, 8);
    rtp.writeUInt32BE(7, 12);
    rtp[16] = 0x41;
    c.send(rtp);
    const yardIngest = async () =>
      ((await (await fetch(`${b.url}/state`)).json()) as { streams: { name: string; ingest: { state: string; bytes: number } }[] }).streams.find(
        (s) => s.name === "yard",
      )!.ingest;
    await waitFor(async () => (await yardIngest()).bytes > 0, 5000, "the packet received");
    const closedAt = Promise.race([c.closed.then(() => "closed"), Bun.sleep(15_000).then(() => "still open")]);
    expect(await closedAt).toBe("closed");
    expect((await yardIngest()).state).toBe("waiting");
    await healthy.keepsWatching(3);
  });
});
