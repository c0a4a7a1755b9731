/** The one "run while held, stop after a linger" helper, on a fake clock (nothing sleeps). */
import { describe, expect, test } from "bun:test";
import { Lease } from "../src/stream/lease.ts";
import { FakeClock } from "./helpers/fake-clock.ts";

function counted(lingerMs: number) {
  const clock = new FakeClock();
  const calls = { start: 0, stop: 0 };
  const lease = new Lease({
    start: () => calls.start++,
    stop: () => {
      calls.stop++;
    },
    lingerMs,
    clock,
  });
  return { clock, calls, lease };
}

describe("Lease", () => {
  test("the first hold starts, the last release stops after the linger", () => {
    const { clock, calls, lease } = counted(1000);
    const a = lease.hold();
    const b = lease.hold();
    expect(calls).toEqual({ start: 1, stop: 0 });
    expect(lease.holders).toBe(2);
    a();
    a(); // idempotent
    clock.advance(5000);
    expect(calls.stop).toBe(0);
    b();
    clock.advance(999);
    expect(lease.active).toBe(true);
    clock.advance(1);
    expect(calls).toEqual({ start: 1, stop: 1 });
    expect(lease.active).toBe(false);
  });

  test("a hold within the linger keeps the work running (no restart)", () => {
    const { clock, calls, lease } = counted(1000);
    lease.hold()();
    clock.advance(600);
    const again = lease.hold();
    clock.advance(5000);
    expect(calls).toEqual({ start: 1, stop: 0 });
    again();
    clock.advance(1000);
    expect(calls).toEqual({ start: 1, stop: 1 });
    lease.hold();
    expect(calls).toEqual({ start: 2, stop: 1 });
  });

  test("touches keep it running until none came for the linger, with one timer", () => {
    const { clock, calls, lease } = counted(5000);
    for (let i = 0; i < 100; i++) {
      lease.touch();
      clock.advance(100);
    }
    expect(clock.pending).toBe(1);
    expect(calls).toEqual({ start: 1, stop: 0 });
    clock.advance(4899);
    expect(calls.stop).toBe(0);
    clock.advance(1);
    expect(calls).toEqual({ start: 1, stop: 1 });
    expect(clock.pending).toBe(0);
  });

  test("a touch while held does not stop the work when the hold ends early", () => {
    const { clock, calls, lease } = counted(1000);
    const release = lease.hold();
    lease.touch();
    clock.advance(3000);
    expect(calls.stop).toBe(0);
    release();
    clock.advance(1000);
    expect(calls.stop).toBe(1);
  });

  test("close stops at once, and nothing starts after it", async () => {
    const { clock, calls, lease } = counted(1000);
    const release = lease.hold();
    await lease.close();
    expect(calls).toEqual({ start: 1, stop: 1 });
    release();
    lease.hold();
    lease.touch();
    clock.advance(5000);
    expect(calls).toEqual({ start: 1, stop: 1 });
    expect(clock.pending).toBe(0);
  });

  test("close waits for an asynchronous stop", async () => {
    const clock = new FakeClock();
    let stopped = false;
    const lease = new Lease({
      start: () => {},
      stop: async () => {
        await Promise.resolve();
        stopped = true;
      },
      lingerMs: 10,
      clock,
    });
    lease.hold();
    await lease.close();
    expect(stopped).toBe(true);
  });
});
