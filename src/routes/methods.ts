/**
 * Methods as RFC 9110 wants them, from the app's own route table (so a
 * program's routes count too):
 *
 * - `OPTIONS` on a known path answers 204 with its `Allow`;
 * - a known path asked with another method answers 405 with its `Allow`
 *   (`GET /offer` → 405, `Allow: OPTIONS, POST`);
 * - a method glasscast does not know (`PROPFIND`, `TRACE`…: not one of
 *   RFC 9110's GET, HEAD, POST, PUT, DELETE, OPTIONS, nor PATCH, nor a
 *   route's) answers 501 on any path.
 *
 * `HEAD` goes with every `GET` (Elysia answers it). Bun itself closes the
 * connection, without an answer, on a method token it does not know
 * (`FOO`, `get`): those never reach this code (see docs/http.md).
 */
import { Elysia, type AnyElysia } from "elysia";
import { jsonError, pathOf } from "./errors.ts";

/** The methods known to glasscast, whether a path answers them or not; also the order of `Allow`. */
const ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

interface Route {
  readonly method: string;
  readonly path: string;
}

/** An Elysia path (`/whep/:name`, `/static/*`, `/view/:name?`) as a regular expression. */
function patternOf(path: string): RegExp {
  const parts = path
    .split("/")
    .slice(1)
    .map((segment) => {
      if (segment === "*") return "(?:/.*)?";
      if (segment.startsWith(":")) return segment.endsWith("?") ? "(?:/[^/]+)?" : "/[^/]+";
      return "/" + segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    });
  return new RegExp(`^${parts.join("") || "/"}$`);
}

/** The same path as Elysia matches it: one slash between segments, none at the end. */
export function routedPath(pathname: string): string {
  return pathname.replace(/\/{2,}/g, "/").replace(/(.)\/$/, "$1");
}

function sorted(methods: Iterable<string>): string[] {
  const rank = (m: string) => ORDER.indexOf(m) + 1 || ORDER.length + 1;
  return [...new Set(methods)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** What the app's routes answer: per path, and over the whole server. */
export class MethodTable {
  #compiled: { pattern: RegExp; method: string }[] = [];
  #implemented = new Set<string>();
  #size = -1;

  constructor(private readonly routes: () => readonly Route[]) {}

  #refresh(): void {
    const routes = this.routes();
    if (routes.length === this.#size) return;
    this.#size = routes.length;
    this.#compiled = routes.map((r) => ({ pattern: patternOf(r.path), method: r.method.toUpperCase() }));
    this.#implemented = new Set([...ORDER, ...this.#compiled.map((r) => r.method)]);
  }

  /** The methods `path` answers (with HEAD and OPTIONS), or null when no route has that path. */
  allowed(path: string): string[] | null {
    this.#refresh();
    const methods = this.#compiled.filter((r) => r.pattern.test(path)).map((r) => r.method);
    if (methods.length === 0) return null;
    if (methods.includes("ALL")) return sorted([...this.#implemented].filter((m) => m !== "ALL"));
    return sorted([...methods, ...(methods.includes("GET") ? ["HEAD"] : []), "OPTIONS"]);
  }

  /** True when glasscast knows `method`: a standard one, or one a route answers. */
  implements(method: string): boolean {
    this.#refresh();
    return this.#implemented.has(method) || this.#implemented.has("ALL");
  }
}

/** The answer to a request that matched no route: 204 for OPTIONS, 405 for another method, null when the path is unknown. */
export function methodAnswer(table: MethodTable, request: Request, extra: (path: string) => Record<string, string> = () => ({})): Response | null {
  const path = routedPath(pathOf(request));
  const allowed = table.allowed(path);
  if (!allowed) return null;
  const allow = allowed.join(", ");
  if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: { allow, ...extra(path) } });
  return jsonError(405, `${request.method} is not allowed here; this address answers ${allow}`, { allow });
}

/** Answers 501 to a method that no route answers, before the access rules and the routes (registered first). */
export function methodGuard(table: MethodTable): AnyElysia {
  return new Elysia({ name: "glasscast/methods" }).onRequest(({ request }) => {
    if (!table.implements(request.method)) {
      return jsonError(501, `the ${request.method} method is not implemented here`);
    }
  });
}
