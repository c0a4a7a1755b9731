/** The signalling body reader's limits: size (413) and time to arrive (408). */
import { expect, test } from "bun:test";
import { BodyError, readLimited } from "../src/http/signalling-body.ts";

/** A body that sends `chunks`, then (with `hang`) never ends, as a client trickling bytes would. */
function body(chunks: string[], hang: boolean): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      const next = chunks.shift();
      if (next !== undefined) controller.enqueue(new TextEncoder().encode(next));
      else if (hang) await new Promise(() => {});
      else controller.close();
    },
  });
}

const refusal = async (p: Promise<string>) => {
  try {
    await p;
  } catch (err) {
    return err instanceof BodyError ? `${err.status} ${err.message}` : String(err);
  }
  return "read";
};

test("a whole body within the limits is read as text", async () => {
  expect(await readLimited(body(['{"sdp":', '"v=0"}'], false), { maxBytes: 100, deadlineMs: 5000 })).toBe('{"sdp":"v=0"}');
});

test("a body that is still arriving at the deadline is refused with 408", async () => {
  expect(await refusal(readLimited(body(["{", '"s'], true), { maxBytes: 100, deadlineMs: 100 }))).toBe("408 the body did not arrive within 0.1 s");
});

test("a body past the size limit is refused with 413, wherever it stands in its time", async () => {
  expect(await refusal(readLimited(body(["x".repeat(60), "x".repeat(60)], true), { maxBytes: 100, deadlineMs: 5000 }))).toBe(
    "413 the body is larger than 100 bytes",
  );
});
