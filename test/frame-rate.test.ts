/**
 * The frame rate the page and /state show, on a clock of the test's own: true
 * over a window of wall time however the frames bunch up.
 */
import { expect, test } from "bun:test";
import { FrameRate, MIN_SPAN_MS, SKIP_MS, WINDOW_MS } from "../src/stream/frame-rate.ts";

function clocked() {
  let now = 0;
  const rate = new FrameRate(() => now);
  let delivered = -Infinity;
  return {
    rate,
    /** Frames at the given times (ms), in order; the clock moves to each. */
    arrive(times: Iterable<number>) {
      for (const t of times) {
        now = t;
        rate.frame();
      }
    },
    at(t: number) {
      now = t;
      return rate.rate();
    },
    /** Moves the clock to `t`, the frames of `times` up to it arriving on the way; the rate then. */
    upTo(times: readonly number[], t: number) {
      this.arrive(times.filter((x) => x > delivered && x <= t));
      delivered = t;
      return this.at(t);
    },
  };
}

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

test("a steady 30 fps source reads 30", () => {
  const c = clocked();
  c.arrive(range(150, (i) => (i * 1000) / 30));
  // Counting whole frames in 2 s: within one frame of 60, i.e. ±0.5 fps.
  expect(Math.abs(c.at(5000) - 30)).toBeLessThanOrEqual(0.5);
});

test("30 fps arriving in bursts (5 frames at once, 6 times a second) reads 30 at any moment, never the burst's rate", () => {
  const c = clocked();
  const times = range(600, (i) => Math.floor(i / 5) * (1000 / 6) + (i % 5) * 0.2);
  let seen = 0;
  for (let t = 2500; t < 19_000; t += 37) {
    const fps = c.upTo(times, t);
    expect(fps).toBeGreaterThanOrEqual(27.5);
    expect(fps).toBeLessThanOrEqual(32.5);
    seen++;
  }
  expect(seen).toBeGreaterThan(400);
});

test("a busy machine: 12 frames in 8 ms, then a 400 ms pause (30 fps), reads within one burst of 30, not the median's ~1400", () => {
  const c = clocked();
  const times = range(120, (i) => Math.floor(i / 12) * 400 + (i % 12) * 0.7);
  for (const t of [2100, 2300, 2800, 3500, 3990]) {
    // One burst more or less in the 2 s window: 60 ± 12 frames.
    expect(Math.abs(c.upTo(times, t) - 30)).toBeLessThanOrEqual(6);
  }
});

test("the catch-up burst at the start of a run is left out; nothing is said before a second was counted", () => {
  const c = clocked();
  const times = [...range(12, (i) => i * 0.1), ...range(40, (i) => 50 + i * 50)]; // ffmpeg catching up: 12 frames at once, then 20 fps
  const upTo = (t: number) => c.upTo(times, t);
  for (const t of [1, 100, 400, 800, SKIP_MS + MIN_SPAN_MS - 50]) expect(upTo(t)).toBe(0);
  expect(Math.abs(upTo(SKIP_MS + MIN_SPAN_MS + 50) - 20)).toBeLessThanOrEqual(1);
  expect(Math.abs(upTo(2000) - 20)).toBeLessThanOrEqual(0.5);
});

test("drops to 0 within the window once frames stop; a new run starts afresh", () => {
  const c = clocked();
  c.arrive(range(90, (i) => (i * 1000) / 30)); // until ~2967 ms
  expect(Math.abs(c.at(3000) - 30)).toBeLessThanOrEqual(0.5);
  expect(c.at(3000 + WINDOW_MS / 2)).toBeLessThan(16);
  // Falling all the way: never back up to the old rate on the way down.
  for (let t = 3000 + WINDOW_MS / 2; t < 2967 + WINDOW_MS; t += 10) expect(c.at(t)).toBeLessThan(16);
  expect(c.at(2967 + WINDOW_MS)).toBe(0);
  c.rate.reset();
  expect(c.at(10_000)).toBe(0);
  c.arrive(range(60, (i) => 10_000 + i * 100)); // 10 fps
  expect(Math.abs(c.at(15_950) - 10)).toBeLessThanOrEqual(0.5);
});

test("a slow source (an image every 5 s) is measured over its last frames, and drops to 0 after three missed intervals", () => {
  const c = clocked();
  const times = range(6, (i) => i * 5000);
  expect(c.upTo(times, 5100)).toBeCloseTo(0.2, 5);
  expect(c.upTo(times, 24_000)).toBeCloseTo(0.2, 5);
  expect(c.upTo(times, 25_000 + 14_000)).toBeCloseTo(0.2, 5);
  expect(c.at(25_000 + 15_001)).toBe(0);
});
