/**
 * The answer to HEAD made from the answer GET would get (RFC 9110 9.3.2:
 * the same status and header fields, no content). Bun answers a HEAD whose
 * Response has no body with `content-length: 0`, which says the page is
 * empty: a body of known size keeps its length here, and a stream (MJPEG)
 * says it is chunked, as GET sends it.
 */
export async function headOf(get: Response): Promise<Response> {
  // Already an answer without content (made for HEAD, or empty): as it is.
  if (get.body === null) return get;
  const headers = new Headers(get.headers);
  if (!headers.has("content-length")) {
    headers.set("content-length", String((await get.arrayBuffer()).byteLength));
  } else {
    await get.body.cancel();
  }
  return new Response(null, { status: get.status, statusText: get.statusText, headers });
}

/** The header fields of an endless answer (an MJPEG stream) for HEAD: no length, chunked as GET sends it. */
export function streamingHead(headers: Record<string, string>, status = 200): Response {
  return new Response(null, { status, headers: { ...headers, "transfer-encoding": "chunked" } });
}
