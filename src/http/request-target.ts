/**
 * What a request asks for (its path and query), parsed ONCE and shared by the
 * access check and the route that answers: two parsers of one request can
 * disagree (the first `stream=` against the last, `%73tream` decoded by one
 * and not the other), and a check that reads one value while the handler
 * uses another opens the wrong thing.
 *
 * What the two could read differently is refused with a 400 instead: a query
 * key given twice (after decoding), a broken percent-escape, a path with an
 * escaped letter, digit or slash (the router matches the raw path but decodes
 * parameters), a request without a usable Host header (Bun then gives a
 * relative url), one whose Host is too short for Elysia's router to find
 * its path (see routerPathIndex). `/healthz` still answers such a request: a load balancer's
 * health check (HAProxy's `option httpchk`) sends HTTP/1.0 without Host.
 */
import { pathOf, queryOf, routerMisreads } from "./request.ts";

export interface RequestTarget {
  /** The path as the router matches it: raw, one trailing slash dropped. */
  readonly path: string;
  /** Each query key once, decoded. */
  readonly query: ReadonlyMap<string, string>;
}

export interface TargetProblem {
  readonly status: 400;
  readonly detail: string;
}

/** Routes that answer a request without a usable Host header (they never build a URL). */
const HOSTLESS_PATHS = new Set(["/healthz"]);
/** An escape of a character that needs none (unreserved, RFC 3986) or of "/": the router would not see the path the check saw. */
const NEEDLESS_ESCAPE = /%(2[dDeEfF]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/;
const BROKEN_ESCAPE = /%(?![0-9a-fA-F]{2})/;

const parsed = new WeakMap<Request, RequestTarget | TargetProblem>();

export function isProblem(t: RequestTarget | TargetProblem): t is TargetProblem {
  return "status" in t;
}

/** The request's target, parsed on first use and the same object afterwards. */
export function requestTarget(request: Request): RequestTarget | TargetProblem {
  let target = parsed.get(request);
  if (!target) parsed.set(request, (target = parse(request)));
  return target;
}

function problem(detail: string): TargetProblem {
  return { status: 400, detail };
}

function parse(request: Request): RequestTarget | TargetProblem {
  const raw = pathOf(request);
  const path = raw.length > 1 && raw.endsWith("/") ? raw.slice(0, -1) : raw;
  if (!URL.canParse(request.url) && !HOSTLESS_PATHS.has(path)) {
    return problem("the request has no valid Host header");
  }
  if (routerMisreads(request)) {
    // The check would judge one path while the router answers another (see routerPathIndex).
    return problem("the Host header is too short to route this request over HTTPS; send at least 3 characters, e.g. the host with its port");
  }
  if (BROKEN_ESCAPE.test(raw) || NEEDLESS_ESCAPE.test(raw)) {
    return problem("the path has a percent-escape that is broken or needless (of a letter, digit, '.', '-', '_', '~' or '/')");
  }
  const query = new Map<string, string>();
  for (const pair of queryOf(request).split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    let key: string;
    let value: string;
    try {
      key = decode(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? "" : decode(pair.slice(eq + 1));
    } catch {
      return problem("the query has a broken percent-escape");
    }
    if (query.has(key)) return problem(`the query gives ${JSON.stringify(key.slice(0, 40))} more than once`);
    query.set(key, value);
  }
  return { path, query };
}

function decode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, " "));
}
