/**
 * Error answers: a bad request gets a clear 4xx, a fault a 500, never a stack
 * trace (unless --debug asks for the detail); the process and every other
 * viewer carry on. Browsers get the theme's 404/500 pages; API clients, and
 * everyone with --no-theme, get JSON with a `detail` field.
 */
import { Elysia } from "elysia";
import { log } from "../log.ts";
import { escapeHtml, scriptJson } from "../theme/template.ts";
import type { Theme } from "../theme/theme.ts";
import { kioskMode } from "./kiosk.ts";

/**
 * The path of a request, without parsing its URL: Bun hands a request
 * without a usable Host header (HTTP/1.0, `Host: a b`) over with a relative
 * url ("/healthz"), on which `new URL()` throws.
 */
export function pathOf(request: Request): string {
  const url = request.url;
  const start = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.slice(start).search(/[?#]/);
  return end < 0 ? url.slice(start) : url.slice(start, start + end);
}

/**
 * Where Elysia's router takes a request's path to start: it does not parse
 * the URL but looks for the first "/" from a fixed index — 7 (after
 * "http://") when the app is made with `handler: { standardHostname: false }`,
 * else 11, which skips into the path when the Host header is shorter than
 * 3-4 characters ("http://h/static/state" would be routed as /state).
 * glasscast serves plain HTTP with 7 (exact for every Host) and HTTPS with
 * 11 (exact for a Host of 3 characters or more); routerMisreads() names the
 * requests that are still routed elsewhere than their path, which the access
 * rules then refuse (see request-target.ts).
 */
export const routerPathIndex = (tls: boolean): number => (tls ? 11 : 7);

/** True when Elysia's router would see another path than `pathOf(request)` (an https:// url means a TLS server). */
export function routerMisreads(request: Request): boolean {
  const url = request.url;
  if (url.startsWith("/")) return false; // no Host: Bun gives the path alone (refused, or /healthz)
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return start >= 0 && url.indexOf("/", routerPathIndex(url.startsWith("https:"))) !== start;
}

/** The query string of a request (after `?`, without a fragment), without parsing its URL. */
export function queryOf(request: Request): string {
  const url = request.url;
  const q = url.indexOf("?");
  if (q < 0) return "";
  const hash = url.indexOf("#", q);
  return hash < 0 ? url.slice(q + 1) : url.slice(q + 1, hash);
}

export function jsonError(status: number, detail: string, headers: Record<string, string> = {}): Response {
  return Response.json({ detail }, { status, headers: { "cache-control": "no-store", ...headers } });
}

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
    const html = await theme.page(`${status}.html`, {
      title: `${status} · glasscast`, status, message,
      bodyClass: isKiosk ? "gc-kiosk" : "", config: scriptJson({ kiosk: isKiosk }),
      detail: debug && detail ? `<pre class="gc-error-detail">${escapeHtml(detail)}</pre>` : "",
    }, request);
    return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
  };

  return new Elysia({ name: "glasscast/errors" })
    .onError({ as: "global" }, async ({ code, error, request }) => {
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
