/**
 * Builds glasscast: its streams (each one capture, whatever the number of
 * viewers), their outputs and the HTTP routes, as an Elysia app. The CLI is a
 * thin layer over this, and so is a program that embeds glasscast: it may add
 * its own routes and plugins to `app`, and streams fed by its own frames.
 */
import { networkInterfaces } from "node:os";
import { Elysia, type AnyElysia } from "elysia";
import { openAccessWarning } from "./access/exposure.ts";
import { accessGuard } from "./access/guard.ts";
import { AccessControl } from "./access/policy.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { stateRoutes } from "./routes/state.ts";
import { VERSION } from "./version.ts";
import type { Options, RenamedOptionKeys } from "./config/options.ts";
import { STREAM_NAME } from "./config/stream-sources.ts";
import { audioInputsOfOptions, checkOptions, OptionError, publishTargetsOf, resolveOptions } from "./config/validate.ts";
import { AudioFeed } from "./stream/audio-feed.ts";
import { createPublisher } from "./outputs/publish/publishers.ts";
import { chooseJpegPipeline } from "./encoders/choose.ts";
import { log, setLogFormat, setLogLevel } from "./log.ts";
import { MjpegBroadcaster } from "./outputs/mjpeg/broadcaster.ts";
import { H264Feed } from "./stream/h264-feed.ts";
import { HlsOutput } from "./outputs/hls/hls-output.ts";
import { hlsRoutes } from "./routes/hls.ts";
import { dropDefaultStun, peerConfig, type IceSettings } from "./outputs/webrtc/peer.ts";
import type { RTCPeerConnection } from "werift";
import { WebRtcSessions } from "./outputs/webrtc/sessions.ts";
import { RtspAccess } from "./outputs/rtsp/auth.ts";
import { RtspServer } from "./outputs/rtsp/server.ts";
import { stopAllChildren } from "./process/child.ts";
import { apiRoutes } from "./routes/api.ts";
import { anyOriginWarning, corsHeaders, CorsPolicy } from "./routes/cors.ts";
import { methodAnswer, methodGuard, MethodTable } from "./routes/methods.ts";
import { errorRoutes, jsonError } from "./routes/errors.ts";
import { mjpegRoutes, type ClientLimit } from "./routes/mjpeg.ts";
import { pageRoutes } from "./routes/pages.ts";
import { refusalAnswer } from "./routes/refusal.ts";
import { addressesOf, type PublishedStream } from "./outputs/published.ts";
import { staticRoutes } from "./routes/static.ts";
import { webrtcRoutes, whepOptionsHeaders } from "./routes/webrtc.ts";
import { whipOptionsHeaders, whipRoutes } from "./routes/whip.ts";
import { TalkBack } from "./outputs/talkback/talkback.ts";
import { talkbackRoutes } from "./routes/talkback.ts";
import { WhipIngest } from "./sources/whip/ingest.ts";
import { RtspIngest } from "./sources/rtsp-push/ingest.ts";
import { createCapture, jpegSettingsOf } from "./config/create-capture.ts";
import { chooseDefaultSource, type DefaultSource } from "./devices/default-source.ts";
import { findRpicam } from "./sources/libcamera/find-rpicam.ts";
import { TESTSRC_DEFAULT } from "./sources/ffmpeg/args.ts";
import type { Source } from "./sources/source.ts";
import { Audience } from "./stream/audience.ts";
import { Stream, type DecodeJpeg, type FrameTransform } from "./stream/stream.ts";
import { H264Decoder } from "./encoders/h264-decoder.ts";
import { JpegDecoder } from "./encoders/jpeg-decoder.ts";
import { turboJpegAvailable } from "./ffi/turbojpeg.ts";
import { Theme, ThemeError } from "./theme/theme.ts";

/** Seconds a connection may go without any byte moving before it is closed. */
const IDLE_TIMEOUT_S = 60;
/** How long shutdown lets responses finish before closing connections outright. */
const SHUTDOWN_GRACE_MS = 2000;
/** The H.264 encoder keeps running this long after the last WebRTC viewer left (a reloaded tab). */
const ENCODER_LINGER_MS = 5000;
/** --rtsp-port's default: when another server has it, glasscast runs without RTSP (with a warning). */
const RTSP_DEFAULT_PORT = 8554;
/** An HLS client is a viewer while its last request is at most this old (players fetch every part or segment). */
const HLS_VIEWER_WINDOW_MS = 5000;

/**
 * Whether a stream captures only while watched. By default a capture that
 * glasscast runs itself (a camera, a file, a network source: an ffmpeg or
 * rpicam-vid costing 10-20 % of a core and a camera's light) runs on demand;
 * frames that a publisher or the program pushes arrive anyway, so those
 * streams keep taking them unless --on-demand says otherwise.
 */
export function onDemandOf(options: Pick<Options, "onDemand" | "alwaysOn">, ownCapture: boolean): boolean {
  if (options.alwaysOn) return false;
  return options.onDemand || ownCapture;
}

/** A stream fed by the program itself (see framesFrom and createPushSource). */
export interface CustomStream {
  readonly name: string;
  readonly source: Source;
  /** Runs once per frame of this stream, before encoding (after the global transform). */
  readonly transform?: FrameTransform;
}

/** The CLI's options (all optional, checked the same way) plus what only a program can give. */
export interface GlasscastConfig extends Partial<Options>, RenamedOptionKeys {
  /** Streams fed by the program; without `source`, these are the only streams. */
  readonly streams?: readonly CustomStream[];
  /** Runs once per raw frame of every stream, before encoding. */
  readonly transform?: FrameTransform;
}

export interface Glasscast {
  /** The Elysia app: add routes and plugins (CORS, auth…) before `listen()`. */
  readonly app: AnyElysia;
  readonly options: Options;
  readonly streams: readonly PublishedStream[];
  readonly encoderName: string;
  /** The WebRTC viewers (null with --no-webrtc). */
  readonly webrtc: WebRtcSessions | null;
  /** The RTSP server (null with --rtsp-port 0, or before listen() when its default port was busy). */
  readonly rtsp: RtspServer | null;
  /** Starts listening (HTTP, and RTSP unless --rtsp-port 0); returns the HTTP server's bound address. */
  listen(): { hostname: string; port: number };
  /** Ends every viewer cleanly, stops every capture, reaps every child process. */
  close(): Promise<void>;
}

/**
 * Bun.serve's settings: one listener per port (Elysia asks for reusePort,
 * with which a second glasscast on the same port starts silently and takes
 * half the requests), never Bun's development error page (it shows the
 * working folder, stack frames and source lines), and a JSON 500 for any
 * error that gets past Elysia's own handling.
 */
function serveSettings() {
  return {
    idleTimeout: IDLE_TIMEOUT_S,
    reusePort: false,
    development: false,
    error(err: Error) {
      log.error(`request failed: ${err.message.split("\n")[0]}`);
      return jsonError(500, "something went wrong");
    },
  };
}

export function iceSettingsOf(o: Options): IceSettings {
  const credentials = (url: string) => (/^turns?:/.test(url) && o.iceUsername !== null ? { username: o.iceUsername, credential: o.iceCredential ?? "" } : {});
  const range = o.webrtcPortRange?.split("-").map(Number);
  return {
    iceServers: o.iceServer.map((urls) => ({ urls, ...credentials(urls) })),
    candidates: o.webrtcCandidate,
    portRange: range ? [range[0]!, range[1]!] : null,
    bindAddress: mediaBindAddress(o.webrtcCandidate),
  };
}

/**
 * Where the media sockets bind: the first --webrtc-candidate that is an
 * address of this machine (with `--webrtc-candidate 127.0.0.1` nothing
 * beyond loopback reaches them), or all addresses when no candidate is one
 * (a public address forwarded by a router, or no candidate at all).
 */
export function mediaBindAddress(candidates: readonly string[]): string | null {
  const own = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)));
  return candidates.find((c) => own.has(c)) ?? null;
}

/** A stream's JPEG decoder for transforms, made on first use; none without libjpeg-turbo. */
function jpegDecoder(): DecodeJpeg | undefined {
  if (!turboJpegAvailable()) return undefined;
  let decoder: JpegDecoder | null = null;
  return (jpeg) => {
    decoder ??= new JpegDecoder({ fastDct: true });
    return decoder.decode(jpeg);
  };
}

function composeTransforms(...transforms: (FrameTransform | undefined)[]): FrameTransform | undefined {
  const list = transforms.filter((t): t is FrameTransform => t !== undefined);
  if (list.length < 2) return list[0];
  return (frame) => list.reduce((f, t) => t(f) ?? f, frame);
}

/**
 * No --source (and no stream of the program's own): the first camera found, else the test pattern.
 * GLASSCAST_V4L2_SYSFS: another folder of videoN/name files than /sys/class/video4linux (the tests' fake machine).
 */
async function defaultSource(options: Options): Promise<DefaultSource> {
  const chosen = await chooseDefaultSource({
    ffmpeg: options.ffmpeg,
    rpicam: findRpicam(options.rpicam),
    sysfs: process.env.GLASSCAST_V4L2_SYSFS || undefined,
  });
  log.debug(`source: ${chosen.description}`, { event: "source.default", source: chosen.source });
  options.source = [chosen.source];
  return chosen;
}

/** checkOptions, saying when a camera found without --source is what the options do not fit. */
function checkChosen(options: Options, chosen: DefaultSource | null, programStreams: boolean): ReturnType<typeof checkOptions> {
  try {
    return checkOptions(options, { programStreams });
  } catch (err) {
    if (!(err instanceof OptionError) || chosen === null) throw err;
    const instead = chosen.source === "testsrc" ? "" : "; give --source testsrc for the test pattern";
    throw new OptionError(`${err.message} (without --source, glasscast chose the ${chosen.description}${instead})`);
  }
}

export async function createGlasscast(config: GlasscastConfig = {}): Promise<Glasscast> {
  const startedAt = Date.now();
  const { streams: custom = [], transform, ...given } = config;
  const options = resolveOptions(custom.length > 0 && given.source === undefined ? { ...given, source: [] } : given);
  setLogLevel(options.logLevel);
  setLogFormat(options.logFormat);
  const chosen = custom.length === 0 && options.source.length === 0 ? await defaultSource(options) : null;
  const captured = checkChosen(options, chosen, custom.length > 0);
  const theme = options.theme ? new Theme(options.themeDir) : null;
  await theme?.check().catch((err: unknown) => {
    throw err instanceof ThemeError ? new OptionError(`--theme-dir: ${err.message}`) : err;
  });

  const jpeg = jpegSettingsOf(options);
  const pipeline = chooseJpegPipeline(jpeg, options.ffmpeg);
  const ice = iceSettingsOf(options);
  // Each stream's sound (--audio): made before the captures, which a source's own track is taken from.
  const audio = new Map(
    [
      ...audioInputsOfOptions(options, [
        ...captured.map((c) => ({ name: c.name, kind: c.spec.kind })),
        ...custom.map((c) => ({ name: c.name, kind: "program" })),
      ]),
    ].map(
      ([name, input]) =>
        [name, new AudioFeed(name, input, { ffmpeg: options.ffmpeg, lingerMs: ENCODER_LINGER_MS, backoff: { initialMs: 1000, maxMs: 30_000 } })] as const,
    ),
  );
  // WHIP ingests, by endpoint name (POST /whip/NAME): streams fed by a publisher.
  const ingests = new Map<string, WhipIngest>();
  // RTSP publishers' streams (ANNOUNCE/RECORD to the RTSP server), by stream name, with their push path.
  const pushes = new Map<string, { ingest: RtspIngest; path: string }>();
  const definitions = [
    ...captured.map(({ name, spec }) => {
      if (spec.kind === "rtsp-push") {
        const host = options.host.includes(":") ? `[${options.host}]` : options.host;
        const ingest = new RtspIngest({ stream: name, url: `rtsp://${host}:${options.rtspPort}/${spec.path}`, silenceMs: options.sourceTimeout * 1000 });
        pushes.set(name, { ingest, path: spec.path });
        return { name, transform: undefined as FrameTransform | undefined, source: ingest as Source, ownCapture: false };
      }
      if (spec.kind !== "whip") {
        return {
          name,
          transform: undefined as FrameTransform | undefined,
          source: createCapture(
            name,
            spec,
            options,
            pipeline.captureOutput,
            chosen?.description,
            audio.get(name)?.input.kind === "source" ? audio.get(name)!.tap() : undefined,
          ) as Source,
          ownCapture: true,
        };
      }
      const peers = { config: peerConfig(ice), prepare: (pc: RTCPeerConnection) => dropDefaultStun(pc, ice) };
      const ingest = new WhipIngest({ name: spec.name, stream: name, peers, silenceMs: options.sourceTimeout * 1000 });
      ingests.set(spec.name, ingest);
      return { name, transform: undefined as FrameTransform | undefined, source: ingest as Source, ownCapture: false };
    }),
    ...custom.map((c) => {
      if (!STREAM_NAME.test(c.name))
        throw new OptionError(`streams: ${JSON.stringify(c.name)} is not a stream name; expected letters, digits, _ and - (up to 32)`);
      return { name: c.name, source: c.source, transform: c.transform, ownCapture: false };
    }),
  ];
  if (definitions.length === 0) throw new OptionError("--source: no stream to serve; give a source or a stream of frames");
  const names = definitions.map((d) => d.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new OptionError(`streams: the name ${JSON.stringify(twice)} is used twice; expected a different name for each stream`);

  const targets = publishTargetsOf(options, names);
  const videoBase = "/" + options.videoEndpoint.replace(/^\/+/, "");
  const published: PublishedStream[] = definitions.map((d, i) => {
    const stream = new Stream({
      name: d.name,
      source: d.source,
      encoder: pipeline.createEncoder(),
      encodeStill: pipeline.encodeStill,
      defaultSize: { width: options.width ?? TESTSRC_DEFAULT.width, height: options.height ?? TESTSRC_DEFAULT.height },
      transform: composeTransforms(transform, d.transform),
      sourceTimeoutMs: options.sourceTimeout * 1000,
      startPictureDecoder: (onPicture) => new H264Decoder(options.ffmpeg, jpeg.subsampling, onPicture, `h264-decoder[${d.name}]`),
      decodeJpeg: jpegDecoder(),
      onDemand: onDemandOf(options, d.ownCapture) ? { lingerMs: options.onDemandLinger * 1000 } : undefined,
    });
    const audience = new Audience(d.name, stream);
    const addresses = addressesOf(i, d.name, videoBase);
    const { video, snapshot, view } = addresses;
    const destinations = targets.filter((t) => t.stream === d.name);
    // One feed per stream, shared by the WebRTC viewers, the RTSP clients, HLS and the --publish destinations.
    const feed =
      options.webrtc || options.rtspPort > 0 || options.hls || destinations.length > 0
        ? new H264Feed(stream, {
            ffmpeg: options.ffmpeg,
            lingerMs: ENCODER_LINGER_MS,
            defaultFps: options.fps ?? undefined,
            h264: { encoder: options.h264Encoder, bitrateKbps: options.h264Bitrate, keyint: options.h264Keyint },
          })
        : null;
    const h264 = options.webrtc ? feed : null;
    const publish = destinations.map((t) => createPublisher(t, feed!, stream, { ffmpeg: options.ffmpeg, ice }));
    const hls = options.hls
      ? new HlsOutput(
          feed!,
          audience,
          {
            partTargetS: options.hlsPartTarget,
            defaultFps: options.fps ?? 30,
            keyframeIntervalS: options.h264Keyint / (options.fps ?? 30),
            lingerMs: ENCODER_LINGER_MS,
            viewerWindowMs: HLS_VIEWER_WINDOW_MS,
          },
          audio.get(d.name) ?? null,
        )
      : null;
    const ingest = d.source instanceof WhipIngest || d.source instanceof RtspIngest ? d.source : null;
    return {
      name: d.name,
      stream,
      audience,
      mjpeg: new MjpegBroadcaster(stream, audience),
      h264,
      hls,
      publish,
      feed,
      ingest,
      video,
      snapshot,
      view,
      all: addresses.all,
      audio: audio.get(d.name) ?? null,
    };
  });

  const limit: ClientLimit = { max: options.mjpegMaxViewers, current: () => published.reduce((n, p) => n + p.mjpeg.viewers, 0) };
  const sessions = options.webrtc ? new WebRtcSessions(ice, options.webrtcMaxPeers) : null;
  // Access rules first: as onRequest, they run before every route (see access/guard.ts).
  const access = new AccessControl({ ...options, tls: options.tlsCert !== null }, published);
  const cors = new CorsPolicy({ allowOrigin: options.allowOrigin, videoBase, webrtc: sessions !== null, hls: options.hls, whip: ingests.size > 0 });
  // Every route's methods, read from the finished app (a program's own routes included).
  const methods = new MethodTable(() => app.routes);
  // onRequest hooks run in this order: 501 for unknown methods, CORS headers, then the access rules.
  // The router finds the path from a fixed index of the url: the exact one for http:// (see routerPathIndex).
  const app: AnyElysia = new Elysia({ serve: serveSettings(), handler: { standardHostname: options.tlsCert !== null } })
    .use(methodGuard(methods))
    .use(corsHeaders(cors))
    .use(accessGuard(access, { preflight: (request) => cors.preflight(request), refuse: refusalAnswer(theme, options.kiosk) }))
    .use(tokenRoutes({ tokens: access.tokens, streams: published, pages: theme !== null, whep: sessions !== null }))
    .use(
      errorRoutes({
        theme,
        debug: options.debug,
        kiosk: options.kiosk,
        methods: (request) => methodAnswer(methods, request, (path) => ({ ...whepOptionsHeaders(path), ...whipOptionsHeaders(path) })),
      }),
    )
    .use(
      pageRoutes({
        theme,
        streams: published,
        kiosk: options.kiosk,
        webrtc: sessions ? { iceServers: ice.iceServers } : null,
        hls: options.hls,
        limit,
        kioskSound: options.kioskSound,
        talkback: options.talkback !== null,
      }),
    )
    .use(apiRoutes(published));
  let rtspListening: RtspServer | null = null;
  const rtsp =
    options.rtspPort > 0
      ? new RtspServer({
          host: options.host,
          port: options.rtspPort,
          maxClients: options.rtspMaxClients,
          access: new RtspAccess({
            admins: access.admins,
            auth: options.auth,
            tokens: access.tokens,
            limiter: access.limiter,
            protected: access.viewingProtected,
            ingestTokens: options.ingestToken,
          }),
          streams: published.map((p) => {
            const push = pushes.get(p.name);
            return {
              name: p.name,
              stream: p.stream,
              feed: p.feed!,
              audience: p.audience,
              ingest: push?.ingest ?? null,
              audio: p.audio ?? null,
              aliases: push && push.path !== p.name ? [push.path] : [],
            };
          }),
        })
      : null;
  const talkback = options.talkback !== null ? new TalkBack(options.talkback, options.ffmpeg, ice) : null;
  const stats = {
    streams: published,
    sessions,
    talkback,
    get rtsp() {
      return rtspListening;
    },
    startedAt,
    version: VERSION,
  };
  // /healthz is open to all: it names a source or a reason only where everything is open too.
  const healthDetail = !access.viewingProtected && access.stats === null;
  app
    .use(stateRoutes(stats))
    .use(metricsRoutes(stats))
    .use(healthRoutes(stats, { detail: healthDetail }));
  if (sessions) {
    const feeds = new Map(published.map((p) => [p.name, p.h264!] as const));
    app.use(webrtcRoutes({ sessions, feeds, audiences: new Map(published.map((p) => [p.name, p.audience] as const)), audio }));
  }
  if (options.hls) app.use(hlsRoutes({ outputs: new Map(published.map((p) => [p.name, p.hls!] as const)) }));
  if (ingests.size > 0) app.use(whipRoutes(ingests));
  if (talkback) app.use(talkbackRoutes(talkback));
  if (theme) app.use(staticRoutes(theme));
  published.forEach((p, i) => {
    // µStreamer's /stream and /snapshot answer for the first stream too.
    const compat = i === 0 ? { video: ["/stream"], snapshot: ["/snapshot"] } : { video: [], snapshot: [] };
    app.use(mjpegRoutes(p.mjpeg, { video: [...p.all.video, ...compat.video], snapshot: [...p.all.snapshot, ...compat.snapshot] }, limit));
  });

  for (const p of published) p.stream.start();
  for (const p of published) for (const destination of p.publish ?? []) destination.start();
  let closing: Promise<void> | null = null;

  return {
    app,
    options,
    streams: published,
    encoderName: pipeline.name,
    webrtc: sessions,
    get rtsp() {
      return rtspListening;
    },
    listen() {
      const tls = options.tlsCert !== null && options.tlsKey !== null ? { tls: { cert: Bun.file(options.tlsCert), key: Bun.file(options.tlsKey) } } : {};
      app.listen({ hostname: options.host, port: options.port, ...tls });
      const server = app.server!;
      const bound = { hostname: server.hostname ?? options.host, port: server.port ?? options.port };
      const warning = openAccessWarning({ ...options, host: bound.hostname, port: bound.port });
      if (warning) log.warn(warning);
      const cors = anyOriginWarning(options);
      if (cors) log.warn(cors);
      if (rtsp) {
        try {
          const at = rtsp.listen();
          rtspListening = rtsp;
          log.info(`RTSP on rtsp://${at.hostname.includes(":") ? `[${at.hostname}]` : at.hostname}:${at.port}/ (${published.map((p) => p.name).join(", ")})`);
          for (const [name, { path }] of pushes) {
            const guard =
              options.ingestToken.length > 0 || options.auth.length > 0
                ? "publishers log in with an --ingest-token (as the password) or an --auth user"
                : `open to any publisher: only this machine reaches it (--host ${options.host})`;
            log.info(
              `stream ${name}: RTSP publishers push to rtsp://${at.hostname.includes(":") ? `[${at.hostname}]` : at.hostname}:${at.port}/${path}; ${guard}`,
            );
          }
        } catch (err) {
          // The default port taken (another RTSP server) costs only RTSP; a port asked for, or one publishers push to, must work.
          if (options.rtspPort !== RTSP_DEFAULT_PORT || pushes.size > 0)
            throw new OptionError(`--rtsp-port: cannot listen on ${options.host}:${options.rtspPort}: ${(err as Error).message}`);
          log.warn(`RTSP is off: port ${options.rtspPort} is taken (${(err as Error).message}); give --rtsp-port N for another, or 0`);
        }
      }
      return bound;
    },
    close() {
      closing ??= (async () => {
        for (const p of published) p.mjpeg.close();
        for (const p of published) p.hls?.close();
        for (const ingest of ingests.values()) ingest.close();
        for (const { ingest } of pushes.values()) ingest.close();
        await sessions?.closeAll();
        await talkback?.closeAll();
        await rtsp?.close();
        await Promise.all(published.flatMap((p) => (p.publish ?? []).map((d) => d.stop())));
        await Promise.all(published.map((p) => p.feed?.close()));
        await Promise.all([...audio.values()].map((a) => a.close()));
        // Graceful first (viewers' responses end normally), then forced for a stuck client.
        // Only a server that listens is stopped: Elysia prints a stack trace on stdout otherwise (a failed
        // listen), and a program or a test that only called app.handle() has nothing to stop.
        if (app.server) {
          const force = setTimeout(() => void app.stop(true).catch(() => {}), SHUTDOWN_GRACE_MS);
          await app.stop(false).catch((err: unknown) => log.debug(`stopping the HTTP server: ${String(err)}`));
          clearTimeout(force);
        }
        await Promise.all(published.map((p) => p.stream.stop()));
        await stopAllChildren();
      })();
      return closing;
    },
  };
}
