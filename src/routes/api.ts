/** `/api/streams`: what the page's overlay shows (size, frame rate, state, viewers). */
import { Elysia } from "elysia";
import type { PublishedStream } from "./published.ts";

/** Changes when the server restarts: the page restarts its pictures when it sees a new one. */
const INSTANCE = `${process.pid}-${Date.now().toString(36)}`;

export function apiRoutes(streams: readonly PublishedStream[]) {
  return new Elysia({ name: "glasscast/api" }).get("/api/streams", () =>
    Response.json({
      instance: INSTANCE,
      streams: streams.map(({ stream, mjpeg, audience, video, snapshot }) => {
        const { name, state, width, height, fps } = stream.stats();
        return { name, state, width, height, fps, viewers: mjpeg.viewers, webrtcViewers: audience.count("webrtc"), video, snapshot };
      }),
    }, { headers: { "cache-control": "no-store" } }));
}
