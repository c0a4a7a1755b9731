/**
 * Reads an MJPEG multipart stream as a client would: fetch, then parts cut by
 * their boundary and Content-Length. Each part is checked against glasscast's
 * byte layout (`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: N\r\n\r\n<jpeg>\r\n`:
 * vidgear's, with the space after the colon that GStreamer needs).
 */
export interface Part {
  jpeg: Uint8Array;
  at: number;
}

const CRLFCRLF = Buffer.from("\r\n\r\n");

/**
 * The JPEGs of an MJPEG response as they arrive, each part checked against
 * that layout and cut at its Content-Length.
 */
export async function* mjpegParts(res: Response): AsyncGenerator<Uint8Array> {
  if (res.status !== 200) throw new Error(`${res.url}: HTTP ${res.status}`);
  if (res.headers.get("content-type") !== "multipart/x-mixed-replace; boundary=frame") {
    throw new Error(`unexpected content-type ${res.headers.get("content-type")}`);
  }
  let buf = Buffer.alloc(0);
  for await (const chunk of res.body as ReadableStream<Uint8Array>) {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const headEnd = buf.indexOf(CRLFCRLF);
      if (headEnd < 0) break;
      const head = buf.subarray(0, headEnd).toString("latin1");
      if (!/^--frame\r\nContent-Type: image\/jpeg\r\nContent-Length: \d+$/.test(head)) throw new Error(`bad part head ${JSON.stringify(head)}`);
      const length = Number(/Content-Length: (\d+)/.exec(head)?.[1]);
      if (!(length > 0)) throw new Error("an MJPEG part without a Content-Length");
      const end = headEnd + 4 + length + 2;
      if (buf.length < end) break;
      if (buf.subarray(end - 2, end).toString("latin1") !== "\r\n") throw new Error("part does not end with CRLF");
      yield new Uint8Array(buf.subarray(headEnd + 4, end - 2));
      buf = buf.subarray(end);
    }
  }
}

/** Reads parts until `count` have arrived or `ms` have passed; then closes the connection. */
export async function readParts(url: string, opts: { count?: number; ms: number }, init: RequestInit = {}): Promise<Part[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.ms);
  const parts: Part[] = [];
  try {
    const res = await fetch(url, { ...init, signal: controller.signal });
    for await (const jpeg of mjpegParts(res)) {
      parts.push({ jpeg, at: performance.now() });
      if (opts.count && parts.length >= opts.count) return parts;
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return parts;
}

/** Mean size of the first `count` JPEGs of a stream. */
export async function meanJpegBytes(url: string, count = 5): Promise<number> {
  const parts = await readParts(url, { count, ms: 5000 });
  if (parts.length === 0) throw new Error(`${url}: no frame`);
  return parts.reduce((n, p) => n + p.jpeg.length, 0) / parts.length;
}
