/**
 * One snapshot of every figure the server keeps: per stream its capture, its
 * encoders and who watches it over which output, then totals and the
 * process's own figures. /state answers this snapshot as JSON and /metrics
 * renders the very same snapshot as Prometheus text, so the two can never
 * disagree. Taking it only reads counters: it is cheap enough to poll.
 *
 * The snapshot (the /state document):
 *
 *   {
 *     version, startedAt (ISO), uptimeSeconds,
 *     streams: [{
 *       name, source, state, width, height, fps, framesCaptured, restarts,
 *       lastFrameAgeMs (null before the first frame), capturing,
 *       encoders: {
 *         jpeg: { name: libturbojpeg | ffmpeg-mjpeg | passthrough, encoded, msTotal, meanMs (null before the first) },
 *         h264: { running, passthrough, pid (null), accessUnits, skipped } | null with --no-webrtc, no --publish and --rtsp-port 0,
 *         audio: { input (source | alsa:DEVICE), codec (opus), bitrateKbps, encoderPid (null), packets, silencePackets,
 *                  levelDb (RMS dBFS of the last 0.1 s, -120 for silence, null before the first),
 *                  listeners (WebRTC peers and RTSP sessions), restarts }
 *                | null without --audio (see stream/audio-feed.ts),
 *       },
 *       outputs: {
 *         mjpeg:  { viewers: [Viewer], joined, framesSent, framesSkipped },
 *         webrtc: { viewers: [Viewer], joined, framesSent, framesSkipped } | null with --no-webrtc,
 *         rtsp:   { viewers: [Viewer], joined, framesSent, framesSkipped } | null with --rtsp-port 0,
 *         snapshot: { inProgress, joined },
 *         hls:    { viewers: [Viewer], joined, framesSent, framesSkipped, running, segments, parts,
 *                   served: { playlists, segments, parts, inits } } | null without HLS,
 *         publish: [{ url (secrets as ***), protocol, state (connecting|live|retrying|stopped), bytes, frames,
 *                     skipped, reconnects, lastError (secrets as ***, null), liveSince (ISO, null) }],
 *       },
 *       ingest: { endpoint, state (waiting|live), publisher (address, null), bytes, bytesTotal, frames, sessions, dropped }
 *               | null when no publisher feeds it (see sources/whip/ingest.ts),
 *     }],
 *     totals: { mjpegViewers, webrtcViewers, webrtcPeers (null with --no-webrtc), rtspClients (null with --rtsp-port 0), hlsViewers },
 *     talkback: { device, talking, sessions, refused, packets } | null without --talkback,
 *     process: { residentBytes, openFds, cpuSeconds },
 *   }
 *
 *   Viewer: { id, address, since (ISO), seconds, frames, fps (frames / seconds), skipped }
 *
 * `joined`, `framesSent` and `framesSkipped` count every viewer since the
 * server started, those that left included: they never go down. A WebRTC
 * viewer's frames are H.264 access units; an MJPEG viewer's are JPEGs, and
 * a frame counts when it is handed to the viewer's connection. An HLS viewer
 * is one client (address and User-Agent) that made a request in the last
 * few seconds (outputs/hls/hls-output.ts); its frames are the pictures in the
 * segments and parts it was sent. `served` counts the HLS requests the origin
 * answered with media (a cache in front makes it grow once per file, not
 * once per player).
 */
import { turboJpegAvailable } from "../ffi/turbojpeg.ts";
import type { PublisherReport } from "../outputs/publish/publisher.ts";
import type { IngestStats } from "../sources/ingest/pushed-ingest.ts";
import type { AudioStats } from "../stream/audio-feed.ts";
import type { WebRtcSessions } from "../outputs/webrtc/sessions.ts";
import type { RtspServer } from "../outputs/rtsp/server.ts";
import type { PublishedStream } from "../outputs/published.ts";
import type { Audience, Transport, ViewerInfo } from "../stream/audience.ts";
import type { Stream, StreamState } from "../stream/stream.ts";
import type { TalkBackStats } from "../outputs/talkback/talkback.ts";
import { processFigures, type ProcessFigures } from "./process.ts";

/** What the figures are gathered from (what /state, /metrics and /healthz are built with). */
export interface StatsSource {
  readonly streams: readonly PublishedStream[];
  /** The WebRTC viewers (null with --no-webrtc). */
  readonly sessions: WebRtcSessions | null;
  /** The RTSP server (null or absent with --rtsp-port 0). */
  readonly rtsp?: RtspServer | null;
  /** Push to talk (--talkback), else null or absent. */
  readonly talkback?: { stats(): TalkBackStats } | null;
  /** When the server started, in ms since the epoch. */
  readonly startedAt: number;
  readonly version: string;
}

export interface ViewerReport {
  readonly id: string;
  /** The client's address as the server saw it (an IPv4-mapped IPv6 address shown as IPv4). */
  readonly address: string;
  /** When it joined, ISO 8601. */
  readonly since: string;
  /** How long it has watched, in seconds (0.1 s steps). */
  readonly seconds: number;
  readonly frames: number;
  /** frames / seconds: what it actually got, not what the source gives. */
  readonly fps: number;
  /** Newer frames that came while it was still busy with an older one. */
  readonly skipped: number;
}

export interface OutputReport {
  readonly viewers: readonly ViewerReport[];
  /** Viewers that ever joined. */
  readonly joined: number;
  /** Frames sent to every viewer that ever joined. */
  readonly framesSent: number;
  readonly framesSkipped: number;
}

export type JpegEncoderName = "libturbojpeg" | "ffmpeg-mjpeg" | "passthrough";

export interface StreamReport {
  readonly name: string;
  /** The source's description (as logged). */
  readonly source: string;
  readonly state: StreamState;
  readonly width: number;
  readonly height: number;
  /** Frames per second the source delivers, 0 while it delivers none. */
  readonly fps: number;
  readonly framesCaptured: number;
  readonly restarts: number;
  /** ms since the source's last frame, null before the first. */
  readonly lastFrameAgeMs: number | null;
  /** A capture runs (false for an idle on-demand stream). */
  readonly capturing: boolean;
  readonly encoders: {
    readonly jpeg: {
      /** Who makes the JPEGs: libjpeg-turbo here, ffmpeg in the capture process, or the source itself. */
      readonly name: JpegEncoderName;
      /** Pictures JPEG-encoded here, and the time that took. */
      readonly encoded: number;
      readonly msTotal: number;
      readonly meanMs: number | null;
    };
    readonly h264: {
      /** Pictures are being turned into H.264 (someone watches over WebRTC, or did a moment ago). */
      readonly running: boolean;
      /** The source's own H.264 is passed on: no encoder runs. */
      readonly passthrough: boolean;
      /** The encoder process, while one runs. */
      readonly pid: number | null;
      readonly accessUnits: number;
      /** Pictures the encoder skipped because it was still busy with the previous one. */
      readonly skipped: number;
    } | null;
    /** Its sound's one Opus encoder (--audio), else null. */
    readonly audio?: AudioStats | null;
  };
  /** Its WHIP ingest (--source whip:NAME), else null. */
  readonly ingest: IngestStats | null;
  readonly outputs: {
    readonly mjpeg: OutputReport;
    readonly webrtc: OutputReport | null;
    /** RTSP sessions (an RTSP viewer's frames are H.264 access units). */
    readonly rtsp: OutputReport | null;
    /** Snapshot requests: those being answered now, and all so far. */
    readonly snapshot: { readonly inProgress: number; readonly joined: number };
    /** Its --publish destinations (see outputs/publish/publisher.ts). */
    readonly publish: readonly PublisherReport[];
    readonly hls?: HlsReport | null;
  };
}

export interface HlsReport extends OutputReport {
  /** The muxer runs (someone fetched in the last few seconds, or did a moment ago). */
  readonly running: boolean;
  /** Complete segments kept, and parts of the segment being written. */
  readonly segments: number;
  readonly served: { readonly playlists: number; readonly segments: number; readonly parts: number; readonly inits: number };
}

export interface StatsSnapshot {
  readonly version: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly streams: readonly StreamReport[];
  readonly totals: {
    readonly mjpegViewers: number;
    readonly webrtcViewers: number;
    /** WebRTC peers, those still connecting included (null with --no-webrtc). */
    readonly webrtcPeers: number | null;
    /** RTSP sessions over all streams, those set up but not playing included (null with --rtsp-port 0). */
    readonly rtspClients: number | null;
    readonly hlsViewers: number;
  };
  /** Push to talk: its speaker device, whether someone talks, sessions, refused offers, packets played; null without --talkback. */
  readonly talkback: TalkBackStats | null;
  readonly process: ProcessFigures;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** "::ffff:127.0.0.1" (an IPv4 client of a dual-stack socket) reads as 127.0.0.1. */
function plainAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

function viewerReport(v: ViewerInfo, now: number): ViewerReport {
  const seconds = Math.max(0, now - v.since) / 1000;
  return {
    id: v.id,
    address: plainAddress(v.address),
    since: new Date(v.since).toISOString(),
    seconds: round1(seconds),
    frames: v.frames,
    fps: seconds > 0 ? round1(v.frames / seconds) : 0,
    skipped: v.skipped,
  };
}

function outputReport(audience: Audience, viewers: readonly ViewerInfo[], transport: Transport, now: number): OutputReport {
  const totals = audience.totals(transport);
  return {
    viewers: viewers.filter((v) => v.transport === transport).map((v) => viewerReport(v, now)),
    joined: audience.joined[transport],
    framesSent: totals.frames,
    framesSkipped: totals.skipped,
  };
}

let turboJpeg: boolean | null = null;
/** The kind of frame each stream's source gave last, placeholders aside (they are made here, whatever the source). */
const lastKind = new WeakMap<Stream, "raw" | "jpeg" | "h264">();

/**
 * Who makes a stream's JPEGs: a source that gives JPEGs (an MJPEG camera, a
 * program's JPEGs) is passed through, unless libjpeg-turbo is missing: then
 * ffmpeg encodes in the capture process and its JPEGs cannot be told from a
 * camera's. Raw pictures and decoded H.264 are encoded here by libjpeg-turbo.
 */
function jpegEncoderName(stream: Stream): JpegEncoderName {
  turboJpeg ??= turboJpegAvailable();
  if (!turboJpeg) return "ffmpeg-mjpeg";
  const latest = stream.latest;
  if (latest && !(latest.kind === "raw" && latest.jpeg)) lastKind.set(stream, latest.kind);
  return lastKind.get(stream) === "jpeg" ? "passthrough" : "libturbojpeg";
}

function streamReport(p: PublishedStream, now: number, webrtc: boolean, rtsp: boolean): StreamReport {
  const s = p.stream.stats();
  const viewers = p.audience.list();
  const h264 = p.h264;
  const feed = h264 ?? p.feed ?? null; // the encoder runs for --publish destinations too
  return {
    name: s.name,
    source: s.source,
    state: s.state,
    width: s.width,
    height: s.height,
    fps: s.fps,
    framesCaptured: s.framesCaptured,
    restarts: s.restarts,
    lastFrameAgeMs: s.lastFrameAgeMs,
    capturing: s.capturing,
    encoders: {
      jpeg: {
        name: jpegEncoderName(p.stream),
        encoded: s.jpegEncoded,
        msTotal: s.jpegEncodeMsTotal,
        meanMs: s.jpegEncoded > 0 ? round3(s.jpegEncodeMsTotal / s.jpegEncoded) : null,
      },
      h264: feed && { running: feed.running, passthrough: feed.passthrough, pid: feed.encoderPid, accessUnits: feed.accessUnits, skipped: feed.skipped },
      audio: p.audio?.stats() ?? null,
    },
    ingest: p.ingest?.stats() ?? null,
    outputs: {
      mjpeg: outputReport(p.audience, viewers, "mjpeg", now),
      webrtc: webrtc ? outputReport(p.audience, viewers, "webrtc", now) : null,
      rtsp: rtsp ? outputReport(p.audience, viewers, "rtsp", now) : null,
      snapshot: { inProgress: viewers.filter((v) => v.transport === "snapshot").length, joined: p.audience.joined.snapshot },
      publish: (p.publish ?? []).map((d) => d.report()),
      hls: p.hls
        ? {
            ...outputReport(p.audience, viewers, "hls", now),
            running: p.hls.running,
            segments: p.hls.segmenter?.segments.length ?? 0,
            served: { ...p.hls.served },
          }
        : null,
    },
  };
}

/** Every figure, read at one moment. */
export function collectStats(source: StatsSource, now = Date.now()): StatsSnapshot {
  const streams = source.streams.map((p) => streamReport(p, now, source.sessions !== null, Boolean(source.rtsp)));
  const sum = (f: (s: StreamReport) => number) => streams.reduce((n, s) => n + f(s), 0);
  return {
    version: source.version,
    startedAt: new Date(source.startedAt).toISOString(),
    uptimeSeconds: round1(Math.max(0, now - source.startedAt) / 1000),
    streams,
    totals: {
      mjpegViewers: sum((s) => s.outputs.mjpeg.viewers.length),
      webrtcViewers: sum((s) => s.outputs.webrtc?.viewers.length ?? 0),
      webrtcPeers: source.sessions?.size ?? null,
      rtspClients: source.rtsp?.clients ?? null,
      hlsViewers: sum((s) => s.outputs.hls?.viewers.length ?? 0),
    },
    talkback: source.talkback?.stats() ?? null,
    process: processFigures(),
  };
}
