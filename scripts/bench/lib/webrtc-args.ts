/** Command-line options of webrtc-peers.ts, validated once. */
export interface WebRtcBenchOptions {
  /** Seconds of the measuring window of each round. */
  duration: number;
  /** werift peer counts, one round each. */
  peers: number[];
  /** One Chromium page (in a network namespace of our own) besides the werift peers. */
  browser: boolean;
  /** werift receiver processes sharing a round's peers. */
  clients: number;
  /** Longest wait for every first frame before a window starts, seconds. */
  settle: number;
}

export const USAGE = `usage: bun run scripts/bench/webrtc-peers.ts [options]
  --duration S     measuring window per round, seconds (default 10)
  --peers LIST     werift peer counts, comma-separated (default 1,5,20)
  --no-browser     leave out the Chromium page (no network namespace, no root needed)
  --clients N      werift receiver processes sharing the peers (default 2)
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
  const o: WebRtcBenchOptions = { duration: 10, peers: [1, 5, 20], browser: true, clients: 2, settle: 20 };
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
