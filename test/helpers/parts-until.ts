/**
 * Reads an MJPEG stream until a condition on the parts so far holds, or fails
 * at a generous deadline: on a busy machine a test waits as long as it must
 * and no longer, and never asserts a count after a fixed sleep.
 */
import { mjpegParts, type Part } from "./mjpeg-client.ts";

export async function readPartsUntil(url: string, done: (parts: readonly Part[]) => boolean, what: string, deadlineMs = 30_000): Promise<Part[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deadlineMs);
  const parts: Part[] = [];
  try {
    const res = await fetch(url, { signal: controller.signal });
    for await (const jpeg of mjpegParts(res)) {
      parts.push({ jpeg, at: performance.now() });
      if (done(parts)) return parts;
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  throw new Error(`${url}: ${what} not reached within ${deadlineMs} ms (${parts.length} parts)`);
}
