/**
 * Reads an MJPEG multipart stream as a client would: fetch, then parts cut by
 * their boundary and Content-Length, each held to glasscast's byte layout
 * (`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: N\r\n\r\n<jpeg>\r\n`:
 * vidgear's, with the space after the colon that GStreamer needs). The parts
 * are cut by the benchmarks' reader (src/bench/mjpeg-counter.ts) in its strict mode.
 */
import { MjpegCounter } from "../../src/bench/mjpeg-counter.ts";

export interface Part {
  jpeg: Uint8Array;
  at: number;
}

/** The JPEGs of an MJPEG response as they arrive, each part checked against that layout. */
export async function* mjpegParts(res: Response): AsyncGenerator<Uint8Array> {
  if (res.status !== 200) throw new Error(`${res.url}: HTTP ${res.status}`);
  if (res.headers.get("content-type") !== "multipart/x-mixed-replace; boundary=frame") {
    throw new Error(`unexpected content-type ${res.headers.get("content-type")}`);
  }
  const counter = new MjpegCounter(true, { bodyOnly: true, strict: true });
  const ready: Uint8Array[] = [];
  counter.onPart = (jpeg) => ready.push(jpeg!);
  for await (const chunk of res.body as ReadableStream<Uint8Array>) {
    const ok = counter.push(chunk);
    yield* ready.splice(0);
    if (!ok) throw new Error(counter.error ?? "MJPEG stream error");
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
