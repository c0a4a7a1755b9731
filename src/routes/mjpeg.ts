/**
 * Where an MJPEG byte leaves the process: the multipart stream and the
 * snapshot of one Stream.
 */
import { Elysia } from "elysia";
import type { MjpegBroadcaster } from "../outputs/mjpeg/broadcaster.ts";
import { MJPEG_CONTENT_TYPE } from "../outputs/mjpeg/part.ts";
import { jsonError } from "./errors.ts";

const NO_CACHE = {
  "cache-control": "no-store, no-cache, must-revalidate, max-age=0",
  pragma: "no-cache",
  expires: "0",
};

/** How long a snapshot request waits for the first picture of a starting stream. */
const SNAPSHOT_WAIT_MS = 5000;

export interface MjpegRouteOptions {
  /** Path of the stream, e.g. "/video". */
  readonly videoPath: string;
  /** Path of the snapshot, e.g. "/snapshot.jpg". */
  readonly snapshotPath: string;
  readonly broadcaster: MjpegBroadcaster;
}

export function mjpegRoutes({ videoPath, snapshotPath, broadcaster }: MjpegRouteOptions) {
  const stream = broadcaster.stream;
  const videoHeaders = { "content-type": MJPEG_CONTENT_TYPE, "x-accel-buffering": "no", ...NO_CACHE };

  const snapshot = async (head: boolean): Promise<Response> => {
    if (!(await stream.waitForFrame(SNAPSHOT_WAIT_MS))) {
      return jsonError(503, `stream ${stream.name} has no picture yet`, { "retry-after": "1" });
    }
    const jpeg = stream.latestJpeg();
    if (!jpeg) return jsonError(503, `stream ${stream.name} has no JPEG picture`, { "retry-after": "1" });
    const headers = { "content-type": "image/jpeg", "content-length": String(jpeg.data.byteLength), ...NO_CACHE };
    return new Response(head ? null : (jpeg.data as Uint8Array<ArrayBuffer>), { headers });
  };

  return new Elysia({ name: `glasscast/mjpeg${videoPath}` })
    .get(videoPath, () => new Response(broadcaster.open(), { headers: videoHeaders }))
    .head(videoPath, () => new Response(null, { headers: videoHeaders }))
    .get(snapshotPath, () => snapshot(false))
    .head(snapshotPath, () => snapshot(true));
}
