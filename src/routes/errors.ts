/**
 * Error answers: a bad request gets a clear 4xx, a fault a 500, never a stack
 * trace (unless --debug asks for the detail); the process and every other
 * viewer carry on. Browsers get the theme's 404/500 pages; API clients, and
 * everyone with --no-theme, get JSON with a `detail` field.
 */
import { Elysia } from "elysia";
import { log } from "../log.ts";
import { scriptJson } from "../theme/template.ts";
import type { Theme } from "../theme/theme.ts";
import { errorDetail, HTML_CONTENT_TYPE } from "./html.tsx";
import { kioskMode } from "./kiosk.ts";

// Request helpers that access/ uses too live below both (src/http/request.ts); re-exported for routes.
export { jsonError, pathOf, queryOf, routerMisreads, routerPathIndex } from "../http/request.ts";
import { jsonError, pathOf, queryOf } from "../http/request.ts";

/** A browser navigating wants a page; anything asking for JSON (or not for HTML) gets JSON. */
export function wantsPage(request: Request): boolean {
  const accept = request.headers.get("accept") ?? "";
  return accept.includes("text/html") && !pathOf(request).startsWith("/api/");
}

export interface ErrorOptions {
  readonly theme: Theme | null;
  readonly debug: boolean;
  /** --kiosk: an error page in a kiosk tries again by itself (nobody is there to click). */
  readonly kiosk: boolean;
  /** A known path asked with a method it does not answer: its 405, or 204 for OPTIONS (see methods.ts). */
  readonly methods?: (request: Request) => Response | null;
}

export function errorRoutes({ theme, debug, kiosk, methods }: ErrorOptions) {
  const answer = async (request: Request, status: number, message: string, detail: string) => {
    if (!theme || !wantsPage(request)) return jsonError(status, debug && detail ? `${message}: ${detail}` : message);
    const isKiosk = kioskMode(new URLSearchParams(queryOf(request)).get("kiosk"), kiosk);
    const html = await theme.page(
      `${status}.html`,
      {
        title: `${status} · glasscast`,
        status,
        message,
        bodyClass: isKiosk ? "gc-kiosk" : "",
        config: scriptJson({ kiosk: isKiosk }),
        detail: debug && detail ? await errorDetail(detail) : "",
      },
      request,
    );
    return new Response(html, { status, headers: { "content-type": HTML_CONTENT_TYPE, "cache-control": "no-store" } });
  };

  return new Elysia({ name: "glasscast/errors" }).onError({ as: "global" }, async ({ code, error, request }) => {
    const path = pathOf(request);
    if (code === "NOT_FOUND") return methods?.(request) ?? answer(request, 404, `${path.slice(0, 200)} was not found`, "");
    if (code === "PARSE" || code === "VALIDATION") return jsonError(400, "the request could not be understood");
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log.error(`${request.method} ${path.slice(0, 200)}: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`);
    try {
      return await answer(request, 500, "something went wrong", detail);
    } catch {
      return jsonError(500, "something went wrong");
    }
  });
}
