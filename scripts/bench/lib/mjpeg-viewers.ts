/**
 * The load generator of mjpeg-fanout: N MJPEG viewers in one process, each a
 * raw TCP connection with a minimal HTTP/1.1 client (mjpeg-connection.ts,
 * mjpeg-counter.ts).
 *
 *   bun run scripts/bench/lib/mjpeg-viewers.ts --port P --count N --max-seconds S
 *
 * Driven by the orchestrator (viewer-pool.ts) with JSON commands on stdin,
 * answered with JSON lines on stdout (types in viewer-protocol.ts):
 *   (start)  -> {"type":"ready"}
 *   go       -> opens all connections; {"type":"settled"} once every viewer has
 *               its first frame or has failed
 *   mark     -> the measuring window starts (part counters are noted)
 *   stop     -> the window ends; {"type":"result"} and the process exits
 * It exits by itself after --max-seconds, or when stdin closes.
 */
import { connectMjpeg } from "../../../src/bench/mjpeg-connection.ts";
import { MjpegCounter } from "../../../src/bench/mjpeg-counter.ts";
import { answer, childArg, onStdinCommands } from "./stdin-commands.ts";
import type { ViewerMessage, ViewerResult } from "./viewer-protocol.ts";

const port = Number(childArg("mjpeg-viewers", "port"));
const count = Number(childArg("mjpeg-viewers", "count"));
const maxSeconds = Number(childArg("mjpeg-viewers", "max-seconds"));

interface Viewer {
  counter: MjpegCounter;
  openedAt: number;
  firstPartAt: number | null;
  partsAtMark: number;
  partsAtStop: number;
  bytesAtMark: number;
  bytesAtStop: number;
  closed: boolean;
  socket: { end(): void } | null;
}

const viewers: Viewer[] = [];
let settledSent = false;
let markAt = 0;
let stopAt = 0;

const send = (message: ViewerMessage): void => answer(message);

function finishedStarting(v: Viewer): boolean {
  return v.firstPartAt !== null || v.counter.error !== null || v.closed;
}

function checkSettled(): void {
  if (settledSent || viewers.length < count || !viewers.every(finishedStarting)) return;
  settledSent = true;
  send({ type: "settled", withFrame: viewers.filter((v) => v.firstPartAt !== null).length });
}

function fail(v: Viewer, message: string): void {
  v.counter.error ??= message;
  v.closed = true;
  checkSettled();
}

function openViewer(): void {
  const counter = new MjpegCounter();
  const v: Viewer = {
    counter,
    openedAt: performance.now(),
    firstPartAt: null,
    partsAtMark: 0,
    partsAtStop: 0,
    bytesAtMark: 0,
    bytesAtStop: 0,
    closed: false,
    socket: null,
  };
  counter.onPart = () => {
    if (v.firstPartAt === null) {
      v.firstPartAt = performance.now();
      checkSettled();
    }
  };
  viewers.push(v);
  connectMjpeg(port, counter, {
    opened: (socket) => {
      v.socket = socket;
    },
    failed: (message) => fail(v, message),
    closing: () => stopAt !== 0,
  });
}

function result(v: Viewer): ViewerResult {
  const c = v.counter;
  return {
    firstFrameMs: v.firstPartAt === null ? null : v.firstPartAt - v.openedAt,
    windowParts: v.partsAtStop - v.partsAtMark,
    windowBytes: v.bytesAtStop - v.bytesAtMark,
    parts: c.parts,
    badParts: c.badParts,
    bytes: c.bytes,
    error: c.error,
    head: c.head,
  };
}

function command(line: string): void {
  if (line === "go" && viewers.length === 0) {
    for (let i = 0; i < count; i++) openViewer();
    checkSettled();
  } else if (line === "mark" && !markAt) {
    markAt = performance.now();
    for (const v of viewers) {
      v.partsAtMark = v.counter.parts;
      v.bytesAtMark = v.counter.bytes;
    }
  } else if (line === "stop" && !stopAt) {
    stopAt = performance.now();
    for (const v of viewers) {
      v.partsAtStop = v.counter.parts;
      v.bytesAtStop = v.counter.bytes;
    }
    if (!markAt) markAt = stopAt;
    send({ type: "result", windowMs: stopAt - markAt, viewers: viewers.map(result) });
    for (const v of viewers) v.socket?.end();
    // Let stdout flush, then leave; the OS closes whatever is left.
    setTimeout(() => process.exit(0), 100);
  }
}

onStdinCommands<string>(command);
setTimeout(() => {
  console.error(`mjpeg-viewers: no stop after ${maxSeconds} s, exiting`);
  process.exit(4);
}, maxSeconds * 1000).unref();
send({ type: "ready" });
