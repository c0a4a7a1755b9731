/**
 * A viewer that stops reading (a stalled phone, a background tab) must cost
 * nothing: the server skips frames for it instead of queueing them, its memory
 * stays flat, and every other viewer keeps the full frame rate.
 */
import { expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { readParts } from "./helpers/mjpeg-client.ts";
import { rssOf, startServer } from "./helpers/server.ts";

/** A raw HTTP viewer that counts part boundaries and can stop reading. */
function rawViewer(port: number): { socket: Socket; parts: () => number } {
  let parts = 0;
  let tail = "";
  const socket = connect(port, "127.0.0.1", () => socket.write("GET /video HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  socket.on("data", (chunk: Buffer) => {
    const text = tail + chunk.toString("latin1");
    parts += text.split("--frame\r\n").length - 1;
    tail = text.slice(-8);
  });
  socket.on("error", () => {});
  return { socket, parts: () => parts };
}

/**
 * The memory a process holds after garbage collection: the lowest RSS seen
 * while sampling every 100 ms for `ms`. (Single RSS readings swing by 20 MB
 * with GC timing; a queue for a stalled viewer would raise this floor by
 * ~2 MB per second.)
 */
async function rssFloor(pid: number, ms: number): Promise<number> {
  let min = Infinity;
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(100)) min = Math.min(min, await rssOf(pid));
  return min;
}

test("a viewer that stops reading for 20 s does not grow the server's memory; the others keep their frame rate", async () => {
  const server = await startServer(["--log-level", "warn"]);
  const stalled = rawViewer(server.port);
  try {
    await Bun.sleep(300);
    stalled.socket.pause(); // stops reading: the kernel buffers fill, then the server must stop sending
    const partsAtStall = stalled.parts();
    const readers = Promise.all([readParts(`${server.url}/video`, { ms: 22_000 }), readParts(`${server.url}/video`, { ms: 22_000 })]);
    // The heap settles in the first seconds; a queue for the stalled viewer would
    // instead grow by ~2 MB every second, so compare two windows 10 s apart.
    await Bun.sleep(8000);
    const before = await rssFloor(server.proc.pid, 4000);
    await Bun.sleep(6000);
    const after = await rssFloor(server.proc.pid, 4000);
    const [a, b] = await readers;
    console.log(
      `RSS floor at 8-12 s of the stall ${(before / 1e6).toFixed(1)} MB, at 18-22 s ${(after / 1e6).toFixed(1)} MB; others got ${a.length} and ${b.length} frames in 22 s`,
    );

    expect(after - before).toBeLessThan(5 * 1024 * 1024);
    // 22 s at 30 fps is 660 frames.
    expect(a.length).toBeGreaterThan(600);
    expect(b.length).toBeGreaterThan(600);

    // Back to reading: the stalled viewer gets the newest frames, it was not fed 22 s of backlog.
    stalled.socket.resume();
    await Bun.sleep(2000);
    expect(stalled.parts()).toBeGreaterThan(partsAtStall);
    expect(stalled.parts() - partsAtStall).toBeLessThan(300);
  } finally {
    stalled.socket.destroy();
    await server.stop();
  }
}, 45_000);
