/**
 * Wrong logins against a hashed password cannot slow the video. Issue 10,
 * item 4: 100 wrong logins from 100 addresses left the capture at 2 frames
 * in 12 s: the capture's FIFO reads waited on Bun's thread pool behind the
 * argon2 checks. Now the FIFO is read on a thread of its own
 * (process/fifo-reader.ts), and hashes are checked one at a time with a
 * bounded queue (access/hash-gate.ts; 503 past it). The speed figure is the
 * benchmark's (scripts/bench/login-flood.ts); here, counts only.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { createGlasscast } from "../../src/index.ts";
import { HashGate, HashGateFull } from "../../src/access/hash-gate.ts";
import { Fifo } from "../../src/process/fifo.ts";
import { readFifoOffPool } from "../../src/process/fifo-reader.ts";
import { startServer } from "../helpers/server.ts";
import { expectNoLeak, HealthyViewer, raw } from "./helpers.ts";

setDefaultTimeout(120_000);

describe("the gate in front of password hashes", () => {
  test("one check at a time, a bounded queue, and a refusal past it", async () => {
    const gate = new HashGate(1, 2);
    const releases: (() => void)[] = [];
    const check = () => gate.run(() => new Promise<boolean>((resolve) => releases.push(() => resolve(false))));
    const running = [check(), check(), check()];
    await Bun.sleep(10);
    expect(gate.load).toEqual({ running: 1, waiting: 2 });
    expect(releases.length).toBe(1); // only the first check has started
    await expect(check()).rejects.toBeInstanceOf(HashGateFull);
    while (releases.length > 0 || gate.load.running > 0) {
      releases.shift()?.();
      await Bun.sleep(5);
    }
    await Promise.all(running);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });
});

describe("a FIFO is read off Bun's thread pool", () => {
  test("while argon2 hashes fill the thread pool, the capture's FIFO still delivers its bytes", async () => {
    const fifo = new Fifo("adversarial");
    const total = 8 * 1024 * 1024;
    const writer = Bun.spawn(["sh", "-c", `head -c ${total} /dev/zero > "$0"`, fifo.path], { stdout: "ignore", stderr: "ignore" });
    // More hashes than the pool has threads, each taking a while.
    let hashed = 0;
    let readWhenFirstHashEnded: number | null = null;
    let read = 0;
    const hashes = Array.from({ length: 24 }, () =>
      Bun.password.hash(crypto.randomUUID(), { algorithm: "argon2id", memoryCost: 65536, timeCost: 3 }).then(() => {
        hashed += 1;
        readWhenFirstHashEnded ??= read;
      }),
    );
    for await (const chunk of readFifoOffPool(fifo.path, { writerGone: writer.exited, release: () => fifo.release(), unlink: () => fifo.remove() }))
      read += chunk.byteLength;
    await Promise.all(hashes);
    expect(read).toBe(total);
    expect(hashed).toBe(24);
    // Behind the pool (FileHandle.read), not a byte would have come before the first hash was done.
    expect(readWhenFirstHashEnded ?? 0).toBeGreaterThan(1024 * 1024);
  });
});

describe("the worker that reads a FIFO never outlives its capture", () => {
  test("a server closed before (or while) ffmpeg opens its FIFO closes at once, and leaves no FIFO behind", async () => {
    const fifoDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`glasscast-fifo-${process.pid}-`));
    const before = new Set(fifoDirs());
    for (let round = 0; round < 10; round++) {
      const gc = await createGlasscast({
        source: ["one=testsrc", "two=testsrc"],
        width: 160,
        height: 120,
        fps: 5,
        logLevel: "error",
        webrtc: false,
        alwaysOn: true,
      });
      await Bun.sleep(round * 15);
      const closed = await Promise.race([gc.close().then(() => true), Bun.sleep(10_000).then(() => false)]);
      expect(`round ${round}: ${closed ? "closed" : "hung"}`).toBe(`round ${round}: closed`);
    }
    expect(fifoDirs().filter((name) => !before.has(name))).toEqual([]);
  });
});

describe("a flood of wrong logins from many addresses", () => {
  test("each is checked or refused (401, 503 with Retry-After), none is let in, and a viewer keeps its pictures", async () => {
    const hash = await Bun.password.hash("the right one", { algorithm: "argon2id" });
    const server = await startServer([
      "--no-webrtc",
      "--width",
      "160",
      "--height",
      "120",
      "--fps",
      "10",
      "--auth",
      `admin:${hash}`,
      "--viewer-token",
      "flood-test-viewer-token-0123",
    ]);
    const viewer = new HealthyViewer(`${server.url}/video?token=flood-test-viewer-token-0123`);
    try {
      await viewer.keepsWatching(3);
      const wrong = (i: number) => `Basic ${Buffer.from(`admin:wrong-${i}`).toString("base64")}`;
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          raw(server.port, `GET /state HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${wrong(i)}\r\nConnection: close\r\n\r\n`, {
            localAddress: `127.2.${1 + i}.1`,
            ms: 60_000,
          }),
        ),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0); // the queue has a bound
      expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(0);
      for (const a of answers.filter((x) => x.status === 503)) expect(a.head.toLowerCase()).toContain("retry-after: 1");
      for (const a of answers) expectNoLeak(a.body, [hash]);
      await viewer.keepsWatching(5);
      expectNoLeak(server.stderr(), [hash]);
    } finally {
      viewer.close();
      await server.stop();
    }
  });
});
