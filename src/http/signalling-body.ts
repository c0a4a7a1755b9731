/**
 * A WebRTC signalling body (vidgear's JSON offer, a WHEP SDP offer), read
 * ONCE per request: the access check (which stream does this offer ask
 * for?) and the route (answer it) get the same bytes and the same parse, so
 * they cannot disagree about the stream.
 */

/** An SDP offer is a few kB; anything far larger is not one. */
export const MAX_SIGNALLING_BODY = 64 * 1024;
/** A few kB arrive at once; a body still trickling in after this is a client holding the connection. */
export const SIGNALLING_BODY_DEADLINE_MS = 10_000;

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** vidgear's offer: `{"sdp": "v=0…", "type": "offer", "stream"?: NAME}`. */
export interface JsonOffer {
  readonly sdp: string;
  /** The stream it names in the body, or null. */
  readonly stream: string | null;
}

const bodies = new WeakMap<Request, Promise<string>>();
const offers = new WeakMap<Request, Promise<JsonOffer>>();

/** The request's body as text, up to MAX_SIGNALLING_BODY bytes (else a BodyError 413); read once. */
export function signallingBody(request: Request): Promise<string> {
  let body = bodies.get(request);
  if (!body) bodies.set(request, (body = read(request)));
  return body;
}

/** The request's body as vidgear's JSON offer (else a BodyError 400 or 413); parsed once. */
export function jsonOffer(request: Request): Promise<JsonOffer> {
  let offer = offers.get(request);
  if (!offer) offers.set(request, (offer = signallingBody(request).then(parseOffer)));
  return offer;
}

function parseOffer(text: string): JsonOffer {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BodyError(400, 'the body is not JSON; expected {"sdp": "...", "type": "offer"}');
  }
  const { sdp, type, stream } = (body ?? {}) as { sdp?: unknown; type?: unknown; stream?: unknown };
  if (type !== "offer" || typeof sdp !== "string" || !sdp.startsWith("v=0")) {
    throw new BodyError(400, 'expected {"sdp": "<an SDP offer>", "type": "offer"}');
  }
  if (stream !== undefined && stream !== null && typeof stream !== "string") throw new BodyError(400, "the offer's stream is not a name");
  return { sdp, stream: typeof stream === "string" ? stream : null };
}

async function read(request: Request): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > MAX_SIGNALLING_BODY) throw new BodyError(413, `the body is larger than ${MAX_SIGNALLING_BODY} bytes`);
  if (!request.body) return "";
  return readLimited(request.body as ReadableStream<Uint8Array>, { maxBytes: MAX_SIGNALLING_BODY, deadlineMs: SIGNALLING_BODY_DEADLINE_MS });
}

/**
 * A body as text, refused (BodyError) past `maxBytes` (413) or when it has
 * not all arrived `deadlineMs` after the first read (408): a client that
 * sends one byte a second would otherwise hold its connection for ever.
 */
export async function readLimited(body: ReadableStream<Uint8Array>, { maxBytes, deadlineMs }: { maxBytes: number; deadlineMs: number }): Promise<string> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BodyError(408, `the body did not arrive within ${deadlineMs / 1000} s`)), deadlineMs);
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), late]);
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw new BodyError(413, `the body is larger than ${maxBytes} bytes`);
      chunks.push(value);
    }
  } catch (err) {
    void reader.cancel().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The stream a `POST /offer` asks for: its body's `stream` or `?stream=`
 * (null: neither, the first stream); both, naming different streams, is a
 * BodyError 400 (a check reading one and a route the other would disagree).
 */
export async function offerStream(request: Request, fromQuery: string | undefined): Promise<string | null> {
  const { stream } = await jsonOffer(request);
  if (stream !== null && fromQuery !== undefined && stream !== fromQuery) {
    throw new BodyError(400, "the offer names two different streams (its body's stream and ?stream=)");
  }
  return stream ?? fromQuery ?? null;
}
