/**
 * Where an MJPEG byte leaves the process: the multipart stream and the
 * snapshot of each Stream, at every address it answers to.
 */
import { Elysia } from "elysia";
import { streamingHead } from "../http/head.ts";
import type { MjpegBroadcaster } from "../outputs/mjpeg/broadcaster.ts";
import { MJPEG_CONTENT_TYPE } from "../outputs/mjpeg/part.ts";
import type { Audience } from "../stream/audience.ts";
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

/** Caps the MJPEG viewers of every stream together (--mjpeg-max-viewers). */
export interface ClientLimit {
  readonly max: number;
  /** MJPEG viewers connected now, over all streams. */
  current(): number;
}

export function mjpegResponse(broadcaster: MjpegBroadcaster, head = false, address = "unknown", limit: ClientLimit | null = null): Response {
  if (limit && limit.current() >= limit.max) {
    return jsonError(503, `too many MJPEG viewers: the most is ${limit.max} (--mjpeg-max-viewers)`, { "retry-after": "5" });
  }
  if (head) return streamingHead(VIDEO_HEADERS);
  return new Response(broadcaster.open(address), { headers: VIDEO_HEADERS });
}

export async function snapshotResponse(stream: Stream, head = false, audience: Audience | null = null, address = "unknown"): Promise<Response> {
  // A snapshot is a viewer for a moment: it starts an idle on-demand stream and waits for a fresh picture.
  const member = audience?.join("snapshot", address) ?? null;
  let jpeg;
  try {
    jpeg = await stream.waitForJpeg(stream.capturing || !audience ? SNAPSHOT_WAIT_MS : SNAPSHOT_WAIT_MS * 2);
  } finally {
    member?.leave();
  }
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

/** The client's address as the server saw it. */
export function clientAddress(server: { requestIP(r: Request): { address: string } | null } | null, request: Request): string {
  return server?.requestIP(request)?.address ?? "unknown";
}

export function mjpegRoutes(broadcaster: MjpegBroadcaster, addresses: MjpegAddresses, limit: ClientLimit | null = null) {
  const app = new Elysia({ name: `glasscast/mjpeg/${broadcaster.stream.name}` });
  const { stream, audience } = broadcaster;
  for (const path of addresses.video) {
    app
      .get(path, ({ server, request }) => mjpegResponse(broadcaster, false, clientAddress(server, request), limit))
      .head(path, () => mjpegResponse(broadcaster, true));
  }
  for (const path of addresses.snapshot) {
    app
      .get(path, ({ server, request }) => snapshotResponse(stream, false, audience, clientAddress(server, request)))
      .head(path, ({ server, request }) => snapshotResponse(stream, true, audience, clientAddress(server, request)));
  }
  return app;
}
