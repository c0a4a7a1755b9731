/**
 * The page: `/` shows every stream (a grid), `/view/NAME` one. `/?kiosk=1`
 * (or --kiosk) shows the video alone. `/?action=stream` and
 * `/?action=snapshot` answer like mjpg-streamer, so OctoPrint, Mainsail,
 * Fluidd and Home Assistant's MJPEG camera work unchanged.
 */
import { Elysia } from "elysia";
import { headOf } from "../http/head.ts";
import type { Theme } from "../theme/theme.ts";
import { scriptJson } from "../theme/template.ts";
import { HLS_JS_PATH } from "../theme/vendor.ts";
import { jsonError } from "./errors.ts";
import { htmlPlugin } from "./html.tsx";
import { kioskMode } from "./kiosk.ts";
import { clientAddress, mjpegResponse, snapshotResponse, type ClientLimit } from "./mjpeg.ts";
import type { PublishedStream } from "../outputs/published.ts";
import { byLogin, visibleStreams } from "../access/scope.ts";

export interface PageOptions {
  /** null with --no-theme: `/` answers JSON. */
  readonly theme: Theme | null;
  readonly streams: readonly PublishedStream[];
  readonly kiosk: boolean;
  /** What the page's WebRTC transport needs, or null with --no-webrtc (MJPEG only). */
  readonly webrtc: { readonly iceServers: readonly { urls: string; username?: string; credential?: string }[] } | null;
  /** Serve HLS: the page tries it when WebRTC cannot connect, before MJPEG. */
  readonly hls?: boolean;
  /** --mjpeg-max-viewers for mjpg-streamer's /?action=stream. */
  readonly limit?: ClientLimit | null;
  /** --kiosk-sound: a kiosk starts with its sound on (when the browser lets it). */
  readonly kioskSound?: boolean;
  /** --talkback: the page shows a push-to-talk button (POST /talkback; --auth users only). */
  readonly talkback?: boolean;
}

/** What a page route is given by @elysiajs/html (its `html()`), and where its headers go. */
interface PageContext {
  readonly html: (value: string) => unknown;
  readonly set: { headers: Record<string, string | number> };
}

export function pageRoutes({ theme, streams, kiosk, webrtc, hls = false, limit, kioskSound = false, talkback = false }: PageOptions) {
  const first = streams[0];

  const page = async (shown: readonly PublishedStream[], query: Record<string, string | undefined>, title: string, request: Request, ctx: PageContext) => {
    const isKiosk = kioskMode(query.kiosk, kiosk);
    const config = {
      kiosk: isKiosk,
      streams: shown.map(({ name, video, snapshot, view, audio }) => ({
        name,
        video,
        snapshot,
        view,
        ...(hls ? { hls: `/hls/${name}/index.m3u8` } : {}),
        ...(audio && webrtc ? { audio: true } : {}),
      })),
      ...(isKiosk && kioskSound ? { kioskSound: true } : {}),
      // Only an --auth user may talk: a viewer token's page has no button it could never use.
      ...(talkback && webrtc && !isKiosk && byLogin(request) ? { talkback: { offer: "/talkback" } } : {}),
      single: shown.length === 1 && streams.length > 1,
      statusUrl: "/api/streams",
      // WebRTC first; when it cannot connect HLS, then MJPEG. With --no-webrtc MJPEG only, as before
      // (?transport=hls still plays HLS there: ?transport=NAME plays that one only).
      transports: webrtc ? ["webrtc", ...(hls ? ["hls"] : []), "mjpeg"] : ["mjpeg"],
      ...(hls ? { hls: { script: HLS_JS_PATH } } : {}),
      ...(webrtc ? { webrtc: { offer: "/offer", close: "/close_connection", iceServers: webrtc.iceServers } } : {}),
    };
    const html = await theme!.page("index.html", { title, bodyClass: isKiosk ? "gc-kiosk" : "", config: scriptJson(config) }, request);
    ctx.set.headers["cache-control"] = "no-cache";
    // html() of a string is always a Response (the plugin's type also covers its streams).
    return ctx.html(html) as Response;
  };

  const index = (query: Record<string, string | undefined>, head: boolean, address: string, request: Request, ctx: PageContext) => {
    if (query.action === "stream" && first) return mjpegResponse(first.mjpeg, head, address, limit ?? null);
    if (query.action === "snapshot" && first) return snapshotResponse(first.stream, head, first.audience, address);
    if (query.action !== undefined) return jsonError(400, `unknown action ${JSON.stringify(query.action)}; expected stream or snapshot`);
    if (!theme) {
      return Response.json({
        detail: "glasscast serves no page (--no-theme): only the video routes",
        streams: visibleStreams(request, streams).map(({ name, video, snapshot }) => ({ name, video, snapshot })),
      });
    }
    // A link for one stream shows that stream only.
    return page(visibleStreams(request, streams), query, "glasscast", request, ctx);
  };

  const app = new Elysia({ name: "glasscast/pages" })
    .use(htmlPlugin())
    .get("/", ({ query, server, request, html, set }) => index(query, false, clientAddress(server, request), request, { html, set }))
    .head("/", async ({ query, server, request, html, set }) => {
      return headOf(await index(query, true, clientAddress(server, request), request, { html, set }));
    });
  if (theme) {
    for (const s of streams) app.get(s.view, ({ query, request, html, set }) => page([s], query, `${s.name} · glasscast`, request, { html, set }));
  }
  return app;
}
