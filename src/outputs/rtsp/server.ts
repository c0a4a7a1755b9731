/**
 * The RTSP server (RFC 2326, RTSP 1.0 as ffmpeg, GStreamer, VLC, OpenCV and
 * NVRs speak it): rtsp://HOST:PORT/NAME for every stream, the first one also
 * at rtsp://HOST:PORT/. Every client of a stream gets the stream's one
 * H.264 feed (the WebRTC peers' feed; no encoder per client), over TCP
 * (interleaved in the RTSP connection) or UDP (unicast, to the client's
 * ports, from one pair of server ports).
 *
 * Requests: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER
 * and SET_PARAMETER (keep-alives); ANNOUNCE and RECORD for a stream fed by
 * an RTSP publisher (`rtsp-push:`, see record.ts): publishers and readers
 * share the port and the path, as in MediaMTX. A connection answers its requests in
 * order. Unreadable input gets 400 (413 for a body too big, 505 for another
 * version) and the connection is closed, since it cannot be resynchronised;
 * an unknown method gets 501 and the connection stays.
 *
 * Sessions: `Session: ID;timeout=60`. A UDP session lives while its client
 * sends a request or an RTCP receiver report at least every 60 s; a TCP one
 * while its connection is open and reads (a connection whose unsent bytes
 * have not moved for 60 s is closed). A connection without a session that
 * sends nothing for 60 s is closed too.
 */
import { clientKey } from "../../access/rate-limit.ts";
import type { Socket, TCPSocketListener, udp } from "bun";
import { log } from "../../log.ts";
import type { Audience } from "../../stream/audience.ts";
import type { Stream } from "../../stream/stream.ts";
import type { H264Feed } from "../../stream/h264-feed.ts";
import type { RtspAccess } from "./auth.ts";
import { RtspReader, serializeResponse, type RtspRequest, type RtspResponse } from "./message.ts";
import { AUDIO_TRACK_CONTROL, describeSdp, parameterSetsOf, TRACK_CONTROL, trackControl, type ParameterSets } from "./sdp.ts";
import { RtspAudioTrack } from "./audio-track.ts";
import type { AudioFeed } from "../../stream/audio-feed.ts";
import { RtspSession, type SessionTransport, type TcpSink, type UdpSender } from "./session.ts";
import { mediaOf, readAnnouncement, AnnouncedCodecError } from "../../sources/rtsp-push/announcement.ts";
import { IngestBusy, IngestOfferError, PUBLISHER_ENDED } from "../../sources/ingest/pushed-ingest.ts";
import type { RtspIngest } from "../../sources/rtsp-push/ingest.ts";
import { recordTransports, Recording, type RecordTransport } from "./record.ts";
import { ReportBudget, REPORT_BYTES_PER_S, REPORT_FRAMES_PER_S } from "./report-budget.ts";
import { parseTarget, uriForLog, withoutQuery, type Target } from "./target.ts";

export const SESSION_TIMEOUT_S = 60;
/** How long DESCRIBE waits for a keyframe (its SPS and PPS go into the SDP). */
export const DESCRIBE_WAIT_MS = 10_000;
const REAP_INTERVAL_MS = 2000;
/** Requests of one connection waiting for their answers (pipelined): past it, the connection is closed. */
const MAX_QUEUED_REQUESTS = 16;
/** A connection's unsent bytes past which it is closed (a client sending requests and not reading). */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;
const METHODS = ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER", "ANNOUNCE", "RECORD"];
/** Methods of RTSP that this server knows but does not do. */
const NOT_HERE = new Set(["REDIRECT"]);

export interface RtspStream {
  readonly name: string;
  readonly stream: Stream;
  readonly feed: H264Feed;
  readonly audience: Audience;
  /** Its sound (--audio): a second track, Opus. */
  readonly audio?: AudioFeed | null;
  /** Fed by an RTSP publisher (`rtsp-push:`): ANNOUNCE and RECORD are taken here. */
  readonly ingest?: RtspIngest | null;
  /** Other paths it answers at, for publishers and readers alike (rtsp-push:PATH). */
  readonly aliases?: readonly string[];
}

export interface RtspServerSettings {
  readonly host: string;
  readonly port: number;
  /** Most sessions at once, over all streams (SETUP past it: 453). */
  readonly maxClients: number;
  readonly access: RtspAccess;
  /** The first one also answers rtsp://HOST:PORT/. */
  readonly streams: readonly RtspStream[];
  /** Seconds a silent session (and an idle connection) lives; default SESSION_TIMEOUT_S. */
  readonly sessionTimeoutS?: number;
}

interface Connection extends TcpSink {
  readonly socket: Socket<Connection>;
  readonly address: string;
  /** Who it is for counting (clientKey: the IPv4 address, or the IPv6 /64). */
  readonly client: string;
  readonly reader: RtspReader;
  readonly sessions: Set<RtspSession>;
  pending: Uint8Array[];
  buffered: number;
  /** When a request last came, or unsent bytes last moved. */
  lastActivity: number;
  /** Requests are answered one after the other. */
  queue: Promise<void>;
  /** Requests read and not yet answered. */
  queued: number;
  closed: boolean;
  /** Its publishing, from ANNOUNCE on. */
  recording: Recording | null;
  /** What a player may send between requests (its receiver reports). */
  readonly reports: ReportBudget;
}

/** Connections without a session, a publisher or a request being answered, that one client may hold. */
export const MAX_IDLE_PER_CLIENT = 16;

/** The connection holds no session, no publisher and no request being answered: it may be closed to make room. */
function holdsNothing(c: Connection): boolean {
  return c.sessions.size === 0 && !c.recording && c.queued === 0;
}

type Reply = RtspResponse & { readonly after?: () => void; readonly close?: boolean };

export class RtspServer {
  readonly #sessions = new Map<string, RtspSession>();
  readonly #connections = new Set<Connection>();
  readonly #streams = new Map<string, RtspStream>();
  #listener: TCPSocketListener<Connection> | null = null;
  #udp: Promise<UdpPair> | null = null;
  #reaper: ReturnType<typeof setInterval> | null = null;
  readonly #timeoutS: number;
  /** UDP publishers by "address:rtpPort": their video's RTP goes to the publisher. */
  readonly #udpPublishers = new Map<string, Recording>();

  constructor(private readonly s: RtspServerSettings) {
    this.#timeoutS = s.sessionTimeoutS ?? SESSION_TIMEOUT_S;
    s.streams.forEach((st, i) => {
      this.#streams.set(st.name, st);
      if (i === 0) this.#streams.set("", st);
    });
    for (const st of s.streams) for (const alias of st.aliases ?? []) if (!this.#streams.has(alias)) this.#streams.set(alias, st);
  }

  /** Sessions now, over all streams. */
  get clients(): number {
    return this.#sessions.size;
  }
  get port(): number {
    return this.#listener?.port ?? 0;
  }

  listen(): { hostname: string; port: number } {
    const server = this;
    this.#listener = Bun.listen<Connection>({
      hostname: this.s.host,
      port: this.s.port,
      socket: {
        open(socket) {
          server.#open(socket);
        },
        data(socket, chunk) {
          server.#data(socket.data, chunk);
        },
        drain(socket) {
          server.#flush(socket.data);
        },
        close(socket) {
          server.#closed(socket.data);
        },
        error(socket, err) {
          log.debug(`rtsp: connection from ${socket?.data?.address ?? "?"}: ${err?.message ?? "error"}`);
        },
      },
    });
    this.#reaper = setInterval(() => this.#reap(), Math.min(REAP_INTERVAL_MS, this.#timeoutS * 250));
    return { hostname: this.#listener.hostname, port: this.#listener.port };
  }

  async close(): Promise<void> {
    if (this.#reaper) clearInterval(this.#reaper);
    this.#reaper = null;
    for (const session of [...this.#sessions.values()]) session.close();
    for (const c of [...this.#connections]) c.socket.end();
    this.#listener?.stop(true);
    this.#listener = null;
    const udp = this.#udp;
    this.#udp = null;
    if (udp) (await udp.catch(() => null))?.close();
  }

  #open(socket: Socket<Connection>): void {
    const server = this;
    const conn: Connection = {
      socket,
      address: socket.remoteAddress,
      client: clientKey(socket.remoteAddress),
      reader: new RtspReader(),
      sessions: new Set(),
      pending: [],
      buffered: 0,
      lastActivity: performance.now(),
      queue: Promise.resolve(),
      queued: 0,
      closed: false,
      recording: null,
      reports: new ReportBudget(),
      send(bytes) {
        server.#send(conn, bytes);
      },
    };
    socket.data = conn;
    // One client's connections that hold nothing (no session, publisher or request) are at most
    // MAX_IDLE_PER_CLIENT: its next one closes its own idlest, so one stranger cannot fill the server.
    let mine = 0;
    let idlestMine: Connection | null = null;
    for (const c of this.#connections) {
      if (c.client !== conn.client || !holdsNothing(c)) continue;
      mine++;
      if (!idlestMine || c.lastActivity < idlestMine.lastActivity) idlestMine = c;
    }
    if (mine >= MAX_IDLE_PER_CLIENT && idlestMine) {
      log.debug(`rtsp: ${conn.address} holds ${mine} connections without a session; closing its idlest`);
      this.#drop(idlestMine);
    }
    // A flood of idle connections must not exhaust descriptors: past this many, the connection that has
    // gone longest without a word and holds no session nor publisher gives way (a stranger's idle
    // connections must not lock out a camera that pushes, or a player); with none such, refuse.
    if (this.#connections.size >= this.s.maxClients * 2 + 32) {
      let idlest: Connection | null = null;
      for (const c of this.#connections) {
        if (!holdsNothing(c)) continue;
        if (!idlest || c.lastActivity < idlest.lastActivity) idlest = c;
      }
      if (!idlest) {
        socket.write(serializeResponse({ status: 503 }, null));
        socket.end();
        return;
      }
      log.debug(`rtsp: at the connection limit; closing the idlest connection without a session (${idlest.address})`);
      this.#drop(idlest);
    }
    this.#connections.add(conn);
  }

  #data(conn: Connection, chunk: Uint8Array): void {
    if (conn.closed) return;
    let reports = false;
    for (const message of conn.reader.push(chunk)) {
      if (message.type === "interleaved") {
        if (conn.recording) {
          conn.recording.interleaved(message.channel, message.data);
          continue;
        }
        // Interleaved frames belong to an interleaved session (RFC 2326 10.12): before any, or from a
        // client that plays over UDP, they are someone feeding the parser for nothing (tiny frames cost
        // the most per byte, and stall every viewer); its connection goes.
        if (!reports && !hasTcpSession(conn)) {
          log.debug(`rtsp: ${conn.address} sent interleaved frames without an interleaved session; closing`);
          this.#drop(conn);
          return;
        }
        // A player's session is no licence to flood: receiver reports come every few seconds.
        if (!conn.reports.take(message.data.byteLength + 4)) {
          log.info(
            `rtsp: ${conn.address} sent far more than receiver reports (over ${REPORT_FRAMES_PER_S} frames or ${REPORT_BYTES_PER_S / 1024} KiB a second); closing`,
          );
          this.#drop(conn);
          return;
        }
        reports = true;
        continue;
      }
      conn.lastActivity = performance.now();
      if (message.type === "error") {
        log.debug(`rtsp: ${conn.address}: ${message.reason}; closing`);
        this.#enqueue(conn, async () => ({ status: message.status, close: true }), message.cseq);
        break;
      }
      const request = message.request;
      this.#enqueue(conn, () => this.#handle(conn, request), request.headers.get("cseq") ?? null);
    }
    // RTCP receiver reports from a TCP client: it is alive (once per chunk, however many it held).
    if (reports) for (const s of conn.sessions) s.touch();
  }

  #enqueue(conn: Connection, handle: () => Promise<Reply>, cseq: string | null): void {
    if (++conn.queued > MAX_QUEUED_REQUESTS) {
      log.debug(`rtsp: ${conn.address} sent over ${MAX_QUEUED_REQUESTS} requests without waiting for the answers; closing`);
      this.#drop(conn);
      return;
    }
    conn.queue = conn.queue.then(async () => {
      conn.queued--;
      if (conn.closed) return;
      let reply: Reply;
      try {
        reply = await handle();
      } catch (err) {
        log.warn(`rtsp: ${conn.address}: ${(err as Error).message}`);
        reply = { status: 500 };
      }
      if (conn.closed) return;
      if (conn.buffered > MAX_UNSENT_BYTES) {
        log.debug(`rtsp: ${conn.address} does not read its answers; closing`);
        this.#drop(conn);
        return;
      }
      this.#send(conn, serializeResponse(reply, cseq));
      reply.after?.();
      if (reply.close) conn.socket.end();
    });
  }

  #send(conn: Connection, bytes: Uint8Array): void {
    if (conn.closed) return;
    if (conn.pending.length === 0) {
      const n = conn.socket.write(bytes);
      if (n >= bytes.length) return;
      const rest = bytes.slice(Math.max(0, n)); // a copy: the caller reuses its buffer
      conn.pending.push(rest);
      conn.buffered += rest.length;
      return;
    }
    const copy = bytes.slice();
    conn.pending.push(copy);
    conn.buffered += copy.length;
  }

  #flush(conn: Connection): void {
    while (conn.pending.length > 0 && !conn.closed) {
      const head = conn.pending[0]!;
      const n = conn.socket.write(head);
      if (n > 0) conn.lastActivity = performance.now();
      if (n >= head.length) {
        conn.pending.shift();
        conn.buffered -= head.length;
        continue;
      }
      if (n > 0) {
        conn.pending[0] = head.subarray(n);
        conn.buffered -= n;
      }
      return;
    }
  }

  /** Closes a connection at once, unsent bytes and all. */
  #drop(conn: Connection): void {
    conn.socket.terminate();
    this.#closed(conn);
  }

  #closed(conn: Connection | undefined): void {
    if (!conn || conn.closed) return;
    conn.closed = true;
    conn.pending = [];
    conn.buffered = 0;
    this.#connections.delete(conn);
    // Interleaved sessions die with their connection; UDP ones live on until TEARDOWN or their timeout.
    for (const s of conn.sessions) if (s.transport.kind === "tcp") s.close();
    // A publisher goes with its connection, whatever carries its packets (as in MediaMTX).
    if (conn.recording) this.#endRecording(conn, "its RTSP connection closed");
  }

  #reap(): void {
    const now = performance.now();
    const limit = this.#timeoutS * 1000;
    for (const s of this.#sessions.values()) {
      if (s.transport.kind === "udp" && now - s.lastSeen > limit) {
        log.info(`rtsp: session of ${s.transport.address} on stream ${s.stream} timed out`);
        s.close();
      }
    }
    for (const c of this.#connections) {
      // A publisher's own silence timeout watches it (a UDP one sends nothing on its connection).
      const hasTcpSession = [...c.sessions].some((s) => s.transport.kind === "tcp" && !s.closed) || (c.recording?.publisher && !c.recording.publisher.ended);
      const stuck = c.buffered > 0 && now - c.lastActivity > limit;
      const idle = !hasTcpSession && now - c.lastActivity > limit;
      if (stuck || idle) {
        log.debug(`rtsp: closing ${stuck ? "a connection that stopped reading" : "an idle connection"} from ${c.address}`);
        if (stuck) this.#drop(c);
        else c.socket.end();
      }
    }
  }

  async #handle(conn: Connection, req: RtspRequest): Promise<Reply> {
    const cseq = req.headers.get("cseq");
    if (cseq === undefined || !/^\d{1,10}$/.test(cseq)) return { status: 400, body: "CSeq missing or not a number\n" };
    log.debug(`rtsp: ${conn.address} ${req.method} ${uriForLog(req.uri)}`);
    const sessionId = (req.headers.get("session") ?? "").split(";")[0]!.trim();
    const session = sessionId ? this.#sessions.get(sessionId) : undefined;
    if (session) session.touch();
    const recording = conn.recording;
    if (recording && sessionId === recording.id) return this.#recordRequest(conn, req, recording);
    switch (req.method) {
      case "OPTIONS":
        return { status: 200, headers: { Public: METHODS.join(", ") } };
      case "DESCRIBE":
        return this.#describe(conn, req);
      case "SETUP":
        if (recording && !sessionId && !recording.publisher) return this.#setupRecord(conn, req, recording);
        return this.#setup(conn, req, sessionId, session);
      case "ANNOUNCE":
        return this.#announce(conn, req);
      case "RECORD":
        return { status: 454, body: "RECORD needs the Session of a SETUP after ANNOUNCE\n" };
      case "PLAY":
      case "PAUSE":
      case "TEARDOWN": {
        if (!session || (session.transport.kind === "tcp" && !conn.sessions.has(session))) {
          return { status: 454, body: "no such session\n" };
        }
        const headers = { Session: `${session.id};timeout=${this.#timeoutS}` };
        if (req.method === "TEARDOWN") {
          session.close();
          return { status: 200, headers };
        }
        if (req.method === "PAUSE") {
          session.pause();
          return { status: 200, headers };
        }
        const wasPlaying = session.playing;
        return {
          status: 200,
          headers: {
            ...headers,
            Range: "npt=0.000-",
            "RTP-Info":
              `url=${session.url};seq=${session.firstSeq};rtptime=${session.firstTimestamp}` +
              (session.audio ? `,url=${session.audio.url};seq=${session.audio.firstSeq};rtptime=${session.audio.firstTimestamp}` : ""),
          },
          after: wasPlaying ? undefined : () => session.play(),
        };
      }
      case "GET_PARAMETER":
      case "SET_PARAMETER": {
        if (sessionId && !session) return { status: 454, body: "no such session\n" };
        if (req.method === "SET_PARAMETER" && req.body.length > 0) return { status: 451 };
        return { status: 200, headers: session ? { Session: `${session.id};timeout=${this.#timeoutS}` } : {} };
      }
      default:
        if (NOT_HERE.has(req.method)) return { status: 405, headers: { Allow: METHODS.join(", ") } };
        return { status: 501, headers: { Public: METHODS.join(", ") } };
    }
  }

  /** The stream a request names and whether its sender may watch it; a reply when not. */
  async #admit(conn: Connection, req: RtspRequest): Promise<{ target: Target; stream: RtspStream } | Reply> {
    const target = parseTarget(req.uri);
    if (!target) return { status: 400, body: "the request URI is not an rtsp:// URL\n" };
    const stream = this.#streams.get(target.name);
    // The login is asked before the stream is looked up: without one, a known name and an unknown one get the same answer.
    const verdict = await this.s.access.check({
      method: req.method,
      authorization: req.headers.get("authorization") ?? null,
      token: target.token,
      stream: stream?.name ?? target.name,
      address: conn.address,
    });
    if (!verdict.ok) {
      // Every client's first try comes without credentials (then answers the challenge): that is not news.
      const tried = req.headers.has("authorization") || target.token !== null;
      (tried ? log.info : log.debug)(`rtsp: ${req.method} refused (${verdict.status}) for ${conn.address}: ${verdict.reason}`);
      return { status: verdict.status, headers: verdict.headers };
    }
    if (!stream) return { status: 404, body: "no such stream\n" };
    return { target, stream };
  }

  async #describe(conn: Connection, req: RtspRequest): Promise<Reply> {
    const admitted = await this.#admit(conn, req);
    if ("status" in admitted) return admitted;
    const { stream } = admitted;
    const sets = await parameterSets(stream);
    const local = conn.socket.localAddress ?? this.s.host;
    return {
      status: 200,
      headers: { "Content-Type": "application/sdp" },
      body: describeSdp({
        address: local,
        name: stream.name,
        sets,
        sessionId: Date.now(),
        control: trackControl(req.uri),
        audioControl: stream.audio ? trackControl(req.uri, AUDIO_TRACK_CONTROL) : null,
      }),
    };
  }

  async #setup(conn: Connection, req: RtspRequest, sessionId: string, existing: RtspSession | undefined): Promise<Reply> {
    if (sessionId && existing && parseTarget(req.uri)?.audio) return this.#setupAudio(conn, req, existing);
    if (sessionId) return existing ? { status: 459, body: "this session already has its tracks\n" } : { status: 454 };
    const admitted = await this.#admit(conn, req);
    if ("status" in admitted) return admitted;
    const { stream } = admitted;
    if (admitted.target.audio) return { status: 459, body: `set up the picture's track (${TRACK_CONTROL}) first, then the sound's in the same session\n` };
    if (this.#sessions.size >= this.s.maxClients) {
      log.warn(`rtsp: refused a client of stream ${stream.name}: the server has its maximum of ${this.s.maxClients} (--rtsp-max-clients)`);
      return { status: 453, body: `the server has its maximum of ${this.s.maxClients} RTSP clients\n` };
    }
    const chosen = await this.#transport(conn, req.headers.get("transport") ?? "");
    if (!chosen) return { status: 461, body: "supported: RTP/AVP/TCP;unicast;interleaved=N-M and RTP/AVP;unicast;client_port=N-M\n" };
    // Opening the UDP ports may have taken a moment: the client may be gone, or others may have come.
    if (conn.closed) return { status: 400 };
    if (this.#sessions.size >= this.s.maxClients) return { status: 453, body: `the server has its maximum of ${this.s.maxClients} RTSP clients\n` };
    const member = stream.audience.join("rtsp", conn.address);
    const session = new RtspSession(stream.name, stream.feed, chosen.transport, member, withoutTrackQuery(req.uri), (s) => {
      this.#sessions.delete(s.id);
      conn.sessions.delete(s);
      if (s.transport.kind === "udp") this.#udpSessions.delete(`${s.transport.address}:${s.transport.rtcpPort}`);
      const sound = s.audio?.transport;
      if (sound?.kind === "udp") this.#udpSessions.delete(`${sound.address}:${sound.rtcpPort}`);
    });
    this.#sessions.set(session.id, session);
    conn.sessions.add(session);
    if (chosen.transport.kind === "udp") this.#udpSessions.set(`${chosen.transport.address}:${chosen.transport.rtcpPort}`, session);
    return {
      status: 200,
      headers: {
        Transport: `${chosen.header};ssrc=${session.ssrc.toString(16).toUpperCase().padStart(8, "0")}`,
        Session: `${session.id};timeout=${this.#timeoutS}`,
      },
    };
  }

  /** A second SETUP, for the sound's track, in a session that has the picture's. */
  async #setupAudio(conn: Connection, req: RtspRequest, session: RtspSession): Promise<Reply> {
    const admitted = await this.#admit(conn, req);
    if ("status" in admitted) return admitted;
    const feed = admitted.stream.audio;
    if (admitted.stream.name !== session.stream || session.audio) return { status: 459, body: "this session already has its tracks\n" };
    if (!feed) return { status: 404, body: "this stream has no sound (--audio)\n" };
    if (session.transport.kind === "tcp" && !conn.sessions.has(session)) return { status: 454, body: "no such session\n" };
    const chosen = await this.#transport(conn, req.headers.get("transport") ?? "");
    if (!chosen) return { status: 461, body: "supported: RTP/AVP/TCP;unicast;interleaved=N-M and RTP/AVP;unicast;client_port=N-M\n" };
    if (conn.closed || session.closed) return { status: 454 };
    const base = withoutQuery(req.uri).replace(/\/$/, "");
    const track = new RtspAudioTrack(feed, chosen.transport, base.endsWith(AUDIO_TRACK_CONTROL) ? base : `${base}/${AUDIO_TRACK_CONTROL}`);
    session.audio = track;
    if (chosen.transport.kind === "udp") this.#udpSessions.set(`${chosen.transport.address}:${chosen.transport.rtcpPort}`, session);
    if (session.playing) track.play();
    return {
      status: 200,
      headers: {
        Transport: `${chosen.header};ssrc=${track.ssrc.toString(16).toUpperCase().padStart(8, "0")}`,
        Session: `${session.id};timeout=${this.#timeoutS}`,
      },
    };
  }

  readonly #udpSessions = new Map<string, RtspSession>();

  /** ANNOUNCE: a publisher describes what it will RECORD to an rtsp-push: stream. */
  async #announce(conn: Connection, req: RtspRequest): Promise<Reply> {
    const target = parseTarget(req.uri);
    if (!target) return { status: 400, body: "the request URI is not an rtsp:// URL\n" };
    // The login is asked before the stream is looked up: without one, a known name and an unknown one get the same answer.
    const verdict = await this.s.access.checkPublish({
      method: req.method,
      authorization: req.headers.get("authorization") ?? null,
      token: target.token,
      address: conn.address,
    });
    if (!verdict.ok) {
      const tried = req.headers.has("authorization") || target.token !== null;
      (tried ? log.info : log.debug)(`rtsp: ANNOUNCE refused (${verdict.status}) for ${conn.address}: ${verdict.reason}`);
      return { status: verdict.status, headers: verdict.headers, body: `${verdict.reason}\n` };
    }
    const stream = this.#streams.get(target.name);
    if (!stream || (target.name === "" && !stream.ingest)) return { status: 404, body: "no such stream\n" };
    if (!stream.ingest)
      return {
        status: 405,
        headers: { Allow: "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER" },
        body: `stream ${stream.name} is not fed by RTSP publishers (--source ${stream.name}=rtsp-push:PATH)\n`,
      };
    if (conn.recording?.publisher && !conn.recording.publisher.ended) return { status: 455, body: "this connection is publishing already\n" };
    const type = req.headers.get("content-type");
    if (type !== undefined && !/^application\/sdp\s*(;|$)/i.test(type)) return { status: 415, body: "ANNOUNCE takes an application/sdp body\n" };
    let announcement;
    try {
      announcement = readAnnouncement(Buffer.from(req.body).toString("utf8"));
      stream.ingest.ensureFree();
    } catch (err) {
      if (err instanceof IngestBusy) return this.#busy(conn, stream.name, err);
      if (err instanceof AnnouncedCodecError) return { status: 415, body: `${err.message}\n` };
      if (err instanceof IngestOfferError) return { status: 400, body: `${err.message}\n` };
      throw err;
    }
    if (conn.recording) this.#endRecording(conn, "it announced again");
    conn.recording = new Recording(stream.name, stream.ingest, announcement, req.uri);
    log.debug(`rtsp: ${conn.address} announced a stream for ${stream.name}`);
    return { status: 200 };
  }

  #busy(conn: Connection, name: string, err: Error): Reply {
    log.info(`rtsp: refused publisher ${conn.address} of stream ${name}: ${err.message}`);
    return { status: 453, body: `${err.message}\n` };
  }

  /** SETUP of an announced track, before RECORD. */
  async #setupRecord(conn: Connection, req: RtspRequest, recording: Recording): Promise<Reply> {
    const media = mediaOf(recording.announcement, recording.uri, req.uri);
    if (media === null) return { status: 404, body: "no announced track has this control URL\n" };
    if (recording.tracks.has(media)) return { status: 455, body: "this track is set up already\n" };
    const offered = recordTransports(req.headers.get("transport") ?? "");
    for (const t of offered) {
      let chosen: RecordTransport;
      let header: string;
      if (t.kind === "tcp") {
        const used = recording.channels();
        let pair = t.channels;
        if (pair && (used.has(pair[0]) || used.has(pair[1]))) continue;
        if (!pair) {
          let c = 0;
          while (used.has(c) || used.has(c + 1)) c += 2;
          pair = [c, c + 1];
        }
        chosen = { kind: "tcp", rtpChannel: pair[0], rtcpChannel: pair[1] };
        header = `RTP/AVP/TCP;unicast;interleaved=${pair[0]}-${pair[1]};mode=record`;
      } else {
        const udp = await this.#udpPair().catch((err: unknown) => {
          log.warn(`rtsp: no UDP ports for RTP: ${(err as Error).message}`);
          return null;
        });
        if (!udp || conn.closed) continue;
        chosen = { kind: "udp", rtpPort: t.ports[0], rtcpPort: t.ports[1] };
        header = `RTP/AVP;unicast;client_port=${t.ports[0]}-${t.ports[1]};server_port=${udp.rtpPort}-${udp.rtcpPort};mode=record`;
      }
      if (conn.recording !== recording) return { status: 455 };
      recording.tracks.set(media, chosen);
      return { status: 200, headers: { Transport: header, Session: `${recording.id};timeout=${this.#timeoutS}` } };
    }
    return { status: 461, body: "supported for publishing: RTP/AVP/TCP;unicast;interleaved=N-M;mode=record and RTP/AVP;unicast;client_port=N-M;mode=record\n" };
  }

  /** A request naming the connection's publishing session: SETUP of another track, RECORD, TEARDOWN, keep-alives. */
  async #recordRequest(conn: Connection, req: RtspRequest, recording: Recording): Promise<Reply> {
    const headers = { Session: `${recording.id};timeout=${this.#timeoutS}` };
    switch (req.method) {
      case "SETUP":
        if (recording.publisher) return { status: 455, body: "SETUP comes before RECORD\n" };
        return this.#setupRecord(conn, req, recording);
      case "RECORD": {
        if (recording.publisher) return { status: 200, headers };
        const video = recording.video;
        if (!video) return { status: 455, body: "the H.264 track was not set up\n" };
        try {
          recording.publisher = recording.ingest.record(conn.address, recording.announcement);
          // Ended by itself (silent, replaced): its connection goes too, so the publisher sees it and can start again.
          recording.publisher.onEnded = (reason) => {
            if (conn.recording !== recording || conn.closed) return;
            log.debug(`rtsp: closing the connection of publisher ${conn.address}: ${reason}`);
            this.#endRecording(conn, reason);
            conn.socket.end();
          };
        } catch (err) {
          if (err instanceof IngestBusy) return this.#busy(conn, recording.stream, err);
          throw err;
        }
        if (video.kind === "udp") {
          const key = `${this.#plainAddress(conn.address)}:${video.rtpPort}`;
          this.#udpPublishers.get(key)?.end("another publisher took its address and port");
          this.#udpPublishers.set(key, recording);
        }
        return { status: 200, headers };
      }
      case "TEARDOWN":
        this.#endRecording(conn, `${PUBLISHER_ENDED} (TEARDOWN)`);
        return { status: 200, headers };
      case "GET_PARAMETER":
      case "SET_PARAMETER":
      case "OPTIONS":
        return { status: 200, headers };
      default:
        return { status: 455, headers: { ...headers, Allow: "SETUP, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER, OPTIONS" } };
    }
  }

  #endRecording(conn: Connection, reason: string): void {
    const recording = conn.recording;
    if (!recording) return;
    conn.recording = null;
    recording.end(reason);
    for (const [key, r] of this.#udpPublishers) if (r === recording) this.#udpPublishers.delete(key);
  }

  #plainAddress(address: string): string {
    return !this.s.host.includes(":") && address.startsWith("::ffff:") ? address.slice(7) : address;
  }

  async #transport(conn: Connection, header: string): Promise<{ transport: SessionTransport; header: string } | null> {
    for (const spec of header.split(",")) {
      const parts = spec
        .trim()
        .split(";")
        .map((p) => p.trim());
      const protocol = parts[0]!.toUpperCase();
      const params = new Map(
        parts.slice(1).map((p) => {
          const eq = p.indexOf("=");
          return eq < 0 ? ([p.toLowerCase(), ""] as const) : ([p.slice(0, eq).toLowerCase(), p.slice(eq + 1)] as const);
        }),
      );
      if (params.has("multicast") || (params.has("mode") && !/play/i.test(params.get("mode")!))) continue;
      if (protocol === "RTP/AVP/TCP") {
        let pair = ports(params.get("interleaved"), 255);
        if (params.has("interleaved") && !pair) continue;
        if (!pair) {
          const used = new Set(
            [...conn.sessions].flatMap((s) => [s.transport, ...(s.audio ? [s.audio.transport] : [])]).flatMap((t) => (t.kind === "tcp" ? [t.rtpChannel] : [])),
          );
          let c = 0;
          while (used.has(c)) c += 2;
          pair = [c, c + 1];
        }
        return {
          transport: { kind: "tcp", sink: conn, rtpChannel: pair[0], rtcpChannel: pair[1] },
          header: `RTP/AVP/TCP;unicast;interleaved=${pair[0]}-${pair[1]}`,
        };
      }
      if (protocol === "RTP/AVP" || protocol === "RTP/AVP/UDP") {
        const pair = ports(params.get("client_port"), 65535);
        if (!pair || pair[0] === 0) continue;
        const udp = await this.#udpPair().catch((err: unknown) => {
          log.warn(`rtsp: no UDP ports for RTP: ${(err as Error).message}`);
          return null;
        });
        if (!udp) continue;
        const address = udp.plainAddress(conn.address);
        return {
          transport: { kind: "udp", sender: udp, address, rtpPort: pair[0], rtcpPort: pair[1] },
          header: `RTP/AVP;unicast;client_port=${pair[0]}-${pair[1]};server_port=${udp.rtpPort}-${udp.rtcpPort}`,
        };
      }
    }
    return null;
  }

  #udpPair(): Promise<UdpPair> {
    this.#udp ??= UdpPair.open(
      this.s.host,
      (address, port) => this.#udpSessions.get(`${address}:${port}`)?.touch(),
      (address, port, data) => this.#udpPublishers.get(`${address}:${port}`)?.publisher?.rtp(data),
    ).catch((err: unknown) => {
      this.#udp = null; // the next UDP client tries again
      throw err;
    });
    return this.#udp;
  }
}

/** The setup URL as RTP-Info names it, its token left out. */
function withoutTrackQuery(uri: string): string {
  const target = parseTarget(uri);
  const base = withoutQuery(uri);
  return target?.track && !base.endsWith(TRACK_CONTROL) ? `${base.replace(/\/$/, "")}/${TRACK_CONTROL}` : base;
}

/** "N-M" (or "N", then M = N + 1) with both at most `max`, or null. */
function ports(value: string | undefined, max: number): [number, number] | null {
  const m = value === undefined ? null : /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  return a <= max && b <= max ? [a, b] : null;
}

/** The stream's SPS and PPS: from the cached keyframe, or the next one (the capture and encoder held meanwhile). */
async function parameterSets(st: RtspStream): Promise<ParameterSets | null> {
  const cached = st.feed.currentGop()[0];
  const now = cached ? parameterSetsOf(cached) : null;
  if (now) return now;
  const releaseStream = st.stream.hold();
  const releaseFeed = st.feed.hold();
  try {
    return await new Promise<ParameterSets | null>((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(null);
      }, DESCRIBE_WAIT_MS);
      const off = st.feed.subscribe((au) => {
        const sets = au.keyframe ? parameterSetsOf(au) : null;
        if (!sets) return;
        clearTimeout(timer);
        off();
        resolve(sets);
      });
    });
  } finally {
    releaseFeed();
    releaseStream();
  }
}

function hasTcpSession(conn: Connection): boolean {
  for (const s of conn.sessions) if (s.transport.kind === "tcp") return true;
  return false;
}

/** The server's RTP and RTCP ports (an even port and the next), shared by every UDP client. */
class UdpPair implements UdpSender {
  private constructor(
    private readonly rtpSocket: udp.Socket<"buffer">,
    private readonly rtcpSocket: udp.Socket<"buffer">,
    private readonly ipv4: boolean,
  ) {}

  get rtpPort(): number {
    return this.rtpSocket.port;
  }
  get rtcpPort(): number {
    return this.rtcpSocket.port;
  }

  static async open(
    host: string,
    onRtcp: (address: string, port: number) => void,
    onRtp: (address: string, port: number, data: Uint8Array) => void,
  ): Promise<UdpPair> {
    const ipv4 = !host.includes(":");
    // A client that vanished without TEARDOWN makes the kernel report "port unreachable" on the
    // next receive: without a handler that error would be thrown out of the process.
    // (Bun passes the error alone, though its types say socket and error.)
    const error = (...args: unknown[]) => {
      const err = args.find((a) => a instanceof Error) as Error | undefined;
      log.debug(`rtsp: UDP: ${err?.message ?? "error"}`);
    };
    for (let attempt = 0; attempt < 50; attempt++) {
      const rtp = await Bun.udpSocket({
        hostname: host,
        port: 0,
        socket: {
          data(_socket, buf, port, address) {
            onRtp(address, port, buf);
          },
          error,
        },
      });
      if (rtp.port % 2 !== 0 || rtp.port >= 65535) {
        rtp.close();
        continue;
      }
      try {
        const rtcp = await Bun.udpSocket({
          hostname: host,
          port: rtp.port + 1,
          socket: {
            data(_socket, _buf, port, address) {
              onRtcp(address, port);
            },
            error,
          },
        });
        return new UdpPair(rtp, rtcp, ipv4);
      } catch {
        rtp.close();
      }
    }
    throw new Error(`could not bind two neighbouring UDP ports on ${host}`);
  }

  /** A TCP peer's address as the UDP socket sends to it (an IPv4-mapped one as IPv4 on an IPv4 socket). */
  plainAddress(address: string): string {
    return this.ipv4 && address.startsWith("::ffff:") ? address.slice(7) : address;
  }

  rtp(packets: readonly Uint8Array[], address: string, port: number): void {
    const args: (Uint8Array | number | string)[] = [];
    for (const p of packets) args.push(p, port, address);
    try {
      this.rtpSocket.sendMany(args as never);
    } catch (err) {
      log.debug(`rtsp: RTP to ${address}:${port}: ${(err as Error).message}`);
    }
  }

  rtcp(packet: Uint8Array, address: string, port: number): void {
    try {
      this.rtcpSocket.send(packet, port, address);
    } catch (err) {
      log.debug(`rtsp: RTCP to ${address}:${port}: ${(err as Error).message}`);
    }
  }

  close(): void {
    this.rtpSocket.close();
    this.rtcpSocket.close();
  }
}
