/**
 * The benchmarks' MJPEG viewers: one process holding some viewers, each a
 * raw TCP `GET /video` (mjpeg-connection.ts, mjpeg-counter.ts). Two ways to
 * drive it, both JSON lines on stdin and stdout (types in viewer-protocol.ts):
 *
 * A fan-out round (viewer-pool.ts runRound; mjpeg-fanout, rtsp-fanout, …):
 *   bun run scripts/bench/lib/mjpeg-viewers.ts --port P --count N --max-seconds S
 *   (start)  -> {"type":"ready"}
 *   go       -> opens N viewers; {"type":"settled"} once every one has its
 *               first frame or has failed
 *   mark     -> the measuring window starts (part counters are noted)
 *   stop     -> the window ends; {"type":"result"} and the process exits
 *
 * The soak's slots (viewer-pool.ts SlotPool), with --classify: every JPEG is
 * looked at (frame-kind.ts: real camera frame, NO SIGNAL picture or broken)
 * and each viewer keeps the arrival times of its real frames for the
 * recovery after each kill (recovery.ts):
 *   open / close a slot's viewer; status -> totals; recovery -> one outcome
 *   per viewer that had a real frame before the kill and was connected then.
 *
 * It exits when stdin closes, or by itself after --max-seconds.
 */
import { connectMjpeg } from "../../../src/bench/mjpeg-connection.ts";
import { MjpegCounter } from "../../../src/bench/mjpeg-counter.ts";
import { FrameClassifier } from "./frame-kind.ts";
import { epochMs, MJPEG_RULE, recoveryAfter, trimArrivals } from "./recovery.ts";
import { answer, childArg, onStdinCommands } from "./stdin-commands.ts";
import type { FanoutCommand, SlotCommand, ViewerMessage, ViewerResult } from "./viewer-protocol.ts";

const port = Number(childArg("mjpeg-viewers", "port"));
const maxSeconds = Number(childArg("mjpeg-viewers", "max-seconds"));
const classifier = process.argv.includes("--classify") ? new FrameClassifier() : null;
/** Real-frame arrivals (and closed viewers) are kept this long: longer than any recovery question. */
const KEEP_MS = 120_000;
/** An open viewer without any part for this long is stuck (even NO SIGNAL comes once a second). */
const STUCK_MS = 3000;

interface Viewer {
  slot: number;
  counter: MjpegCounter;
  socket: { end(): void } | null;
  /** Epoch ms (recovery.ts epochMs) of the connect call, of the first part, of the last part (open time until the first). */
  openedAt: number;
  firstPartAt: number | null;
  lastPartAt: number;
  closedAt: number | null;
  failed: boolean;
  partsAtMark: number;
  partsAtStop: number;
  bytesAtMark: number;
  bytesAtStop: number;
  /** --classify: epoch ms of real frames that differ from the viewer's previous real frame. */
  arrivals: number[];
  firstRealAt: number | null;
  lastHash: bigint | null;
}

const current = new Map<number, Viewer>();
/** Viewers that were closed less than KEEP_MS ago (they may be asked about a kill). */
let closed: Viewer[] = [];
const totals = { real: 0, repeats: 0, placeholders: 0, broken: 0, closedBytes: 0, closedSeconds: 0, failures: 0 };
let lastFailure: string | null = null;
/** The fan-out round's viewers ("go"), failed ones included. */
const round: Viewer[] = [];
let settledSent = false;
let markAt = 0;
let stopAt = 0;

const send = (message: ViewerMessage): void => answer(message);

function checkSettled(): void {
  const count = round.length;
  if (settledSent || count === 0 || !round.every((v) => v.firstPartAt !== null || v.failed)) return;
  settledSent = true;
  send({ type: "settled", withFrame: round.filter((v) => v.firstPartAt !== null).length });
}

function retire(v: Viewer): void {
  if (v.closedAt !== null) return;
  v.closedAt = epochMs();
  if (current.get(v.slot) === v) current.delete(v.slot);
  totals.closedBytes += v.counter.bytes;
  totals.closedSeconds += (v.closedAt - v.openedAt) / 1000;
  if (classifier) closed.push(v);
}

/** Looks at one JPEG (--classify): a real frame's arrival is kept unless it repeats the viewer's last one. */
function classify(v: Viewer, c: FrameClassifier, body: Uint8Array): void {
  const { kind, hash } = c.classify(body);
  if (kind === "placeholder") totals.placeholders++;
  else if (kind === "broken") totals.broken++;
  else if (hash === v.lastHash) totals.repeats++;
  else {
    const now = epochMs();
    totals.real++;
    v.lastHash = hash;
    v.firstRealAt ??= now;
    v.arrivals.push(now);
    trimArrivals(v.arrivals, KEEP_MS);
  }
}

function open(slot: number): Viewer | null {
  if (current.has(slot)) return null;
  const counter = new MjpegCounter(classifier !== null);
  const now = epochMs();
  const v: Viewer = {
    slot,
    counter,
    socket: null,
    openedAt: now,
    firstPartAt: null,
    lastPartAt: now,
    closedAt: null,
    failed: false,
    partsAtMark: 0,
    partsAtStop: 0,
    bytesAtMark: 0,
    bytesAtStop: 0,
    arrivals: [],
    firstRealAt: null,
    lastHash: null,
  };
  counter.onPart = (body) => {
    v.lastPartAt = epochMs();
    if (v.firstPartAt === null) {
      v.firstPartAt = v.lastPartAt;
      checkSettled();
    }
    if (classifier && body) classify(v, classifier, body);
  };
  current.set(slot, v);
  connectMjpeg(port, counter, {
    opened: (socket) => {
      v.socket = socket;
    },
    failed: (message) => {
      if (v.failed || v.closedAt !== null) return;
      v.failed = true;
      counter.error ??= message;
      totals.failures++;
      lastFailure = message;
      v.socket?.end();
      retire(v);
      checkSettled();
    },
    closing: () => stopAt !== 0 || v.closedAt !== null,
  });
  return v;
}

function close(slot: number): void {
  const v = current.get(slot);
  if (!v) return;
  retire(v);
  v.socket?.end();
}

function status(): ViewerMessage {
  const now = epochMs();
  const live = [...current.values()];
  closed = closed.filter((v) => now - v.closedAt! < KEEP_MS);
  return {
    type: "status",
    open: live.filter((v) => v.socket !== null).length,
    withPicture: live.filter((v) => v.counter.parts > 0).length,
    stuck: live.filter((v) => v.socket !== null && now - v.lastPartAt > STUCK_MS).length,
    real: totals.real,
    repeats: totals.repeats,
    placeholders: totals.placeholders,
    broken: totals.broken,
    lastBroken: classifier?.lastBroken ?? null,
    bytes: totals.closedBytes + live.reduce((sum, v) => sum + v.counter.bytes, 0),
    viewerSeconds: totals.closedSeconds + live.reduce((sum, v) => sum + (now - v.openedAt) / 1000, 0),
    failures: totals.failures,
    lastFailure,
    decoded: classifier?.decoded ?? 0,
  };
}

function recovery(killAt: number): ViewerMessage {
  const now = epochMs();
  const watching = [...current.values(), ...closed].filter(
    (v) => v.firstRealAt !== null && v.firstRealAt <= killAt && (v.closedAt === null || v.closedAt > killAt),
  );
  return { type: "recovery", killAt, viewers: watching.map((v) => recoveryAfter(v.arrivals, killAt, MJPEG_RULE, now, v.closedAt)) };
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

function fanout(c: FanoutCommand): void {
  if (c === "go" && round.length === 0) {
    const count = Number(childArg("mjpeg-viewers", "count"));
    for (let slot = 0; slot < count; slot++) round.push(open(slot)!);
    checkSettled();
  } else if (c === "mark" && !markAt) {
    markAt = performance.now();
    for (const v of round) {
      v.partsAtMark = v.counter.parts;
      v.bytesAtMark = v.counter.bytes;
    }
  } else if (c === "stop" && !stopAt) {
    stopAt = performance.now();
    for (const v of round) {
      v.partsAtStop = v.counter.parts;
      v.bytesAtStop = v.counter.bytes;
    }
    if (!markAt) markAt = stopAt;
    send({ type: "result", windowMs: stopAt - markAt, viewers: round.map(result) });
    for (const v of round) v.socket?.end();
    // Let stdout flush, then leave; the OS closes whatever is left.
    setTimeout(() => process.exit(0), 100);
  }
}

function slots(c: SlotCommand): void {
  if (c.type === "open") open(c.slot);
  else if (c.type === "close") close(c.slot);
  else if (c.type === "status") send(status());
  else send(recovery(c.killAt));
}

onStdinCommands<FanoutCommand | SlotCommand>((c) => (typeof c === "string" ? fanout(c) : slots(c)));
setTimeout(() => {
  console.error(`mjpeg-viewers: still running after ${maxSeconds} s, exiting`);
  process.exit(4);
}, maxSeconds * 1000).unref();
send({ type: "ready" });
