/**
 * The /metrics document: a stats snapshot (see collect.ts) as Prometheus
 * families named glasscast_*, labelled by `stream` and, for viewers,
 * `transport` (mjpeg, webrtc, rtsp, hls, snapshot), plus the usual process_* families.
 * Counters (*_total) only ever grow while the server runs: viewer frames
 * include those of viewers that have left.
 */
import { PUBLISH_STATES } from "../outputs/publish/publisher.ts";
import type { StreamState } from "../stream/stream.ts";
import type { OutputReport, StatsSnapshot, StreamReport } from "./collect.ts";
import { Exposition, type Sample } from "./exposition.ts";

/** Every state a stream can be in: glasscast_stream_state has one series per state, 1 for the current one. */
export const STREAM_STATES = ["idle", "starting", "running", "restarting", "ended", "failed", "stopped"] as const satisfies readonly StreamState[];

const bool = (b: boolean) => (b ? 1 : 0);

export function renderMetrics(snap: StatsSnapshot): string {
  const { streams } = snap;
  const perStream = (value: (s: StreamReport) => number | null | undefined): Sample[] =>
    streams.flatMap((s) => {
      const v = value(s);
      return v === null || v === undefined ? [] : [{ labels: { stream: s.name }, value: v }];
    });
  const h264 = (value: (h: NonNullable<StreamReport["encoders"]["h264"]>) => number) => perStream((s) => (s.encoders.h264 ? value(s.encoders.h264) : null));
  /** One series per stream and output that has viewers (mjpeg, webrtc; snapshot where asked). */
  const perOutput = (value: (o: OutputReport) => number, snapshot?: (s: StreamReport) => number): Sample[] =>
    streams.flatMap((s) => {
      const out: Sample[] = [{ labels: { stream: s.name, transport: "mjpeg" }, value: value(s.outputs.mjpeg) }];
      if (s.outputs.webrtc) out.push({ labels: { stream: s.name, transport: "webrtc" }, value: value(s.outputs.webrtc) });
      if (s.outputs.rtsp) out.push({ labels: { stream: s.name, transport: "rtsp" }, value: value(s.outputs.rtsp) });
      if (s.outputs.hls) out.push({ labels: { stream: s.name, transport: "hls" }, value: value(s.outputs.hls) });
      if (snapshot) out.push({ labels: { stream: s.name, transport: "snapshot" }, value: snapshot(s) });
      return out;
    });
  /** One series per --publish destination, labelled by stream and destination (its URL, secrets masked). */
  const perDestination = (value: (d: StreamReport["outputs"]["publish"][number]) => number): Sample[] =>
    streams.flatMap((s) => s.outputs.publish.map((d) => ({ labels: { stream: s.name, destination: d.url }, value: value(d) })));
  const states = (s: StreamReport): readonly string[] => ((STREAM_STATES as readonly string[]).includes(s.state) ? STREAM_STATES : [...STREAM_STATES, s.state]);

  const e = new Exposition()
    .family("glasscast_up", "gauge", "1 while the server answers.", [{ value: 1 }])
    .family("glasscast_info", "gauge", "The server's version, as a label; always 1.", [{ labels: { version: snap.version }, value: 1 }])
    .family("glasscast_uptime_seconds", "gauge", "Seconds since the server started.", [{ value: snap.uptimeSeconds }])
    .family(
      "glasscast_stream_state",
      "gauge",
      "1 for the state the stream is in (idle, starting, running, restarting, ended, failed, stopped), 0 for the others.",
      streams.flatMap((s) => states(s).map((state) => ({ labels: { stream: s.name, state }, value: bool(s.state === state) }))),
    )
    .family(
      "glasscast_stream_capturing",
      "gauge",
      "1 while the stream's capture runs (0 for an idle on-demand stream).",
      perStream((s) => bool(s.capturing)),
    )
    .family(
      "glasscast_stream_fps",
      "gauge",
      "Frames per second the source delivers, 0 while it delivers none.",
      perStream((s) => s.fps),
    )
    .family(
      "glasscast_stream_width",
      "gauge",
      "Width of the stream's picture in pixels.",
      perStream((s) => s.width),
    )
    .family(
      "glasscast_stream_height",
      "gauge",
      "Height of the stream's picture in pixels.",
      perStream((s) => s.height),
    )
    .family(
      "glasscast_frames_captured_total",
      "counter",
      "Frames the source delivered.",
      perStream((s) => s.framesCaptured),
    )
    .family(
      "glasscast_source_restarts_total",
      "counter",
      "Times the source was restarted (it failed, stopped or went silent).",
      perStream((s) => s.restarts),
    )
    .family(
      "glasscast_last_frame_age_seconds",
      "gauge",
      "Seconds since the source's last frame (absent before the first).",
      perStream((s) => (s.lastFrameAgeMs === null ? null : s.lastFrameAgeMs / 1000)),
    )
    .family(
      "glasscast_jpeg_encoded_total",
      "counter",
      "Pictures JPEG-encoded by the server (passed-through JPEGs not counted).",
      perStream((s) => s.encoders.jpeg.encoded),
    )
    .family(
      "glasscast_jpeg_encode_seconds_total",
      "counter",
      "Time spent JPEG-encoding, in seconds.",
      perStream((s) => s.encoders.jpeg.msTotal / 1000),
    )
    .family(
      "glasscast_viewers",
      "gauge",
      "Viewers watching now, by transport (snapshot: snapshot requests being answered).",
      perOutput(
        (o) => o.viewers.length,
        (s) => s.outputs.snapshot.inProgress,
      ),
    )
    .family(
      "glasscast_viewers_joined_total",
      "counter",
      "Viewers that ever joined, by transport (snapshot: snapshots asked for).",
      perOutput(
        (o) => o.joined,
        (s) => s.outputs.snapshot.joined,
      ),
    )
    .family(
      "glasscast_frames_sent_total",
      "counter",
      "Frames handed to viewers (JPEGs over mjpeg, H.264 access units over webrtc and rtsp), those that left included.",
      perOutput((o) => o.framesSent),
    )
    .family(
      "glasscast_frames_skipped_total",
      "counter",
      "Frames viewers skipped because they were still busy with an older one, those that left included.",
      perOutput((o) => o.framesSkipped),
    )
    .family(
      "glasscast_h264_encoder_running",
      "gauge",
      "1 while the stream's H.264 for WebRTC is being made (or passed through).",
      h264((h) => bool(h.running)),
    )
    .family(
      "glasscast_h264_passthrough",
      "gauge",
      "1 while the source's own H.264 is passed to WebRTC viewers without an encoder.",
      h264((h) => bool(h.passthrough)),
    )
    .family(
      "glasscast_h264_access_units_total",
      "counter",
      "H.264 access units made or passed through for WebRTC viewers.",
      h264((h) => h.accessUnits),
    )
    .family(
      "glasscast_h264_skipped_total",
      "counter",
      "Pictures the H.264 encoder skipped because it was still busy.",
      h264((h) => h.skipped),
    )
    .family(
      "glasscast_publish_state",
      "gauge",
      "1 for the state each --publish destination is in (connecting, live, retrying, stopped), 0 for the others.",
      streams.flatMap((s) =>
        s.outputs.publish.flatMap((d) =>
          PUBLISH_STATES.map((state) => ({ labels: { stream: s.name, destination: d.url, state }, value: bool(d.state === state) })),
        ),
      ),
    )
    .family(
      "glasscast_publish_bytes_total",
      "counter",
      "H.264 bytes handed to each --publish destination.",
      perDestination((d) => d.bytes),
    )
    .family(
      "glasscast_publish_frames_total",
      "counter",
      "H.264 access units handed to each --publish destination.",
      perDestination((d) => d.frames),
    )
    .family(
      "glasscast_publish_skipped_total",
      "counter",
      "Access units a --publish destination skipped (not ready, or catching up to a keyframe).",
      perDestination((d) => d.skipped),
    )
    .family(
      "glasscast_publish_reconnects_total",
      "counter",
      "Times a --publish destination was connected again after its connection failed or ended.",
      perDestination((d) => d.reconnects),
    )
    .family(
      "glasscast_audio_encoder_running",
      "gauge",
      "1 while the stream's Opus encoder runs (--audio).",
      perStream((s) => s.encoders.audio && bool(s.encoders.audio.encoderPid !== null)),
    )
    .family(
      "glasscast_audio_packets_total",
      "counter",
      "Opus packets made once for every listener of the stream.",
      perStream((s) => s.encoders.audio?.packets),
    )
    .family(
      "glasscast_audio_silence_packets_total",
      "counter",
      "Silence packets sent because the audio input gave nothing (a microphone unplugged, a source restarting).",
      perStream((s) => s.encoders.audio?.silencePackets),
    )
    .family(
      "glasscast_audio_level_dbfs",
      "gauge",
      "RMS level of the stream's sound over the last tenth of a second, in dBFS (-120 for digital silence).",
      perStream((s) => s.encoders.audio?.levelDb),
    )
    .family(
      "glasscast_audio_listeners",
      "gauge",
      "Viewers sent the stream's sound (WebRTC peers and RTSP sessions).",
      perStream((s) => s.encoders.audio?.listeners),
    )
    .family(
      "glasscast_audio_restarts_total",
      "counter",
      "Times the ALSA capture failed and was started again.",
      perStream((s) => s.encoders.audio?.restarts),
    )
    .family(
      "glasscast_ingest_live",
      "gauge",
      "1 while a publisher feeds the stream's ingest (--source whip:NAME or rtsp-push:PATH), 0 while it waits for one.",
      perStream((s) => (s.ingest ? bool(s.ingest.state === "live") : null)),
    )
    .family(
      "glasscast_ingest_bytes_total",
      "counter",
      "RTP payload bytes received from the ingest's publishers (WHIP or RTSP push).",
      perStream((s) => s.ingest?.bytesTotal),
    )
    .family(
      "glasscast_ingest_sessions_total",
      "counter",
      "Publishers accepted by the ingest (WHIP or RTSP push).",
      perStream((s) => s.ingest?.sessions),
    )
    .family(
      "glasscast_webrtc_peers",
      "gauge",
      "WebRTC peers, those still connecting included.",
      snap.totals.webrtcPeers === null ? [] : [{ value: snap.totals.webrtcPeers }],
    )
    .family(
      "glasscast_rtsp_clients",
      "gauge",
      "RTSP sessions, those set up but not yet playing included.",
      snap.totals.rtspClients === null ? [] : [{ value: snap.totals.rtspClients }],
    )
    .family(
      "glasscast_hls_served_total",
      "counter",
      "HLS files the origin answered, by kind (playlist, segment, part, init); behind a cache it grows once per file, not per player.",
      streams.flatMap((s) =>
        s.outputs.hls
          ? (["playlists", "segments", "parts", "inits"] as const).map((kind) => ({
              labels: { stream: s.name, kind: kind.slice(0, -1) },
              value: s.outputs.hls!.served[kind],
            }))
          : [],
      ),
    );

  const t = snap.talkback;
  e.family("glasscast_talkback_talking", "gauge", "1 while someone talks through --talkback, else 0.", t ? [{ value: t.talking ? 1 : 0 }] : [])
    .family("glasscast_talkback_sessions_total", "counter", "Push-to-talk sessions opened.", t ? [{ value: t.sessions }] : [])
    .family("glasscast_talkback_refused_total", "counter", "Push-to-talk offers refused because someone else was talking.", t ? [{ value: t.refused }] : [])
    .family("glasscast_talkback_packets_total", "counter", "Opus packets played on the --talkback device.", t ? [{ value: t.packets }] : []);

  const p = snap.process;
  return e
    .family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", p.residentBytes === null ? [] : [{ value: p.residentBytes }])
    .family("process_open_fds", "gauge", "Number of open file descriptors.", p.openFds === null ? [] : [{ value: p.openFds }])
    .family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", [{ value: p.cpuSeconds }])
    .text();
}
