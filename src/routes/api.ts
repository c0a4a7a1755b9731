/** `/api/streams`: what the page's overlay shows (source, size, frame rate, state, viewers). */
import { Elysia } from "elysia";
import { visibleStreams } from "../access/scope.ts";
import type { PublishedStream } from "../outputs/published.ts";

/** Changes when the server restarts: the page restarts its pictures when it sees a new one. */
const INSTANCE = `${process.pid}-${Date.now().toString(36)}`;

/**
 * A source as viewers are told it: a URL's query is hidden (an IP camera's ?token=…), as its
 * password already is in the description; the start line and /state keep the whole description.
 */
export function viewerSourceText(description: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(description) ? description.replace(/\?.*$/s, "?***") : description;
}

export function apiRoutes(streams: readonly PublishedStream[]) {
  return new Elysia({ name: "glasscast/api" }).get("/api/streams", ({ request }) =>
    Response.json(
      {
        instance: INSTANCE,
        // A link for one stream lists that stream only.
        streams: visibleStreams(request, streams).map(({ stream, mjpeg, audience, video, snapshot }) => {
          const { name, source, state, width, height, fps } = stream.stats();
          return {
            name,
            source: viewerSourceText(source),
            state,
            width,
            height,
            fps,
            viewers: mjpeg.viewers,
            webrtcViewers: audience.count("webrtc"),
            video,
            snapshot,
          };
        }),
      },
      { headers: { "cache-control": "no-store" } },
    ),
  );
}
