/** Command-line options of webrtc-peers.ts, validated once. */
import type { ReceiverKind } from "./webrtc-pool.ts";

export interface WebRtcBenchOptions {
  /** Seconds of the measuring window of each round. */
  duration: number;
  /** werift peer counts, one round each. */
  peers: number[];
  /** One Chromium page (in a network namespace of our own) besides the werift peers. */
  browser: boolean;
  /** Receiver processes sharing a round's peers; null: 2 for werift, one per peer for aiortc. */
  clients: number | null;
  /** The receivers' WebRTC stack. */
  receiver: ReceiverKind;
  /** Measure the floors (ffmpeg alone, the bare send) after each round. */
  floor: boolean;
  /** After each round's floors, the same aiortc peers watching Janus fed by one ffmpeg with glasscast's settings. */
  janus: boolean;
  /** Longest wait for every first frame before a window starts, seconds. */
  settle: number;
}

export const USAGE = `usage: bun run scripts/bench/webrtc-peers.ts [options]
  --duration S     measuring window per round, seconds (default 10)
  --peers LIST     receiver peer counts, comma-separated (default 1,5,20)
  --receiver KIND  werift (Bun, counts access units) or aiortc (Python, decodes every frame) (default werift)
  --no-browser     leave out the Chromium page (no network namespace, no root needed)
  --clients N      receiver processes sharing the peers (default 2 for werift, one per peer for aiortc)
  --no-floor       skip the floors (ffmpeg alone doing capture + encode, the bare UDP send) after each round
  --janus          after each round, the same aiortc peers watching Janus (apt-get install janus), fed by one
                   ffmpeg with glasscast's capture and x264 settings; needs --receiver aiortc, the floors, and root
  --settle S       longest wait for every first frame before a window (default 20)`;

class UsageError extends Error {}

function positive(name: string, raw: string | undefined, integer: boolean, max: number): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === "" || !Number.isFinite(value) || value <= 0 || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name}: ${JSON.stringify(raw ?? "")} is not allowed; give a positive ${integer ? "whole number" : "number"} up to ${max}`);
  }
  return value;
}

export function parseArgs(argv: string[]): WebRtcBenchOptions {
  const o: WebRtcBenchOptions = { duration: 10, peers: [1, 5, 20], browser: true, clients: null, receiver: "werift", floor: true, janus: false, settle: 20 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--duration":
        o.duration = positive("duration", value(), false, 3600);
        break;
      // The server's default --webrtc-max-peers is 50; the page and the late joiner come on top.
      case "--peers":
        o.peers = (value() ?? "").split(",").map((v) => positive("peers", v.trim(), true, 48));
        break;
      case "--no-browser":
        o.browser = false;
        break;
      case "--browser":
        o.browser = true;
        break;
      case "--clients":
        o.clients = positive("clients", value(), true, 16);
        break;
      case "--receiver": {
        const kind = value();
        if (kind !== "werift" && kind !== "aiortc") throw new UsageError(`--receiver: ${JSON.stringify(kind ?? "")} is not allowed; give werift or aiortc`);
        o.receiver = kind;
        break;
      }
      case "--janus":
        o.janus = true;
        break;
      case "--no-floor":
        o.floor = false;
        break;
      case "--settle":
        o.settle = positive("settle", value(), false, 120);
        break;
      case "-h":
      case "--help":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    }
  }
  if (o.janus && o.receiver !== "aiortc") throw new UsageError("--janus: the Janus comparison runs aiortc receivers; add --receiver aiortc");
  if (o.janus && !o.floor) throw new UsageError("--janus: Janus is fed by the ffmpeg-alone floor's command; leave out --no-floor");
  return o;
}

/** parseArgs, or a message naming the option and exit code 2. */
export function parseArgsOrExit(argv: string[]): WebRtcBenchOptions {
  try {
    return parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`webrtc-peers: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
}
