/**
 * The soak benchmark's MJPEG viewers: one process holding the viewers of
 * some slots, each a raw TCP `GET /video` (mjpeg-connection.ts) whose every
 * JPEG is looked at (frame-kind.ts): real camera frame, NO SIGNAL picture or
 * broken. The orchestrator (soak.ts) decides when each slot's viewer comes
 * and goes; this process counts what they receive and keeps, per viewer, the
 * arrival times of real frames for the recovery after each kill
 * (recovery.ts).
 *
 *   bun run scripts/bench/lib/soak-mjpeg-viewers.ts --port P --max-seconds S
 *
 * JSON lines on stdin and stdout (types in soak-protocol.ts): ready at start;
 * open / close a slot's viewer; status → totals; recovery → one outcome per
 * viewer that had a real frame before the kill and was still connected then.
 * It exits when stdin closes, or by itself after --max-seconds.
 */
import { FrameClassifier } from "./frame-kind.ts";
import { connectMjpeg } from "../../../src/bench/mjpeg-connection.ts";
import { MjpegCounter } from "../../../src/bench/mjpeg-counter.ts";
import { epochMs, MJPEG_RULE, recoveryAfter, trimArrivals } from "./recovery.ts";
import type { SoakViewerCommand, SoakViewerMessage } from "./soak-protocol.ts";
import { answer, childArg, onStdinCommands } from "./stdin-commands.ts";

const port = Number(childArg("soak-mjpeg-viewers", "port"));
const maxSeconds = Number(childArg("soak-mjpeg-viewers", "max-seconds"));
/** Real-frame arrivals (and closed viewers) are kept this long: longer than any recovery question. */
const KEEP_MS = 120_000;
/** An open viewer without any part for this long is stuck (even NO SIGNAL comes once a second). */
const STUCK_MS = 3000;

interface Viewer {
  slot: number;
  counter: MjpegCounter;
  socket: { end(): void } | null;
  openedAt: number;
  closedAt: number | null;
  /** Epoch ms of real frames that differ from the viewer's previous real frame. */
  arrivals: number[];
  firstRealAt: number | null;
  lastHash: bigint | null;
  /** Epoch ms of its last part of any kind (open time until the first). */
  lastPartAt: number;
  failed: boolean;
}

const classifier = new FrameClassifier();
const current = new Map<number, Viewer>();
/** Viewers that were closed less than KEEP_MS ago (they may be asked about a kill). */
let closed: Viewer[] = [];
const totals = { real: 0, repeats: 0, placeholders: 0, broken: 0, closedBytes: 0, closedSeconds: 0, failures: 0 };
let lastFailure: string | null = null;

const send = (message: SoakViewerMessage): void => answer(message);

function retire(v: Viewer): void {
  if (v.closedAt !== null) return;
  v.closedAt = epochMs();
  if (current.get(v.slot) === v) current.delete(v.slot);
  totals.closedBytes += v.counter.bytes;
  totals.closedSeconds += (v.closedAt - v.openedAt) / 1000;
  closed.push(v);
}

function open(slot: number): void {
  if (current.has(slot)) return;
  const counter = new MjpegCounter(true);
  const v: Viewer = {
    slot,
    counter,
    socket: null,
    openedAt: epochMs(),
    closedAt: null,
    arrivals: [],
    firstRealAt: null,
    lastHash: null,
    lastPartAt: epochMs(),
    failed: false,
  };
  counter.onPart = (body) => {
    if (!body) return;
    v.lastPartAt = epochMs();
    const { kind, hash } = classifier.classify(body);
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
  };
  current.set(slot, v);
  connectMjpeg(port, counter, {
    opened: (socket) => {
      v.socket = socket;
    },
    failed: (message) => {
      if (v.failed || v.closedAt !== null) return;
      v.failed = true;
      totals.failures++;
      lastFailure = message;
      v.socket?.end();
      retire(v);
    },
    closing: () => v.closedAt !== null,
  });
}

function close(slot: number): void {
  const v = current.get(slot);
  if (!v) return;
  retire(v);
  v.socket?.end();
}

function status(): SoakViewerMessage {
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
    lastBroken: classifier.lastBroken,
    bytes: totals.closedBytes + live.reduce((sum, v) => sum + v.counter.bytes, 0),
    viewerSeconds: totals.closedSeconds + live.reduce((sum, v) => sum + (now - v.openedAt) / 1000, 0),
    failures: totals.failures,
    lastFailure,
    decoded: classifier.decoded,
  };
}

function recovery(killAt: number): SoakViewerMessage {
  const now = epochMs();
  const watching = [...current.values(), ...closed].filter(
    (v) => v.firstRealAt !== null && v.firstRealAt <= killAt && (v.closedAt === null || v.closedAt > killAt),
  );
  return { type: "recovery", killAt, viewers: watching.map((v) => recoveryAfter(v.arrivals, killAt, MJPEG_RULE, now, v.closedAt)) };
}

function command(c: SoakViewerCommand): void {
  switch (c.type) {
    case "open":
      open(c.slot);
      break;
    case "close":
      close(c.slot);
      break;
    case "status":
      send(status());
      break;
    case "recovery":
      send(recovery(c.killAt));
      break;
  }
}

onStdinCommands<SoakViewerCommand>(command);
setTimeout(() => {
  console.error(`soak-mjpeg-viewers: still running after ${maxSeconds} s, exiting`);
  process.exit(4);
}, maxSeconds * 1000).unref();
send({ type: "ready" });
