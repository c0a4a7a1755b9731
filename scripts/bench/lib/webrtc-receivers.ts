/**
 * The load generator of webrtc-peers: werift receivers in a process of their
 * own (so that they do not share an event loop, or a core's time slice, with
 * the orchestrator's sampling). Each receiver is the tests' viewer
 * (test/helpers/webrtc-client.ts): vidgear's /offer, announcing 127.0.0.1.
 *
 *   bun run scripts/bench/lib/webrtc-receivers.ts --base http://HOST:PORT --max-seconds S
 *
 * Driven by JSON lines on stdin, answered with JSON lines on stdout (types in
 * webrtc-protocol.ts):
 *   (start)            -> ready
 *   connect {count}    -> that many more peers send their offers at once;
 *                         settled once every peer so far has a frame or failed
 *   mark / stop        -> the measuring window; stop answers result
 *   close              -> every peer tells the server (/close_connection) and closes; closed
 *   leave {peer}       -> that one peer tells the server and closes (soak.ts)
 *   status             -> every peer's state and access units; status
 *   recovery {killAt}  -> how each peer watching at killAt got its picture back (recovery.ts); recovery.
 *                         Needs --track-arrivals: the access units' arrival times are then
 *                         noted (every 10 ms), for 2 minutes
 * It exits when stdin closes, or by itself after --max-seconds.
 */
import { connectViewer, type TestViewer } from "../../../test/helpers/webrtc-client.ts";
import { epochMs, recoveryAfter, trimArrivals, WEBRTC_RULE } from "./recovery.ts";
import type { PeerResult, PeerStatus, ReceiverCommand, ReceiverMessage } from "./webrtc-protocol.ts";
import { answer, childArg, onStdinCommands } from "./stdin-commands.ts";

const base = childArg("webrtc-receivers", "base", false);

// Bun turns an ICMP "port unreachable" (a peer's socket closed on the server while we still
// send to it) into an "error" event on the UDP socket, and werift's sockets have no listener:
// unhandled, it would end this process and every peer in it. Count it and carry on.
let icmpErrors = 0;
process.on("uncaughtException", (err: Error & { code?: string }) => {
  if (err.code === "ECONNREFUSED") {
    icmpErrors++;
    return;
  }
  console.error(`webrtc-receivers: ${err.stack ?? err.message}`);
  process.exit(5);
});
const maxSeconds = Number(childArg("webrtc-receivers", "max-seconds"));
const trackArrivals = process.argv.includes("--track-arrivals");

interface Counts {
  frames: number;
  keyframes: number;
  packets: number;
  gaps: number;
}

interface Receiver {
  viewer: TestViewer | null;
  startedAt: number;
  answeredAt: number | null;
  connectedAt: number | null;
  firstFrameAt: number | null;
  error: string | null;
  at: Counts;
  window: Counts;
  /** Epoch ms when it left (the "leave" command), else null. */
  leftAt: number | null;
  /** With --track-arrivals: epoch ms of its access units (one entry per unit, to within 10 ms). */
  arrivals: number[];
  firstFrameEpoch: number | null;
  seenFrames: number;
}

const receivers: Receiver[] = [];

// connectViewer's POST /offer, timed: keyed by the offer's SDP, which is unique per peer.
// A 503 (the server holds at most 8 unconnected offers per address, and all our peers
// share 127.0.0.1) is retried every OFFER_RETRY_MS for OFFER_RETRY_FOR_MS, as a client
// that reads Retry-After would; the retries are counted.
const offerPosts = new Map<string, { start: number; end: number | null; retries: number }>();
const OFFER_RETRY_MS = 500;
const OFFER_RETRY_FOR_MS = 15_000;
const realFetch = globalThis.fetch;
globalThis.fetch = Object.assign(async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (!url.endsWith("/offer") || typeof init?.body !== "string") return realFetch(input, init);
  let sdp = "";
  try {
    sdp = String((JSON.parse(init.body) as { sdp?: unknown }).sdp ?? "");
  } catch {
    /* not ours */
  }
  const timing = { start: performance.now(), end: null as number | null, retries: 0 };
  offerPosts.set(sdp, timing);
  let res = await realFetch(input, init);
  while (res.status === 503 && performance.now() - timing.start < OFFER_RETRY_FOR_MS) {
    await res.arrayBuffer().catch(() => undefined);
    await Bun.sleep(OFFER_RETRY_MS);
    timing.retries++;
    res = await realFetch(input, init);
  }
  timing.end = performance.now();
  return res;
}, realFetch);
let settledSent = -1;
let markAt = 0;

const send: (message: ReceiverMessage) => void = answer;

const hasFrame = (r: Receiver) => (r.viewer?.received.firstFrameMs ?? null) !== null;

/** Sends "settled" once per connect, when every peer so far has a frame or an error. */
function checkSettled(): void {
  if (settledSent === receivers.length || !receivers.every((r) => hasFrame(r) || r.error !== null)) return;
  settledSent = receivers.length;
  send({ type: "settled", peers: receivers.length, withFrame: receivers.filter(hasFrame).length });
}

const zero = () => ({ frames: 0, keyframes: 0, packets: 0, gaps: 0 });

function counts(r: Receiver): Counts {
  const v = r.viewer?.received;
  return { frames: v?.frames ?? 0, keyframes: v?.keyframes ?? 0, packets: v?.packets ?? 0, gaps: v?.sequenceGaps ?? 0 };
}

function startReceiver(): Receiver {
  const r: Receiver = {
    viewer: null,
    startedAt: performance.now(),
    answeredAt: null,
    connectedAt: null,
    firstFrameAt: null,
    error: null,
    at: zero(),
    window: zero(),
    leftAt: null,
    arrivals: [],
    firstFrameEpoch: null,
    seenFrames: 0,
  };
  receivers.push(r);
  connectViewer(base).then(
    (viewer) => {
      r.viewer = viewer;
      if (r.leftAt !== null) {
        void viewer.close().catch(() => undefined);
        return;
      }
      r.answeredAt = performance.now();
      if (viewer.pc.connectionState === "connected") r.connectedAt = r.answeredAt;
      // The first frame arrives on werift's callbacks: poll the counters (cheap) until it does.
      const poll = setInterval(() => {
        if (hasFrame(r)) r.firstFrameAt ??= performance.now();
        if (hasFrame(r) || r.error !== null) {
          clearInterval(poll);
          checkSettled();
        }
      }, 5);
      viewer.pc.connectionStateChange.subscribe((state) => {
        if (state === "connected") r.connectedAt ??= performance.now();
        if ((state === "failed" || state === "closed") && !hasFrame(r)) r.error ??= `connection ${state} before the first frame`;
      });
    },
    (err: unknown) => {
      r.error = (err as Error).message ?? String(err);
      checkSettled();
    },
  );
  return r;
}

function connect(count: number): void {
  for (let i = 0; i < count; i++) startReceiver();
}

async function probe(): Promise<void> {
  const r = startReceiver();
  const deadline = performance.now() + 10_000;
  while (!hasFrame(r) && r.error === null && performance.now() < deadline) await Bun.sleep(5);
  if (!hasFrame(r)) r.error ??= "no frame within 10 s";
  r.firstFrameAt ??= hasFrame(r) ? performance.now() : null;
  send({ type: "probe", peer: result(r) });
}

function result(r: Receiver): PeerResult {
  const v = r.viewer?.received;
  const since = (t: number | null | undefined) => (t === null || t === undefined ? null : t - r.startedAt);
  const post = offerPosts.get(r.viewer?.pc.localDescription?.sdp ?? "");
  return {
    phases: { offerSent: since(post?.start), answered: since(post?.end), connected: since(r.connectedAt), firstFrame: since(r.firstFrameAt) },
    id: r.viewer?.id ?? null,
    offerRetries: post?.retries ?? 0,
    firstFrameMs: v?.firstFrameMs ?? null,
    startedClean: v?.startedClean ?? null,
    windowFrames: r.window.frames,
    windowKeyframes: r.window.keyframes,
    windowPackets: r.window.packets,
    sequenceGaps: v?.sequenceGaps ?? 0,
    windowGaps: r.window.gaps,
    frames: v?.frames ?? 0,
    error: r.error,
  };
}

/** One peer leaves: tells the server and closes (a peer still connecting closes once it has its answer). */
async function leave(index: number): Promise<void> {
  const r = receivers[index];
  if (!r || r.leftAt !== null) return;
  r.leftAt = epochMs();
  if (!hasFrame(r)) r.error ??= "left before its first frame";
  await Promise.race([r.viewer?.close().catch(() => undefined), Bun.sleep(5000)]);
}

function peerStatus(r: Receiver): PeerStatus {
  return { open: r.leftAt === null, frames: r.viewer?.received.frames ?? 0, hasFrame: hasFrame(r), error: r.error };
}

/** Notes the arrival of each new access unit (polled: the counters are werift callbacks' in connectViewer). */
function noteArrivals(): void {
  const now = epochMs();
  for (const r of receivers) {
    if (r.leftAt !== null) continue;
    const frames = r.viewer?.received.frames ?? 0;
    if (frames === r.seenFrames) continue;
    for (let n = r.seenFrames; n < frames; n++) r.arrivals.push(now);
    r.seenFrames = frames;
    r.firstFrameEpoch ??= now;
    trimArrivals(r.arrivals, 120_000);
  }
}

function recovery(killAt: number): ReceiverMessage {
  const now = epochMs();
  const watching = receivers.filter((r) => r.firstFrameEpoch !== null && r.firstFrameEpoch <= killAt && (r.leftAt === null || r.leftAt > killAt));
  return { type: "recovery", killAt, peers: watching.map((r) => recoveryAfter(r.arrivals, killAt, WEBRTC_RULE, now, r.leftAt)) };
}

async function closeAll(): Promise<void> {
  const open = receivers.filter((r) => r.leftAt === null);
  await Promise.all(open.map((r) => Promise.race([r.viewer?.close().catch(() => undefined), Bun.sleep(5000)])));
}

async function command(c: ReceiverCommand): Promise<void> {
  switch (c.type) {
    case "connect":
      connect(c.count);
      break;
    case "mark":
      markAt = performance.now();
      for (const r of receivers) r.at = counts(r);
      break;
    case "stop": {
      const stopAt = performance.now();
      for (const r of receivers) {
        const now = counts(r);
        r.window = {
          frames: now.frames - r.at.frames,
          keyframes: now.keyframes - r.at.keyframes,
          packets: now.packets - r.at.packets,
          gaps: now.gaps - r.at.gaps,
        };
      }
      send({ type: "result", windowMs: markAt ? stopAt - markAt : 0, peers: receivers.map(result), icmpErrors });
      break;
    }
    case "probe":
      await probe();
      break;
    case "close":
      await closeAll();
      send({ type: "closed" });
      break;
    case "leave":
      void leave(c.peer);
      break; // not awaited: a slow close must not hold up the commands after it
    case "status":
      send({ type: "status", peers: receivers.map(peerStatus), icmpErrors });
      break;
    case "recovery":
      send(recovery(c.killAt));
      break;
  }
}

// Commands run one after another; the orchestrator closing stdin (gone, or done) ends the process at once.
let queue = Promise.resolve();
onStdinCommands<ReceiverCommand>((c) => {
  queue = queue.then(() => command(c)).catch((err: unknown) => console.error(`webrtc-receivers: ${String(err)}`));
});
setTimeout(() => {
  console.error(`webrtc-receivers: still running after ${maxSeconds} s, exiting`);
  process.exit(4);
}, maxSeconds * 1000).unref();
if (trackArrivals) setInterval(noteArrivals, 10);
send({ type: "ready" });
