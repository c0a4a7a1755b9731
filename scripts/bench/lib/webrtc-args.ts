/** Command-line options of webrtc-peers.ts: its cli.ts spec table and the cross-checks. */
import { clients, duration, settle } from "./args.ts";
import { cli, list, type Options, type Spec, toggle, UsageError } from "./cli.ts";
import type { ReceiverKind } from "./webrtc-pool.ts";

const RECEIVERS: readonly ReceiverKind[] = ["werift", "aiortc"];

/** --receiver: the receivers' WebRTC stack. */
const receiver: Spec<ReceiverKind> = {
  flag: "receiver",
  arg: "KIND",
  default: "werift",
  help: "werift (Bun, counts access units) or aiortc (Python, decodes every frame)",
  parse: (raw) => {
    if (!RECEIVERS.includes(raw as ReceiverKind)) throw new UsageError(`--receiver: ${JSON.stringify(raw ?? "")} is not allowed; give werift or aiortc`);
    return raw as ReceiverKind;
  },
};

/** --clients: receiver processes; null (not given) means 2 for werift, one per peer for aiortc. */
const receiverClients: Spec<number | null> = {
  ...clients("receiver processes sharing the peers"),
  default: null,
  shown: "2 for werift, one per peer for aiortc",
};

const SPECS = {
  duration: duration(),
  // The server's default --webrtc-max-peers is 50; the page and the late joiner come on top.
  peers: list({ flag: "peers", default: [1, 5, 20], max: 48, help: "receiver peer counts, comma-separated" }),
  receiver,
  /** One Chromium page (in a network namespace of our own) besides the receiver peers. */
  browser: toggle({ flag: "no-browser", sets: false, help: "leave out the Chromium page (no network namespace, no root needed)" }),
  clients: receiverClients,
  /** Measure the floors (ffmpeg alone, the bare send) after each round. */
  floor: toggle({ flag: "no-floor", sets: false, help: "skip the floors (ffmpeg alone doing capture + encode, the bare UDP send) after each round" }),
  /** After each round's floors, the same aiortc peers watching Janus fed by one ffmpeg with glasscast's settings. */
  janus: toggle({
    flag: "janus",
    help: "after each round, the same aiortc peers watching Janus (apt-get install janus), fed by one ffmpeg with glasscast's capture and x264 settings; needs --receiver aiortc, the floors, and root",
  }),
  settle: settle(20),
};

export type WebRtcBenchOptions = Options<typeof SPECS>;

const CLI = cli("webrtc-peers", SPECS, (o) => {
  if (o.janus && o.receiver !== "aiortc") throw new UsageError("--janus: the Janus comparison runs aiortc receivers; add --receiver aiortc");
  if (o.janus && !o.floor) throw new UsageError("--janus: Janus is fed by the ffmpeg-alone floor's command; leave out --no-floor");
});

/** The options, or a UsageError naming the flag; `--help` prints the usage and exits 0. */
export const parseArgs = (argv: string[]): WebRtcBenchOptions => CLI.parse(argv);

/** parseArgs, or a message naming the option and exit code 2. */
export const parseArgsOrExit = (argv: string[]): WebRtcBenchOptions => CLI.parseOrExit(argv);
