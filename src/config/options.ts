/**
 * Every option glasscast takes: its flag, default, help text and the values it
 * allows, in one table. The CLI parser, `--help` and the README's option list
 * come from here, so they cannot drift apart.
 */
import type { JpegSubsampling } from "../encoders/jpeg-settings.ts";
import { H264_ENCODERS, type H264EncoderName } from "../encoders/h264-ffmpeg.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../log.ts";
import { INPUT_FORMATS, type InputFormat } from "../sources/camera-plan.ts";
import { RESERVED_ROOTS, reservedRootOf } from "./reserved-paths.ts";

export interface Options {
  /** Each `SRC` or `NAME=SRC`; several streams when given several times. */
  source: string[];
  /** Each stream's sound: `[NAME=]none|source|DEVICE`. */
  audio: string[];
  /** An ALSA playback device that plays what a logged-in viewer says (push to talk), or null. */
  talkback: string | null;
  host: string;
  port: number;
  width: number | null;
  height: number | null;
  fps: number | null;
  loop: boolean;
  ffmpeg: string;
  frameSizeReduction: number;
  inputFormat: InputFormat;
  passthrough: boolean;
  rpicam: string | null;
  rotate: number;
  hflip: boolean;
  vflip: boolean;
  stabilize: boolean;
  streamMode: boolean;
  sourceTimeout: number;
  /** Retired: given, it stops the program (RTSP publishers push to the RTSP server, --rtsp-port). */
  rtspPushPort: number | null;
  jpegQuality: number;
  jpegFastDct: boolean;
  jpegFastUpsample: boolean;
  jpegSubsampling: JpegSubsampling;
  videoEndpoint: string;
  kiosk: boolean;
  kioskSound: boolean;
  themeDir: string | null;
  theme: boolean;
  debug: boolean;
  webrtc: boolean;
  hls: boolean;
  hlsPartTarget: number;
  h264Bitrate: number;
  h264Keyint: number;
  h264Encoder: H264EncoderName;
  iceServer: string[];
  iceUsername: string | null;
  iceCredential: string | null;
  webrtcPortRange: string | null;
  webrtcCandidate: string[];
  webrtcMaxPeers: number;
  mjpegMaxViewers: number;
  rtspPort: number;
  rtspMaxClients: number;
  onDemand: boolean;
  alwaysOn: boolean;
  onDemandLinger: number;
  auth: string[];
  viewerToken: string[];
  ingestToken: string[];
  tokenSecret: string | null;
  metricsAuth: string[];
  allowOrigin: string[];
  tlsCert: string | null;
  tlsKey: string | null;
  publish: string[];
  publishToken: string | null;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/**
 * The keys of Options before their flags were renamed (issue 14), still read
 * by the library (createGlasscast) as their new key, as the old flags are.
 */
export interface RenamedOptionKeys {
  /** @deprecated the same as mjpegMaxViewers (--mjpeg-max-viewers) */
  maxClients?: number;
  /** @deprecated the same as webrtcMaxPeers (--webrtc-max-peers) */
  maxPeers?: number;
  /** @deprecated the same as rtspMaxClients (--rtsp-max-clients) */
  maxRtspClients?: number;
  /** @deprecated the same as h264Bitrate (--h264-bitrate) */
  webrtcBitrate?: number;
  /** @deprecated the same as h264Keyint (--h264-keyint) */
  webrtcKeyint?: number;
  /** @deprecated the same as jpegFastDct (--jpeg-fast-dct) */
  jpegFastdct?: boolean;
  /** @deprecated the same as jpegFastUpsample (--jpeg-fast-upsample) */
  jpegFastupsample?: boolean;
  /** @deprecated the same as onDemandLinger (--on-demand-linger) */
  idleTimeout?: number;
}

/** An option's key as written before its flag was renamed: its alias in camelCase (max-clients: maxClients). */
export function aliasKeys(spec: OptionSpec): string[] {
  return (spec.aliases ?? []).map((a) => a.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
}

/** What a camera is asked to give (see sources/camera-plan.ts); auto picks what costs least. */
export { INPUT_FORMATS, type InputFormat };

type Kind =
  | { type: "string"; check?: (v: string) => string | null }
  | { type: "int"; min: number; max: number; even?: boolean; oneOf?: readonly number[] }
  | { type: "number"; min: number; max: number }
  | { type: "bool" }
  | { type: "enum"; values: readonly string[] };

export interface OptionSpec {
  readonly key: keyof Options;
  readonly flag: string;
  /**
   * Older names of the flag, still read wherever a flag is (the command line,
   * --no-NAME, a config file's keys); help and the docs show them as "(also
   * --NAME)", everything else shows `flag`.
   */
  readonly aliases?: readonly string[];
  readonly kind: Kind;
  readonly default: Options[keyof Options];
  readonly placeholder: string;
  readonly help: string;
  readonly group: "Source" | "Camera" | "Server" | "Access" | "Page" | "JPEG" | "WebRTC" | "Logging";
  /** May be given several times; the values are collected in order. */
  readonly repeatable?: boolean;
  /** A default decided at startup (the first camera found): how it is shown; the value itself is empty. */
  readonly defaultText?: string;
}

export const ENDPOINT_PATTERN = /^[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;

function checkEndpoint(v: string): string | null {
  const name = v.replace(/^\/+/, "");
  if (!ENDPOINT_PATTERN.test(name) || name.split("/").some((s) => s === "." || s === "..")) {
    return "a URL path such as video or cam/live (letters, digits, . _ ~ - and /)";
  }
  const taken = reservedRootOf(name);
  if (taken !== null)
    return `a path that does not start with /${taken}, which is glasscast's own route (also taken: ${RESERVED_ROOTS.filter((r) => r)
      .map((r) => "/" + r)
      .join(", ")})`;
  return null;
}

function checkCredential(v: string): string | null {
  const colon = v.indexOf(":");
  if (colon < 1 || colon === v.length - 1) return "USER:PASSWORD, or USER:HASH with a hash from `glasscast hash-password` (argon2 or bcrypt)";
  return null;
}

function checkToken(v: string): string | null {
  return /^[A-Za-z0-9._~-]{16,256}$/.test(v) ? null : "at least 16 letters, digits, . _ ~ or - (e.g. from: openssl rand -hex 16)";
}

/** An origin as a browser sends it in `Origin` (scheme://host[:port], lower case, no path), or `*`. */
function checkOrigin(v: string): string | null {
  if (v === "*") return null;
  let origin = "";
  try {
    origin = new URL(v).origin;
  } catch {
    /* not a URL */
  }
  return /^https?:\/\//.test(v) && origin === v
    ? null
    : "an origin as a browser sends it: http(s)://HOST[:PORT] in lower case without a path, e.g. https://player.example.com, or *";
}

function checkNonEmpty(v: string): string | null {
  return v.trim() ? null : "a non-empty value";
}

function checkIceServer(v: string): string | null {
  return /^(stun|turn|turns):[^\s]+$/.test(v) ? null : "a stun:, turn: or turns: URL such as stun:stun.example.org:3478";
}

function checkPortRange(v: string): string | null {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(v);
  const [lo, hi] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  // werift refuses a range of one port (every offer would fail), so MIN < MAX.
  return m && lo >= 1024 && hi <= 65535 && lo < hi ? null : "MIN-MAX with 1024 ≤ MIN < MAX ≤ 65535, e.g. 40000-40100";
}

function checkCandidate(v: string): string | null {
  if (/^(\d{1,3}\.){3}\d{1,3}:\d+$/.test(v)) {
    return "an address without a port: werift gives every peer its own UDP port, so one forwarded port cannot be announced (forward a --webrtc-port-range instead)";
  }
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
  if (ipv4 && ipv4.slice(1).every((n) => Number(n) <= 255)) return null;
  return /^[0-9a-fA-F:]+$/.test(v) && v.includes(":") ? null : "an IPv4 or IPv6 address such as 203.0.113.7";
}

export const OPTION_SPECS: readonly OptionSpec[] = [
  {
    key: "source",
    flag: "source",
    group: "Source",
    kind: { type: "string", check: checkNonEmpty },
    default: [],
    placeholder: "[NAME=]SRC",
    repeatable: true,
    defaultText: "the first camera found, else testsrc",
    help: "testsrc (moving test pattern with a clock), a V4L2 camera (/dev/videoN or N), a Pi camera (libcamera:N), a video file, a URL (rtsp, rtmp, http(s), hls, srt, udp) or an image pattern such as 'shots/*.jpg'; give it several times as NAME=SRC for several cameras; without it, glasscast looks for a camera at each start (a Pi camera, else a V4L2 one) and says in its start line which it chose and why",
  },
  {
    key: "audio",
    flag: "audio",
    group: "Source",
    kind: { type: "string", check: checkNonEmpty },
    default: [],
    placeholder: "[NAME=]DEV",
    repeatable: true,
    help: "a stream's sound, sent to WebRTC viewers and RTSP clients as Opus (one encoder per stream): an ALSA capture device (hw:1,0, plughw:1,0, default; glasscast devices lists them), source (the audio track of a file or network source) or none; NAME= picks the stream when there are several (see docs/audio.md)",
  },
  {
    key: "talkback",
    flag: "talkback",
    group: "Source",
    kind: { type: "string", check: checkNonEmpty },
    default: null,
    placeholder: "DEVICE",
    help: "push to talk: what a logged-in viewer says into the page's microphone (held button) plays on this ALSA playback device (default, plughw:0,0); one speaker at a time; needs --auth (see docs/audio.md)",
  },
  {
    key: "width",
    flag: "width",
    group: "Source",
    kind: { type: "int", min: 16, max: 8192, even: true },
    default: null,
    placeholder: "PX",
    help: "scale the picture to this width; given alone, the height follows the aspect ratio",
  },
  {
    key: "height",
    flag: "height",
    group: "Source",
    kind: { type: "int", min: 16, max: 8192, even: true },
    default: null,
    placeholder: "PX",
    help: "scale the picture to this height; given alone, the width follows the aspect ratio",
  },
  {
    key: "fps",
    flag: "fps",
    group: "Source",
    kind: { type: "number", min: 0.1, max: 240 },
    default: null,
    placeholder: "N",
    help: "frame rate: limits a file or stream, sets the rate of testsrc (30) and of an image sequence (30)",
  },
  {
    key: "loop",
    flag: "loop",
    group: "Source",
    kind: { type: "bool" },
    default: false,
    placeholder: "",
    help: "restart a file or image sequence at its end (without it, viewers get an END OF STREAM picture)",
  },
  {
    key: "frameSizeReduction",
    flag: "frame-size-reduction",
    group: "Source",
    kind: { type: "int", min: 0, max: 90 },
    default: 0,
    placeholder: "PCT",
    help: "make the picture this many percent smaller (vidgear's frame_size_reduction)",
  },
  {
    key: "ffmpeg",
    flag: "ffmpeg",
    group: "Source",
    kind: { type: "string", check: checkNonEmpty },
    default: "ffmpeg",
    placeholder: "PATH",
    help: "the ffmpeg program used for capture",
  },
  {
    key: "sourceTimeout",
    flag: "source-timeout",
    group: "Source",
    kind: { type: "number", min: 1, max: 600 },
    default: 10,
    placeholder: "S",
    help: "a source that delivers no frame for this long (and at least three frame intervals) is restarted, with back-off from 1 s to 30 s; viewers see NO SIGNAL meanwhile",
  },
  {
    key: "rtspPushPort",
    flag: "rtsp-push-port",
    group: "Source",
    kind: { type: "int", min: 1, max: 65535 },
    default: null,
    placeholder: "PORT",
    help: "retired (exits 2): an --source NAME=rtsp-push:PATH stream is pushed to the RTSP server itself, rtsp://HOST:--rtsp-port/PATH, with an --ingest-token or --auth login (see docs/ingest.md)",
  },
  {
    key: "streamMode",
    flag: "stream-mode",
    group: "Source",
    kind: { type: "bool" },
    default: false,
    placeholder: "",
    help: "the http(s) sources are pages of a streaming site (YouTube, Twitch…): resolve them with yt-dlp at each (re)start (vidgear's stream_mode)",
  },
  {
    key: "inputFormat",
    flag: "input-format",
    group: "Camera",
    kind: { type: "enum", values: INPUT_FORMATS },
    default: "auto",
    placeholder: "F",
    help: "what the camera gives: mjpeg (passed to MJPEG viewers untouched), h264 (passed to WebRTC untouched), yuyv (V4L2 raw) or yuv420 (V4L2 or libcamera raw); auto picks what costs least for the outputs in use",
  },
  {
    key: "passthrough",
    flag: "passthrough",
    group: "Camera",
    kind: { type: "bool" },
    default: true,
    placeholder: "",
    help: "pass a camera's own JPEGs and H.264 to viewers untouched; --no-passthrough decodes them and encodes with the --jpeg-* and --h264-* settings (smaller JPEGs, more CPU)",
  },
  {
    key: "rpicam",
    flag: "rpicam",
    group: "Camera",
    kind: { type: "string", check: checkNonEmpty },
    default: null,
    placeholder: "PATH",
    help: "the rpicam-vid program for libcamera:N sources; without it, rpicam-vid or else libcamera-vid from PATH",
  },
  {
    key: "rotate",
    flag: "rotate",
    group: "Camera",
    kind: { type: "int", min: 0, max: 270, oneOf: [0, 90, 180, 270] },
    default: 0,
    placeholder: "DEG",
    help: "turn the picture clockwise (done by rpicam-vid where it can, else once per frame)",
  },
  { key: "hflip", flag: "hflip", group: "Camera", kind: { type: "bool" }, default: false, placeholder: "", help: "mirror the picture left to right" },
  { key: "vflip", flag: "vflip", group: "Camera", kind: { type: "bool" }, default: false, placeholder: "", help: "mirror the picture top to bottom" },
  {
    key: "stabilize",
    flag: "stabilize",
    group: "Camera",
    kind: { type: "bool" },
    default: false,
    placeholder: "",
    help: "steady a shaking picture with ffmpeg's deshake filter (vidgear's stabilize)",
  },
  {
    key: "host",
    flag: "host",
    group: "Server",
    kind: { type: "string", check: checkNonEmpty },
    default: "0.0.0.0",
    placeholder: "ADDR",
    help: "address to listen on",
  },
  {
    key: "port",
    flag: "port",
    group: "Server",
    kind: { type: "int", min: 0, max: 65535 },
    default: 8000,
    placeholder: "N",
    help: "port to listen on (0 picks a free one)",
  },
  {
    key: "videoEndpoint",
    flag: "video-endpoint",
    group: "Server",
    kind: { type: "string", check: checkEndpoint },
    default: "video",
    placeholder: "NAME",
    help: "path of the MJPEG stream (vidgear's custom_video_endpoint)",
  },
  {
    key: "mjpegMaxViewers",
    flag: "mjpeg-max-viewers",
    aliases: ["max-clients"],
    group: "Server",
    kind: { type: "int", min: 1, max: 10_000 },
    default: 200,
    placeholder: "N",
    help: "most MJPEG viewers at once (over all streams); past it /video answers 503",
  },
  {
    key: "rtspPort",
    flag: "rtsp-port",
    group: "Server",
    kind: { type: "int", min: 0, max: 65535 },
    default: 8554,
    placeholder: "N",
    help: "serve every stream over RTSP at rtsp://HOST:N/NAME (the first also at rtsp://HOST:N/), on --host, from the stream's one H.264 feed; 0 turns RTSP off",
  },
  {
    key: "rtspMaxClients",
    flag: "rtsp-max-clients",
    aliases: ["max-rtsp-clients"],
    group: "Server",
    kind: { type: "int", min: 1, max: 10_000 },
    default: 50,
    placeholder: "N",
    help: "most RTSP clients at once (over all streams); past it SETUP answers 453 Not Enough Bandwidth",
  },
  {
    key: "onDemand",
    flag: "on-demand",
    group: "Server",
    kind: { type: "bool" },
    default: false,
    placeholder: "",
    help: "capture on demand also for streams fed by a publisher (WHIP, rtsp-push) or by a program; cameras, files and network sources capture on demand by default: from their first viewer (MJPEG, snapshot, WebRTC, RTSP, HLS, a --publish target) to --on-demand-linger seconds after their last",
  },
  {
    key: "alwaysOn",
    flag: "always-on",
    group: "Server",
    kind: { type: "bool" },
    default: false,
    placeholder: "",
    help: "capture all the time, also with no viewer (a camera's light stays on; the first viewer gets a picture at once; /healthz notices a dead source without a viewer); the default is to capture on demand",
  },
  {
    key: "onDemandLinger",
    flag: "on-demand-linger",
    aliases: ["idle-timeout"],
    group: "Server",
    kind: { type: "number", min: 1, max: 86_400 },
    default: 10,
    placeholder: "S",
    help: "seconds an on-demand stream keeps capturing after its last viewer left (a reloaded page finds it running)",
  },
  {
    key: "tlsCert",
    flag: "tls-cert",
    group: "Server",
    kind: { type: "string", check: checkNonEmpty },
    default: null,
    placeholder: "FILE",
    help: "serve HTTPS with this PEM certificate (chain); needs --tls-key",
  },
  {
    key: "tlsKey",
    flag: "tls-key",
    group: "Server",
    kind: { type: "string", check: checkNonEmpty },
    default: null,
    placeholder: "FILE",
    help: "the PEM private key of --tls-cert",
  },
  {
    key: "publish",
    flag: "publish",
    group: "Server",
    kind: { type: "string", check: checkNonEmpty },
    default: [],
    placeholder: "[NAME=]URL",
    repeatable: true,
    help: "push the stream's H.264 (its one encoder, no encode per destination) to rtsp://, rtsps://, rtmp://, rtmps://, srt:// (through ffmpeg) or a WHIP endpoint (whip://HOST/PATH over https, whip+http:// over http, or its https:// URL); repeatable; NAME= may be left out when there is one stream; reconnects with back-off from 1 s to 30 s (see docs/publish.md)",
  },
  {
    key: "publishToken",
    flag: "publish-token",
    group: "Server",
    kind: { type: "string", check: checkNonEmpty },
    default: null,
    placeholder: "TOKEN",
    help: "bearer token for the WHIP destinations whose URL gives none (whip://TOKEN@HOST/PATH or ?token=TOKEN)",
  },
  {
    key: "auth",
    flag: "auth",
    group: "Access",
    kind: { type: "string", check: checkCredential },
    default: [],
    placeholder: "USER:PASS",
    repeatable: true,
    help: "protect everything with HTTP Basic auth (repeatable; the password may be a hash from glasscast hash-password); without it anyone who reaches the port can watch",
  },
  {
    key: "viewerToken",
    flag: "viewer-token",
    group: "Access",
    kind: { type: "string", check: checkToken },
    default: [],
    placeholder: "TOKEN",
    repeatable: true,
    help: "a token that lets its holder watch (page, video, snapshots, WebRTC) without the password: ?token=TOKEN or Authorization: Bearer TOKEN (repeatable)",
  },
  {
    key: "ingestToken",
    flag: "ingest-token",
    group: "Access",
    kind: { type: "string", check: checkToken },
    default: [],
    placeholder: "TOKEN",
    repeatable: true,
    help: "a token that lets its holder publish to the WHIP ingests (--source whip:NAME): Authorization: Bearer TOKEN (repeatable); an --auth login publishes too, a viewer token never does (see docs/ingest.md)",
  },
  {
    key: "tokenSecret",
    flag: "token-secret",
    group: "Access",
    kind: { type: "string", check: checkToken },
    default: null,
    placeholder: "SECRET",
    help: "key that signs viewer links with an expiry (POST /api/tokens, glasscast token); without it a random key is made at each start",
  },
  {
    key: "metricsAuth",
    flag: "metrics-auth",
    group: "Access",
    kind: { type: "string", check: checkCredential },
    default: [],
    placeholder: "USER:PASS",
    repeatable: true,
    help: "credentials that open /state and /metrics only (a Prometheus scraper); with --auth those need one of these or an --auth user, without --auth only these",
  },
  {
    key: "allowOrigin",
    flag: "allow-origin",
    group: "Access",
    kind: { type: "string", check: checkOrigin },
    default: [],
    placeholder: "ORIGIN",
    repeatable: true,
    help: "let pages of this other origin (https://host[:port]) use the video, snapshots, /api/streams and WebRTC signalling (CORS), with the visitor's login if they have one (repeatable); * lets every site, without logins (a viewer token in ?token= still works); none by default: same origin only",
  },
  {
    key: "kiosk",
    flag: "kiosk",
    group: "Page",
    kind: { type: "bool" },
    default: false,
    placeholder: "",
    help: "the page shows the video alone, full-window, cursor hidden (as /?kiosk=1 does)",
  },
  {
    key: "kioskSound",
    flag: "kiosk-sound",
    group: "Page",
    kind: { type: "bool" },
    default: false,
    placeholder: "",
    help: "a kiosk starts with the streams' sound on (--audio) rather than muted, where the browser allows it (Chromium with --autoplay-policy=no-user-gesture-required); a page shows an unmute button on each tile either way",
  },
  {
    key: "themeDir",
    flag: "theme-dir",
    group: "Page",
    kind: { type: "string", check: checkNonEmpty },
    default: null,
    placeholder: "DIR",
    help: "a folder whose files replace the built-in theme's one by one (make one with: glasscast theme export DIR)",
  },
  {
    key: "theme",
    flag: "theme",
    group: "Page",
    kind: { type: "bool" },
    default: true,
    placeholder: "",
    help: "serve the web page; --no-theme serves only the video routes and answers everything else in JSON (vidgear's skip_generate_webdata)",
  },
  { key: "debug", flag: "debug", group: "Page", kind: { type: "bool" }, default: false, placeholder: "", help: "show an error's detail on the 500 page" },
  {
    key: "webrtc",
    flag: "webrtc",
    group: "WebRTC",
    kind: { type: "bool" },
    default: true,
    placeholder: "",
    help: "serve WebRTC (/offer, /whep) and let the page use it, with MJPEG as its fallback (--no-webrtc: MJPEG only)",
  },
  {
    key: "hls",
    flag: "hls",
    group: "WebRTC",
    kind: { type: "bool" },
    default: true,
    placeholder: "",
    help: "serve HLS (/hls/NAME/index.m3u8, low-latency parts) from the same H.264, and let the page use it when WebRTC cannot connect",
  },
  {
    key: "hlsPartTarget",
    flag: "hls-part-target",
    group: "WebRTC",
    kind: { type: "number", min: 0.1, max: 2 },
    default: 0.2,
    placeholder: "S",
    help: "about how long an LL-HLS part is, in seconds (a whole number of pictures); low-latency players stay about three parts behind",
  },
  {
    key: "h264Bitrate",
    flag: "h264-bitrate",
    aliases: ["webrtc-bitrate"],
    group: "WebRTC",
    kind: { type: "int", min: 100, max: 50_000 },
    default: 2500,
    placeholder: "KBPS",
    help: "bit rate in kbit/s of the stream's one H.264 encoder, which feeds WebRTC, RTSP, HLS and --publish (and sets rpicam-vid's H.264), whatever the number of viewers",
  },
  {
    key: "h264Keyint",
    flag: "h264-keyint",
    aliases: ["webrtc-keyint"],
    group: "WebRTC",
    kind: { type: "int", min: 1, max: 600 },
    default: 30,
    placeholder: "FRAMES",
    help: "frames between H.264 keyframes (a new viewer starts at the last one)",
  },
  {
    key: "h264Encoder",
    flag: "h264-encoder",
    group: "WebRTC",
    kind: { type: "enum", values: H264_ENCODERS },
    default: "libx264",
    placeholder: "E",
    help: "ffmpeg's H.264 encoder: libx264 (software) or h264_v4l2m2m (the Raspberry Pi 4 hardware encoder)",
  },
  {
    key: "iceServer",
    flag: "ice-server",
    group: "WebRTC",
    kind: { type: "string", check: checkIceServer },
    default: [],
    placeholder: "URL",
    repeatable: true,
    help: "a STUN or TURN server for the server and the page (repeatable); none by default: on a LAN host candidates are enough",
  },
  {
    key: "iceUsername",
    flag: "ice-username",
    group: "WebRTC",
    kind: { type: "string", check: checkNonEmpty },
    default: null,
    placeholder: "NAME",
    help: "user name for the turn:/turns: servers",
  },
  {
    key: "iceCredential",
    flag: "ice-credential",
    group: "WebRTC",
    kind: { type: "string", check: checkNonEmpty },
    default: null,
    placeholder: "SECRET",
    help: "password for the turn:/turns: servers",
  },
  {
    key: "webrtcPortRange",
    flag: "webrtc-port-range",
    group: "WebRTC",
    kind: { type: "string", check: checkPortRange },
    default: null,
    placeholder: "MIN-MAX",
    help: "UDP ports for WebRTC media, for a firewall (each viewer takes one)",
  },
  {
    key: "webrtcCandidate",
    flag: "webrtc-candidate",
    group: "WebRTC",
    kind: { type: "string", check: checkCandidate },
    default: [],
    placeholder: "ADDR",
    repeatable: true,
    help: "address announced to browsers instead of the interfaces' own (repeatable): a public address behind port forwarding, or 127.0.0.1",
  },
  {
    key: "webrtcMaxPeers",
    flag: "webrtc-max-peers",
    aliases: ["max-peers"],
    group: "WebRTC",
    kind: { type: "int", min: 1, max: 1000 },
    default: 50,
    placeholder: "N",
    help: "most WebRTC viewers at once; past it /offer and /whep answer 503",
  },
  { key: "jpegQuality", flag: "jpeg-quality", group: "JPEG", kind: { type: "int", min: 10, max: 100 }, default: 90, placeholder: "Q", help: "JPEG quality" },
  {
    key: "jpegFastDct",
    flag: "jpeg-fast-dct",
    aliases: ["jpeg-fastdct"],
    group: "JPEG",
    kind: { type: "bool" },
    default: true,
    placeholder: "",
    help: "fast integer DCT: faster, very slightly less accurate (--no-jpeg-fast-dct for the accurate one)",
  },
  {
    key: "jpegFastUpsample",
    flag: "jpeg-fast-upsample",
    aliases: ["jpeg-fastupsample"],
    group: "JPEG",
    kind: { type: "bool" },
    default: false,
    placeholder: "",
    help: "fastest chroma resampling (fast bilinear instead of bicubic) where the source's chroma is converted to the JPEG's subsampling",
  },
  {
    key: "jpegSubsampling",
    flag: "jpeg-subsampling",
    group: "JPEG",
    kind: { type: "enum", values: ["420", "422", "444", "gray"] },
    default: "420",
    placeholder: "S",
    help: "chroma subsampling of the JPEGs (gray: black and white)",
  },
  {
    key: "logLevel",
    flag: "log-level",
    group: "Logging",
    kind: { type: "enum", values: LOG_LEVELS },
    default: "info",
    placeholder: "L",
    help: "how much to log to stderr",
  },
  {
    key: "logFormat",
    flag: "log-format",
    group: "Logging",
    kind: { type: "enum", values: LOG_FORMATS },
    default: "text",
    placeholder: "F",
    help: "text: one readable line per event with key=value fields; json: one JSON object per line",
  },
];

/** Each flag and each of its aliases, without dashes, to its option. */
export const SPEC_BY_NAME: ReadonlyMap<string, OptionSpec> = new Map(
  OPTION_SPECS.flatMap((s) => [s.flag, ...(s.aliases ?? [])].map((name) => [name, s] as const)),
);

/** "(also --old-name)" for an option with aliases, else "". */
export function alsoText(spec: OptionSpec): string {
  return spec.aliases?.length ? `(also ${spec.aliases.map((a) => `--${a}`).join(", ")})` : "";
}

/** How a default shows in --help and the README. */
export function shownDefault(spec: OptionSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const d = spec.default;
  return d === null || (Array.isArray(d) && d.length === 0) ? "none" : String(d);
}

export function defaultOptions(): Options {
  const o: Record<string, unknown> = {};
  for (const spec of OPTION_SPECS) o[spec.key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  return o as unknown as Options;
}

/** "an integer from 10 to 100", etc.: what an option allows, for messages and --help. */
export function allowed(kind: Kind): string {
  switch (kind.type) {
    case "int":
      return kind.oneOf ? `one of ${kind.oneOf.join(", ")}` : `${kind.even ? "an even" : "an"} integer from ${kind.min} to ${kind.max}`;
    case "number":
      return `a number from ${kind.min} to ${kind.max}`;
    case "bool":
      return "true or false (or the flag alone, or --no-FLAG)";
    case "enum":
      return `one of ${kind.values.join(", ")}`;
    case "string":
      return "a value";
  }
}

/** Converts and checks one value; returns the value or the reason it is refused. */
export function convert(spec: OptionSpec, raw: string): { value: Options[keyof Options] } | { error: string } {
  const kind = spec.kind;
  switch (kind.type) {
    case "int": {
      const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n < kind.min || n > kind.max || (kind.even && n % 2 !== 0) || (kind.oneOf && !kind.oneOf.includes(n))) {
        return { error: allowed(kind) };
      }
      return { value: n };
    }
    case "number": {
      const n = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!(n >= kind.min && n <= kind.max)) return { error: allowed(kind) };
      return { value: n };
    }
    case "bool": {
      const v = raw.toLowerCase();
      if (["true", "1", "yes", "on"].includes(v)) return { value: true };
      if (["false", "0", "no", "off"].includes(v)) return { value: false };
      return { error: allowed(kind) };
    }
    case "enum":
      return kind.values.includes(raw) ? { value: raw } : { error: allowed(kind) };
    case "string": {
      const problem = kind.check?.(raw);
      return problem ? { error: problem } : { value: raw };
    }
  }
}
