/**
 * Builds glasscast from its options: the stream and its capture, the MJPEG
 * output and the HTTP routes (Elysia plugins). The CLI is a thin layer over
 * this; it is also the library entry point.
 */
import { Elysia, type AnyElysia } from "elysia";
import { chooseJpegPipeline } from "./encoders/choose.ts";
import type { JpegSettings } from "./encoders/jpeg-settings.ts";
import type { Options } from "./config/options.ts";
import { log, setLogLevel } from "./log.ts";
import { MjpegBroadcaster } from "./outputs/mjpeg/broadcaster.ts";
import { stopAllChildren } from "./process/child.ts";
import { errorRoutes } from "./routes/errors.ts";
import { indexPageRoutes } from "./routes/index-page.ts";
import { mjpegRoutes } from "./routes/mjpeg.ts";
import { FfmpegCapture } from "./sources/ffmpeg/capture.ts";
import { TESTSRC_DEFAULT, type CaptureSettings } from "./sources/ffmpeg/args.ts";
import { parseSourceSpec } from "./sources/source-spec.ts";
import { Stream } from "./stream/stream.ts";

/** Seconds a connection may go without any byte moving before it is closed. */
const IDLE_TIMEOUT_S = 60;
/** How long shutdown lets responses finish before closing connections outright. */
const SHUTDOWN_GRACE_MS = 2000;

export interface Glasscast {
  readonly app: AnyElysia;
  readonly stream: Stream;
  readonly mjpeg: MjpegBroadcaster;
  readonly encoderName: string;
  /** Starts listening; resolves with the bound address. */
  listen(): { hostname: string; port: number };
  /** Ends every viewer, stops the capture, reaps every child process. */
  close(): Promise<void>;
}

export function jpegSettingsOf(o: Options): JpegSettings {
  return { quality: o.jpegQuality, fastDct: o.jpegFastdct, fastUpsample: o.jpegFastupsample, subsampling: o.jpegSubsampling };
}

export function captureSettingsOf(o: Options): CaptureSettings {
  return { width: o.width, height: o.height, fps: o.fps, loop: o.loop, frameSizeReduction: o.frameSizeReduction, jpeg: jpegSettingsOf(o) };
}

export async function createGlasscast(options: Options): Promise<Glasscast> {
  setLogLevel(options.logLevel);
  const spec = parseSourceSpec(options.source);
  const jpeg = jpegSettingsOf(options);
  const pipeline = chooseJpegPipeline(jpeg, options.ffmpeg);
  const settings = captureSettingsOf(options);
  const source = new FfmpegCapture({ ffmpeg: options.ffmpeg, spec, settings, output: pipeline.captureOutput, label: "capture" });
  const stream = new Stream({
    name: "main",
    source,
    encoder: pipeline.createEncoder(),
    encodeStill: pipeline.encodeStill,
    defaultSize: { width: options.width ?? TESTSRC_DEFAULT.width, height: options.height ?? TESTSRC_DEFAULT.height },
  });
  const mjpeg = new MjpegBroadcaster(stream);
  const videoPath = "/" + options.videoEndpoint.replace(/^\/+/, "");

  const app = new Elysia({ serve: { idleTimeout: IDLE_TIMEOUT_S } })
    .use(errorRoutes)
    .use(await indexPageRoutes(videoPath))
    .use(mjpegRoutes({ videoPath, snapshotPath: "/snapshot.jpg", broadcaster: mjpeg }));

  stream.start();
  let closing: Promise<void> | null = null;

  return {
    app,
    stream,
    mjpeg,
    encoderName: pipeline.name,
    listen() {
      app.listen({ hostname: options.host, port: options.port });
      const server = app.server!;
      return { hostname: server.hostname ?? options.host, port: server.port ?? options.port };
    },
    close() {
      closing ??= (async () => {
        mjpeg.close();
        // Graceful first (viewers' responses end normally), then forced for a stuck client.
        const force = setTimeout(() => void app.stop(true).catch(() => {}), SHUTDOWN_GRACE_MS);
        await app.stop(false).catch((err: unknown) => log.debug(`stopping the HTTP server: ${String(err)}`));
        clearTimeout(force);
        await stream.stop();
        await stopAllChildren();
      })();
      return closing;
    },
  };
}
