/**
 * Reading a request without trusting it, and the JSON error answer: used by
 * the access rules and by the routes (src/http/ sits below both).
 */

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
