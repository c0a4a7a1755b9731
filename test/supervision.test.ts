/**
 * Capture supervision on a fake clock: the restart back-off, the watchdog,
 * and on-demand capture's linger, checked at the exact millisecond without
 * sleeping (a busy machine cannot make these late).
 */
import { describe, expect, test } from "bun:test";
import type { Frame } from "../src/media/frame.ts";
import type { Source } from "../src/sources/source.ts";
import { FrameRate } from "../src/stream/frame-rate.ts";
import { PlaceholderLoop } from "../src/stream/placeholder-loop.ts";
import { Stream } from "../src/stream/stream.ts";
import { CaptureSupervisor } from "../src/stream/supervisor.ts";
import { watchRun } from "../src/stream/watchdog.ts";
import { FakeClock, settle } from "./helpers/fake-clock.ts";

const JPEG: Frame = { kind: "jpeg", width: 64, height: 48, data: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]) };
const encodeStill = async () => new Uint8Array([0xff, 0xd8, 0xff, 0xd9]);

/** Waits, on the fake clock's terms, until the signal aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
}

function supervised(source: Source, clock: FakeClock, options: { backoff?: { initialMs: number; maxMs: number }; sourceTimeoutMs?: number } = {}) {
  const delivered: Frame[] = [];
  const placeholder = new PlaceholderLoop({ label: "stream t", size: () => ({ width: 64, height: 48 }), encodeStill, publish: () => {}, clock });
  const supervisor = new CaptureSupervisor({
    name: "t",
    source,
    placeholder,
    rate: new FrameRate(() => clock.now()),
    clock,
    deliver: (f) => delivered.push(f),
    ...options,
  });
  return { supervisor, delivered, placeholder };
}

describe("restart back-off", () => {
  test("doubles from the first wait up to the longest, and starts again from the first after a frame", async () => {
    const clock = new FakeClock(0);
    const runs: number[] = [];
    let deliverOn = new Set([4]);
    const source: Source = {
      description: "flaky",
      finite: false,
      restartable: true,
      async *frames() {
        runs.push(clock.now());
        if (deliverOn.has(runs.length)) yield JPEG;
        throw new Error("camera unplugged");
      },
    };
    const { supervisor, delivered } = supervised(source, clock, { backoff: { initialMs: 1000, maxMs: 4000 } });
    const abort = new AbortController();
    const running = supervisor.run(abort.signal);
    await clock.advanceAsync(20_000, 100);
    // Waits 1, 2, 4 s; the 4th run delivered, so the next wait is 1 s again, then 2, 4, 4 (the longest).
    expect(runs.slice(0, 8)).toEqual([0, 1000, 3000, 7000, 8000, 10_000, 14_000, 18_000]);
    expect(delivered.length).toBe(1);
    expect(supervisor.restarts).toBe(runs.length);
    expect(supervisor.state).toBe("restarting");
    abort.abort();
    await running;
    deliverOn = new Set();
  });

  test("a finite source that ends shows END OF STREAM and is not restarted", async () => {
    const clock = new FakeClock(0);
    let runs = 0;
    const source: Source = {
      description: "file",
      finite: true,
      restartable: true,
      async *frames() {
        runs++;
        yield JPEG;
      },
    };
    const { supervisor, placeholder } = supervised(source, clock);
    const abort = new AbortController();
    await supervisor.run(abort.signal);
    await clock.advanceAsync(60_000, 1000);
    expect(runs).toBe(1);
    expect(supervisor.state).toBe("ended");
    expect(supervisor.restarts).toBe(0);
    placeholder.stop();
  });
});

describe("watchdog", () => {
  test("a run without a frame for the source timeout is aborted, not before", async () => {
    const clock = new FakeClock(0);
    const stream = new AbortController();
    const watch = watchRun(stream.signal, { timeoutMs: 2000, armOnFirstFrame: false, fps: () => 0, clock });
    clock.advance(1500);
    watch.fed();
    clock.advance(1999);
    expect(watch.signal.aborted).toBe(false);
    clock.advance(600); // checked every 500 ms: caught within one check of the limit
    expect(watch.signal.aborted).toBe(true);
    expect(watch.stalled).toBe(true);
    expect(watch.limitS).toBe(2);
    watch.done();
    expect(clock.pending).toBe(0);
  });

  test("allows three frame intervals of a slow source, and waits for a pushed source's first frame", () => {
    const clock = new FakeClock(0);
    const slow = watchRun(new AbortController().signal, { timeoutMs: 1000, armOnFirstFrame: false, fps: () => 0.5, clock });
    clock.advance(5500);
    expect(slow.signal.aborted).toBe(false); // 3 intervals of 2 s: 6 s
    clock.advance(750);
    expect(slow.signal.aborted).toBe(true);
    expect(slow.limitS).toBe(6);

    const pushed = watchRun(new AbortController().signal, { timeoutMs: 1000, armOnFirstFrame: true, fps: () => 0, clock });
    clock.advance(60_000);
    expect(pushed.signal.aborted).toBe(false);
    pushed.fed();
    clock.advance(1250);
    expect(pushed.signal.aborted).toBe(true);
    pushed.done();
  });

  test("the supervisor restarts a source that hangs, and says why", async () => {
    const clock = new FakeClock(0);
    let runs = 0;
    const source: Source = {
      description: "hangs",
      finite: false,
      restartable: true,
      async *frames(signal) {
        runs++;
        yield JPEG;
        await aborted(signal);
      },
    };
    const { supervisor } = supervised(source, clock, { sourceTimeoutMs: 2000, backoff: { initialMs: 500, maxMs: 500 } });
    const abort = new AbortController();
    const running = supervisor.run(abort.signal);
    await clock.advanceAsync(2000, 250);
    expect(runs).toBe(1);
    expect(supervisor.state).toBe("running");
    await clock.advanceAsync(1000, 250); // stalled after 2 s (+ one check), restarted 0.5 s later
    expect(supervisor.restarts).toBe(1);
    expect(runs).toBe(2);
    abort.abort();
    await running;
  });
});

describe("on-demand linger", () => {
  test("the capture stops exactly the linger after the last viewer, and a viewer within it keeps it", async () => {
    const clock = new FakeClock(0);
    let runs = 0;
    const source: Source = {
      description: "camera",
      finite: false,
      restartable: true,
      async *frames(signal) {
        runs++;
        yield JPEG;
        await aborted(signal);
      },
    };
    const stream = new Stream({
      name: "t",
      source,
      encoder: null,
      encodeStill,
      defaultSize: { width: 64, height: 48 },
      onDemand: { lingerMs: 5000 },
      clock,
    });
    stream.start();
    expect(stream.state).toBe("idle");
    const release = stream.hold();
    await settle();
    expect(stream.capturing).toBe(true);
    expect(stream.state).toBe("running");
    release();
    await clock.advanceAsync(4000);
    const again = stream.hold(); // a reloaded page
    again();
    await clock.advanceAsync(4999);
    expect(stream.capturing).toBe(true);
    expect(runs).toBe(1);
    await clock.advanceAsync(1);
    expect(stream.capturing).toBe(false);
    expect(stream.state).toBe("idle");
    expect(stream.latest).toBeNull();
    await stream.stop();
  });
});

describe("H.264 feed linger", () => {
  test("runs while held and stops the linger after the last viewer", async () => {
    const { H264Feed } = await import("../src/stream/h264-feed.ts");
    const clock = new FakeClock(0);
    const source: Source = {
      description: "nothing",
      finite: false,
      restartable: true,
      // biome-ignore lint/correctness/useYield: a source that never delivers a frame
      async *frames(signal) {
        await aborted(signal);
      },
    };
    const stream = new Stream({ name: "t", source, encoder: null, encodeStill, defaultSize: { width: 64, height: 48 }, clock });
    const feed = new H264Feed(stream, { ffmpeg: "ffmpeg", h264: {} as never, lingerMs: 3000, clock });
    const a = feed.hold();
    const b = feed.hold();
    expect(feed.running).toBe(true);
    expect(feed.viewers).toBe(2);
    a();
    b();
    expect(feed.viewers).toBe(0);
    clock.advance(2999);
    expect(feed.running).toBe(true);
    clock.advance(1);
    await settle();
    expect(feed.running).toBe(false);
    await feed.close();
  });
});
