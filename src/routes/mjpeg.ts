/**
 * Where an MJPEG byte leaves the process: the multipart stream and the
 * snapshot of each Stream, at every address it answers to.
 */
import { Elysia } from "elysia";
import type { MjpegBroadcaster } from "../outputs/mjpeg/broadcaster.ts";
import { MJPEG_CONTENT_TYPE } from "../outputs/mjpeg/part.ts";
import type { Stream } from "../stream/stream.ts";
import { jsonError } from "./errors.ts";

const NO_CACHE = {
  "cache-control": "no-store, no-cache, must-revalidate, max-age=0",
  pragma: "no-cache",
  expires: "0",
};
const VIDEO_HEADERS = { "content-type": MJPEG_CONTENT_TYPE, "x-accel-buffering": "no", ...NO_CACHE };

/** How long a snapshot request waits for the first picture of a starting stream. */
const SNAPSHOT_WAIT_MS = 5000;

export function mjpegResponse(broadcaster: MjpegBroadcaster, head = false): Response {
  return new Response(head ? null : broadcaster.open(), { headers: VIDEO_HEADERS });
}

export async function snapshotResponse(stream: Stream, head = false): Promise<Response> {
  const jpeg = await stream.waitForJpeg(SNAPSHOT_WAIT_MS);
  if (!jpeg) return jsonError(503, `stream ${stream.name} has no picture yet`, { "retry-after": "1" });
  const headers = { "content-type": "image/jpeg", "content-length": String(jpeg.data.byteLength), ...NO_CACHE };
  return new Response(head ? null : (jpeg.data as Uint8Array<ArrayBuffer>), { headers });
}

export interface MjpegAddresses {
  /** Paths answering the MJPEG stream, e.g. ["/video", "/video/main", "/stream"]. */
  readonly video: readonly string[];
  /** Paths answering the newest JPEG, e.g. ["/snapshot.jpg", "/snapshot/main.jpg", "/snapshot"]. */
  readonly snapshot: readonly string[];
}

export function mjpegRoutes(broadcaster: MjpegBroadcaster, addresses: MjpegAddresses) {
  const app = new Elysia({ name: `glasscast/mjpeg/${broadcaster.stream.name}` });
  for (const path of addresses.video) {
    app.get(path, () => mjpegResponse(broadcaster)).head(path, () => mjpegResponse(broadcaster, true));
  }
  for (const path of addresses.snapshot) {
    app.get(path, () => snapshotResponse(broadcaster.stream)).head(path, () => snapshotResponse(broadcaster.stream, true));
  }
  return app;
}
