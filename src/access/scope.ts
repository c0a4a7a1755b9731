/**
 * The one stream a request may see, when a per-stream viewer token opened it
 * (POST /api/tokens {"stream": NAME}, glasscast token --stream NAME): set by
 * the access rules as they let the request in, read by the routes that list
 * streams (the page at /, /api/streams), so that such a link shows its own
 * stream and says nothing of the others.
 */
const scopes = new WeakMap<Request, string>();

export function limitToStream(request: Request, stream: string): void {
  scopes.set(request, stream);
}

/** The streams `request` may see: all of them, or the one its token opens. */
export function visibleStreams<T extends { readonly name: string }>(request: Request, streams: readonly T[]): readonly T[] {
  const only = scopes.get(request);
  return only === undefined ? streams : streams.filter((s) => s.name === only);
}

/**
 * Requests let in by an --auth login (not a viewer token, not an open
 * server): set by the access rules, read by the page, which offers push to
 * talk only to those who may use it.
 */
const logins = new WeakSet<Request>();

export function markLogin(request: Request): void {
  logins.add(request);
}

/** True when an --auth user's login let `request` in. */
export function byLogin(request: Request): boolean {
  return logins.has(request);
}
