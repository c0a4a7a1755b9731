/** The NO SIGNAL loop on a fake clock: repeated each second, re-drawn when its text changes, silent once stopped. */
import { expect, test } from "bun:test";
import type { RawFrame } from "../src/media/frame.ts";
import { PlaceholderLoop } from "../src/stream/placeholder-loop.ts";
import { FakeClock } from "./helpers/fake-clock.ts";

function loop() {
  const clock = new FakeClock();
  const published: RawFrame[] = [];
  let encoded = 0;
  const placeholder = new PlaceholderLoop({
    label: "stream t",
    size: () => ({ width: 64, height: 48 }),
    clock,
    encodeStill: async () => {
      encoded++;
      return new Uint8Array([0xff, 0xd8, encoded]);
    },
    publish: (frame) => published.push(frame),
  });
  return { clock, published, placeholder, encoded: () => encoded };
}

test("published at once and every second; drawn again only when the text changes", async () => {
  const { clock, published, placeholder, encoded } = loop();
  let ago = 1;
  await placeholder.show(() => ["NO SIGNAL", `LAST FRAME ${ago} S AGO`], new AbortController().signal);
  expect(published.length).toBe(1);
  expect(published[0]!).toMatchObject({ kind: "raw", format: "i420", width: 64, height: 48 });
  await clock.advanceAsync(3000, 1000);
  expect(published.length).toBe(4);
  expect(encoded()).toBe(1); // same text: the same picture again
  ago = 5;
  await clock.advanceAsync(1000);
  expect(published.length).toBe(5);
  expect(encoded()).toBe(2);
  expect(published[4]!.jpeg![2]).toBe(2);
});

test("stop, a new show and an aborted signal each end the old loop", async () => {
  const { clock, published, placeholder } = loop();
  const abort = new AbortController();
  await placeholder.show(() => ["NO SIGNAL"], abort.signal);
  placeholder.stop();
  await clock.advanceAsync(5000, 1000);
  expect(published.length).toBe(1);
  expect(clock.pending).toBe(0);

  await placeholder.show(() => ["A"], abort.signal);
  await placeholder.show(() => ["B"], abort.signal);
  await clock.advanceAsync(2000, 1000);
  expect(published.length).toBe(5); // A once, B once and twice more
  expect(clock.pending).toBe(1);

  abort.abort();
  await clock.advanceAsync(2000, 1000);
  expect(published.length).toBe(5);
  placeholder.stop();
});
