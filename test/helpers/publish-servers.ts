/**
 * The servers a --publish destination talks to, run by the test on
 * 127.0.0.1: ffmpeg listening as an RTMP, RTSP or SRT server and decoding
 * what it receives (one framecrc line per decoded picture, with its size),
 * and a small WHIP endpoint (Bun.serve + a werift receiver) that answers 201
 * with an SDP answer and counts the H.264 pictures and keyframes it gets.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, type RtpPacket } from "werift";
import { nalTypes } from "./webrtc-client.ts";

/** A TCP port free right now on 127.0.0.1. */
export function freeTcpPort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** A UDP port free right now on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const port = socket.port;
  socket.close();
  return port;
}

export interface DecodedPicture {
  pts: number;
  size: number;
}

export interface Listener {
  readonly url: string;
  /** Decoded pictures so far. */
  readonly pictures: DecodedPicture[];
  /** "WxH" from framecrc's header, once known. */
  dimensions(): string | null;
  /** Time base of the pts (e.g. 1/1000), once known. */
  timeBase(): number | null;
  stderr(): string;
  readonly proc: ReturnType<typeof Bun.spawn>;
  kill(): Promise<void>;
}

const listeners = new Set<ReturnType<typeof Bun.spawn>>();
process.on("exit", () => {
  for (const p of listeners) p.kill("SIGKILL");
});

/** ffmpeg as a server that a publisher pushes to; decodes and lists every picture (no frame rate forced on them). */
export function startListener(protocol: "rtmp" | "rtsp" | "srt", port: number, path = "live/x", srtOptions = ""): Listener {
  const url =
    protocol === "rtmp"
      ? `rtmp://127.0.0.1:${port}/${path}`
      : protocol === "rtsp"
        ? `rtsp://127.0.0.1:${port}/${path}`
        : `srt://127.0.0.1:${port}?mode=listener${srtOptions}`;
  const input = protocol === "rtmp" ? ["-listen", "1", "-i", url] : protocol === "rtsp" ? ["-rtsp_flags", "listen", "-i", url] : ["-i", url];
  // A short probe: the default (5 s or 5 MB of input) holds every picture back until it is done.
  const probe = ["-probesize", "32768", "-analyzeduration", "1000000"];
  const proc = Bun.spawn(
    [
      "ffmpeg",
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "warning",
      ...probe,
      ...input,
      "-map",
      "0:v:0",
      "-fps_mode",
      "passthrough",
      "-pix_fmt",
      "yuv420p",
      "-f",
      "framecrc",
      "-",
    ],
    { stdout: "pipe", stderr: "pipe", stdin: "ignore" },
  );
  listeners.add(proc);
  void proc.exited.then(() => listeners.delete(proc));
  const pictures: DecodedPicture[] = [];
  let dims: string | null = null;
  let tb: number | null = null;
  let err = "";
  void (async () => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const d = /^#dimensions 0: (\d+x\d+)/.exec(line);
        if (d) dims = d[1]!;
        const t = /^#tb 0: (\d+)\/(\d+)/.exec(line);
        if (t) tb = Number(t[1]) / Number(t[2]);
        const f = /^0,\s*(-?\d+),\s*(-?\d+),\s*\d+,\s*(\d+),/.exec(line);
        if (f) pictures.push({ pts: Number(f[2]), size: Number(f[3]) });
      }
    }
  })();
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) err += decoder.decode(chunk, { stream: true });
  })();
  return {
    url,
    pictures,
    proc,
    dimensions: () => dims,
    timeBase: () => tb,
    stderr: () => err,
    async kill() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

export interface WhipSession {
  readonly id: string;
  readonly pc: RTCPeerConnection;
  frames: number;
  keyframes: number;
  /** The first whole picture held an IDR slice with SPS and PPS. */
  startedClean: boolean | null;
  deleted: boolean;
}

export interface WhipEndpoint {
  readonly url: string;
  readonly port: number;
  readonly sessions: WhipSession[];
  /** Authorization headers of every POST, as sent. */
  readonly authorizations: (string | null)[];
  /** POSTs refused for a wrong token. */
  refused: number;
  stop(): Promise<void>;
}

function h264(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: "video/H264",
    clockRate: 90000,
    rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }],
    parameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  });
}

/** A WHIP endpoint at /whip/live (on `port`, else a free one); with `token`, a POST without `Bearer token` gets 401. */
export function startWhipEndpoint(token: string | null = null, port = 0): WhipEndpoint {
  const sessions: WhipSession[] = [];
  const authorizations: (string | null)[] = [];
  const endpoint: { refused: number } = { refused: 0 };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method === "POST" && url.pathname === "/whip/live") {
        authorizations.push(req.headers.get("authorization"));
        if (token !== null && req.headers.get("authorization") !== `Bearer ${token}`) {
          endpoint.refused++;
          return new Response("unauthorized", { status: 401 });
        }
        if (req.headers.get("content-type") !== "application/sdp") return new Response("expected application/sdp", { status: 415 });
        const offer = await req.text();
        const pc = new RTCPeerConnection({
          iceServers: [],
          iceUseIpv4: false,
          iceUseIpv6: false,
          iceAdditionalHostAddresses: ["127.0.0.1"],
          codecs: { video: [h264()], audio: [] },
        });
        const session: WhipSession = { id: crypto.randomUUID(), pc, frames: 0, keyframes: 0, startedClean: null, deleted: false };
        let types = new Set<number>();
        pc.addTransceiver("video", { direction: "recvonly" }).onTrack.subscribe((track) => {
          track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
            for (const t of nalTypes(rtp.payload)) types.add(t);
            if (!rtp.header.marker) return;
            session.frames++;
            const key = types.has(5);
            if (key) session.keyframes++;
            session.startedClean ??= key && types.has(7) && types.has(8);
            types = new Set();
          });
        });
        await pc.setRemoteDescription({ type: "offer", sdp: offer });
        await pc.setLocalDescription(await pc.createAnswer());
        sessions.push(session);
        return new Response(pc.localDescription!.sdp, {
          status: 201,
          headers: { "content-type": "application/sdp", location: `/whip/live/session/${session.id}` },
        });
      }
      const m = /^\/whip\/live\/session\/([0-9a-f-]+)$/.exec(url.pathname);
      if (req.method === "DELETE" && m) {
        const session = sessions.find((s) => s.id === m[1]);
        if (!session) return new Response("no such session", { status: 404 });
        session.deleted = true;
        await session.pc.close();
        return new Response(null, { status: 200 });
      }
      return new Response("not found", { status: 404 });
    },
  });
  return Object.assign(endpoint, {
    url: `http://127.0.0.1:${server.port}/whip/live`,
    port: server.port!,
    sessions,
    authorizations,
    async stop() {
      await Promise.all(sessions.map((s) => s.pc.close().catch(() => undefined)));
      await server.stop(true);
    },
  });
}
