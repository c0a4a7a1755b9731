/**
 * The Stream and its MJPEG fan-out, in-process with real frames and the real
 * encoder: work is done once per frame, never once per viewer; every viewer
 * gets the same bytes; a live source that fails is restarted while viewers
 * see NO SIGNAL.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { defaultJpegSettings } from "../src/encoders/jpeg-settings.ts";
import { TurboJpegEncoder } from "../src/encoders/turbojpeg-encoder.ts";
import { MjpegBroadcaster } from "../src/outputs/mjpeg/broadcaster.ts";
import { Audience } from "../src/stream/audience.ts";
import type { Source } from "../src/sources/source.ts";
import { Y4mReader } from "../src/media/y4m-reader.ts";
import type { Frame, RawFrame } from "../src/media/frame.ts";
import { formatAgo, Stream } from "../src/stream/stream.ts";
import { y4mTestPattern } from "./helpers/ffmpeg.ts";

setDefaultTimeout(15_000);

const pictures = new Y4mReader(32).push(y4mTestPattern(320, 240, 30, "yuv420p"));

/** A live source that yields real pictures at `fps`, and fails after `failAfter` frames if asked. */
function patternSource(fps: number, failAfter = Infinity): Source & { runs: number } {
  return {
    description: "test pictures",
    finite: false,
    restartable: true,
    runs: 0,
    async *frames(signal: AbortSignal): AsyncGenerator<Frame> {
      this.runs++;
      for (let i = 0; !signal.aborted; i++) {
        if (i === failAfter) throw new Error("camera unplugged");
        yield pictures[i % pictures.length]!;
        await Bun.sleep(1000 / fps);
      }
    },
  };
}

/** The real encoder, counting its calls. */
function countingEncoder() {
  const inner = new TurboJpegEncoder(defaultJpegSettings);
  const counter = {
    calls: 0,
    name: inner.name,
    encode(f: RawFrame) {
      counter.calls++;
      return inner.encode(f);
    },
    close: () => inner.close(),
  };
  return counter;
}

function makeStream(source: Source, encoder = countingEncoder()) {
  const stream = new Stream({
    name: "test",
    source,
    encoder,
    encodeStill: async (f) => new TurboJpegEncoder(defaultJpegSettings).encode(f).slice(),
    defaultSize: { width: 320, height: 240 },
    backoff: { initialMs: 100, maxMs: 200 },
  });
  return { stream, encoder, mjpeg: new MjpegBroadcaster(stream, new Audience("t")) };
}

async function collect(body: ReadableStream<Uint8Array>, ms: number): Promise<Uint8Array[]> {
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const next = await Promise.race([reader.read(), Bun.sleep(end - Date.now()).then(() => null)]);
    if (!next || next.done) break;
    parts.push(next.value);
  }
  await reader.cancel();
  return parts;
}

describe("Stream + MjpegBroadcaster", () => {
  test("20 viewers: each frame is encoded once, and every viewer gets the very same bytes", async () => {
    const { stream, encoder, mjpeg } = makeStream(patternSource(30));
    stream.start();
    await stream.waitForFrame(2000);
    const viewers = await Promise.all(Array.from({ length: 20 }, () => collect(mjpeg.open(), 1500)));
    const frames = stream.framesCaptured;
    await stream.stop();

    for (const parts of viewers) expect(parts.length).toBeGreaterThan(30);
    expect(encoder.calls).toBeLessThanOrEqual(frames);
    // The same part objects travel to every viewer: one allocation per frame, not per viewer.
    const distinct = new Set(viewers.flat());
    expect(distinct.size).toBeLessThanOrEqual(frames);
    expect(mjpeg.viewers).toBe(0); // all viewers left
  });

  test("nothing is encoded while nobody watches", async () => {
    const { stream, encoder } = makeStream(patternSource(30));
    stream.start();
    await Bun.sleep(500);
    await stream.stop();
    expect(stream.framesCaptured).toBeGreaterThan(5);
    expect(encoder.calls).toBe(0);
  });

  test("a live source that fails: NO SIGNAL for the viewers, then it is restarted and the picture returns", async () => {
    const source = patternSource(30, 10);
    const { stream, mjpeg } = makeStream(source);
    const noSignal = new TurboJpegEncoder(defaultJpegSettings);
    const { renderPlaceholder } = await import("../src/placeholder/render.ts");
    const expected = Buffer.from(
      noSignal.encode({
        kind: "raw",
        format: "i420",
        width: 320,
        height: 240,
        data: renderPlaceholder("i420", 320, 240, ["NO SIGNAL", "RECONNECTING", "LAST FRAME 0 S AGO"]),
      }),
    );
    stream.start();
    const parts = await collect(mjpeg.open(), 1500);
    await stream.stop();

    expect(source.runs).toBeGreaterThanOrEqual(2);
    const isNoSignal = parts.map((p) => Buffer.from(p).includes(expected));
    const firstGap = isNoSignal.indexOf(true);
    expect(firstGap).toBeGreaterThan(0); // pictures, then NO SIGNAL …
    expect(isNoSignal.slice(firstGap).includes(false)).toBe(true); // … then pictures again
  });
});

test("the capture frame rate is measured while frames come (frame-rate.test.ts checks the counting), and drops to 0 when they stop", async () => {
  let sent = 0;
  let stopAt = Infinity;
  const silentWhenAsked: Source = {
    description: "goes silent",
    finite: false,
    restartable: true,
    async *frames(signal: AbortSignal) {
      for (let i = 0; i < stopAt; i++) {
        yield pictures[i % pictures.length]!;
        sent++;
        await Bun.sleep(50);
      }
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true })); // hangs, like a stalled camera
    },
  };
  const { stream } = makeStream(silentWhenAsked);
  stream.start();
  const until = async (what: string, ok: () => boolean, ms: number) => {
    const deadline = performance.now() + ms;
    while (!ok()) {
      if (performance.now() > deadline) throw new Error(`${what} within ${ms} ms (fps ${stream.stats().fps}, ${sent} frames sent)`);
      await Bun.sleep(50);
    }
  };
  await until("a rate above 0", () => stream.stats().fps > 0, 10_000);
  expect(stream.stats().fps).toBeLessThanOrEqual(21); // at most the 20 fps the source paces itself to
  stopAt = 0;
  await until("the rate back to 0 after the frames stopped", () => stream.stats().fps === 0, 10_000);
  expect(stream.state).toBe("running"); // silent, not restarted: the rate alone says it
  await stream.stop();
});

test("NO SIGNAL says how long ago the last frame came, in the placeholder font's letters", () => {
  expect(formatAgo(0)).toBe("0 S");
  expect(formatAgo(59_999)).toBe("59 S");
  expect(formatAgo(185_000)).toBe("3 MIN 5 S");
  expect(formatAgo(2 * 3600_000 + 3 * 60_000)).toBe("2 H 3 MIN");
  expect(formatAgo(3 * 86_400_000 + 7200_000)).toBe("3 D 2 H");
});

test("a source that hangs is restarted after the source timeout", async () => {
  let runs = 0;
  const hangsAfter5: Source = {
    description: "hangs",
    finite: false,
    restartable: true,
    async *frames(signal: AbortSignal) {
      runs++;
      for (let i = 0; i < 5; i++) {
        yield pictures[i]!;
        await Bun.sleep(30);
      }
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    },
  };
  const stream = new Stream({
    name: "t",
    source: hangsAfter5,
    encoder: new TurboJpegEncoder(defaultJpegSettings),
    encodeStill: async (f) => new TurboJpegEncoder(defaultJpegSettings).encode(f).slice(),
    defaultSize: { width: 320, height: 240 },
    backoff: { initialMs: 50, maxMs: 50 },
    sourceTimeoutMs: 300,
  });
  stream.start();
  await Bun.sleep(1500);
  const restarts = runs;
  await stream.stop();
  expect(restarts).toBeGreaterThanOrEqual(3);
});
