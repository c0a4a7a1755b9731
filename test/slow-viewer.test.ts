/**
 * A viewer that stops reading (a stalled phone, a background tab) must cost
 * nothing: the server skips frames for it instead of queueing them, its memory
 * stays flat, and every other viewer keeps up with the capture.
 *
 * Everything is counted in the stream's own frames (/state's framesCaptured),
 * never in seconds: a loaded machine captures fewer frames and every bound
 * scales with it.
 */
import { expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { mjpegParts } from "./helpers/mjpeg-client.ts";
import { rssOf, startServer, waitFor, type RunningServer } from "./helpers/server.ts";

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

/** An MJPEG viewer that keeps reading, counting whole parts, until closed. */
function reader(url: string): { readonly parts: number; close(): void } {
  const abort = new AbortController();
  const client = { parts: 0, close: () => abort.abort() };
  void (async () => {
    for await (const _ of mjpegParts(await fetch(url, { signal: abort.signal }))) client.parts++;
  })().catch(() => {});
  return client;
}

/**
 * The memory a process holds after garbage collection: the lowest RSS seen
 * while sampling every 100 ms for `ms`. (Single RSS readings swing by 20 MB
 * with GC timing.)
 */
async function rssFloor(pid: number, ms: number): Promise<number> {
  let min = Infinity;
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(100)) min = Math.min(min, await rssOf(pid));
  return min;
}

async function stream(server: RunningServer) {
  return ((await (await fetch(`${server.url}/state`)).json()) as StatsSnapshot).streams[0]!;
}

/** The stream's frames captured so far, and what the server sent to (and skipped for) the first viewer that joined. */
async function counts(server: RunningServer) {
  const s = await stream(server);
  const first = [...s.outputs.mjpeg.viewers].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)))[0]!;
  return { captured: s.framesCaptured, sent: first.frames, skipped: first.skipped };
}

/** Waits until the stream has captured `n` more frames than `from` (bounded: a frozen capture fails the test). */
async function framesLater(server: RunningServer, from: number, n: number): Promise<number> {
  let now = from;
  await waitFor(async () => (now = (await counts(server)).captured) >= from + n, 60_000, `${n} more captured frames`);
  return now;
}

test("a viewer that stops reading is sent nothing more and costs no memory; the others keep up; back, it gets the newest frame", async () => {
  const server = await startServer(["--log-level", "warn"]);
  const stalled = rawViewer(server.port);
  const others: ReturnType<typeof reader>[] = [];
  try {
    await waitFor(() => stalled.parts() > 0, 30_000, "the first viewer's first picture");
    stalled.socket.pause(); // stops reading: the kernel buffers fill, then the server must stop sending
    others.push(reader(`${server.url}/video`), reader(`${server.url}/video`));

    // The socket fills: the server's count of frames sent to it stops for 30 captured frames in a row.
    let last = await counts(server);
    await waitFor(
      async () => {
        const now = await counts(server);
        if (now.sent !== last.sent) last = now;
        return now.captured - last.captured >= 30;
      },
      60_000,
      "the server to stop sending to the stalled viewer",
    );

    // From here on, over 180 captured frames (6 s at 30 fps): nothing more sent to it, memory flat, the others keep up.
    const from = await counts(server);
    const othersFrom = others.map((o) => o.parts);
    const before = await rssFloor(server.proc.pid, 2000);
    await framesLater(server, from.captured, 180);
    const after = await rssFloor(server.proc.pid, 2000);
    const to = await counts(server);
    const captured = to.captured - from.captured;
    const got = others.map((o, i) => o.parts - othersFrom[i]!);
    console.log(
      `over ${captured} captured frames: stalled viewer sent ${to.sent - from.sent}, others got ${got.join(" and ")}; RSS floor ${(before / 1e6).toFixed(1)} → ${(after / 1e6).toFixed(1)} MB`,
    );
    expect(to.sent - from.sent).toBeLessThanOrEqual(1); // at most the part that was being written
    // A queue for it would grow by a JPEG (tens of kB) per captured frame, MBs over 180 frames.
    expect(after - before).toBeLessThan(5 * 1024 * 1024);
    for (const n of got) expect(n).toBeGreaterThan(0.8 * captured);

    // Back to reading: it is sent the newest frame, the ones captured meanwhile skipped, not fed as a backlog.
    stalled.socket.resume();
    await waitFor(async () => (await counts(server)).sent > to.sent, 30_000, "a new frame for the viewer that reads again");
    const back = await counts(server);
    expect(back.skipped - from.skipped).toBeGreaterThanOrEqual(captured);
    expect(stalled.parts()).toBeGreaterThan(0);
  } finally {
    for (const o of others) o.close();
    stalled.socket.destroy();
    await server.stop();
  }
}, 180_000);
