/**
 * What a program gets from createGlasscast (src/index.ts): plain data and
 * small handles, never the server's own objects (Stream, the MJPEG
 * broadcaster, the H.264 feed, the audience), so that the core can change
 * without breaking programs. test/api-surface.test.ts pins these shapes.
 */
import type { AnyElysia } from "elysia";
import type { Options } from "./config/options.ts";
import type { PublishedStream } from "./outputs/published.ts";
import { createGlasscast as createServer, type GlasscastConfig, type Glasscast as Server } from "./server.ts";
import type { ViewerInfo } from "./stream/audience.ts";
import type { StreamStats } from "./stream/stream.ts";

/** One stream, as a program sees it. */
export interface StreamHandle {
  readonly name: string;
  /** Its MJPEG stream, snapshot and page paths, as the page links them. */
  readonly addresses: { readonly video: string; readonly snapshot: string; readonly view: string };
  /** Its figures now (state, size, fps, frames, restarts…): plain data, the same as /api/streams. */
  stats(): StreamStats;
  /** Who watches it now, over every output: plain data. */
  viewers(): ViewerInfo[];
  /** The newest picture as JPEG bytes (encoded once for every viewer), or null before the first. */
  latestJpeg(): Uint8Array | null;
  /** Calls `listener` after each new frame; returns the function that stops it. */
  onFrame(listener: () => void): () => void;
}

export interface Glasscast {
  /** The Elysia app: add routes and plugins (CORS, auth…) before `listen()`. */
  readonly app: AnyElysia;
  /** The options in force, every default filled in. */
  readonly options: Options;
  readonly streams: readonly StreamHandle[];
  /** The JPEG encoder in use ("libjpeg-turbo", or "ffmpeg" without it). */
  readonly encoderName: string;
  /** The RTSP server's port once listening, null without one (--rtsp-port 0). */
  readonly rtspPort: number | null;
  /** Starts listening (HTTP, and RTSP unless --rtsp-port 0); returns the HTTP server's bound address. */
  listen(): { hostname: string; port: number };
  /** Ends every viewer cleanly, stops every capture, reaps every child process. */
  close(): Promise<void>;
}

export function streamHandle(p: PublishedStream): StreamHandle {
  return {
    name: p.name,
    addresses: { video: p.video, snapshot: p.snapshot, view: p.view },
    stats: () => p.stream.stats(),
    viewers: () => p.audience.list(),
    latestJpeg: () => p.stream.latestJpeg()?.data ?? null,
    onFrame: (listener) => p.stream.onFrame(listener),
  };
}

/** The library's view of a server (see createGlasscast in src/index.ts). */
export function publicView(server: Server): Glasscast {
  const streams = server.streams.map(streamHandle);
  return {
    app: server.app,
    options: server.options,
    streams,
    encoderName: server.encoderName,
    get rtspPort() {
      return server.rtsp?.port ?? null;
    },
    listen: () => server.listen(),
    close: () => server.close(),
  };
}

/**
 * Builds the server (options checked like the CLI's: a bad one throws an
 * OptionError that names it) and returns its public view.
 */
export async function createGlasscast(config: GlasscastConfig = {}): Promise<Glasscast> {
  return publicView(await createServer(config));
}
