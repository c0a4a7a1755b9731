/** JSON lines between webrtc-peers.ts (and soak.ts) and their receiver processes (webrtc-receivers.ts). */
import type { Recovery } from "./recovery.ts";

export interface PeerResult {
  /** The server's id of the peer (from /offer), null when the offer failed. */
  id: string | null;
  /** POST /offer answered 503 (too many unconnected offers from one address) and was sent again, this many times. */
  offerRetries?: number;
  /** ms from sending the offer to the first complete access unit (the first picture a decoder could show). */
  firstFrameMs: number | null;
  /** The first access unit was a keyframe with SPS and PPS (a decoder can start there). */
  startedClean: boolean | null;
  /** Complete access units (RTP marker) between "mark" and "stop". */
  windowFrames: number;
  windowKeyframes: number;
  windowPackets: number;
  /** RTP sequence numbers skipped over the peer's whole life (lost or reordered packets). */
  sequenceGaps: number;
  /** The same, between "mark" and "stop". */
  windowGaps: number;
  frames: number;
  /** Where the time to the first frame went, ms from the start of connectViewer (null: did not happen). */
  phases: {
    /** The client's offer was made (werift: certificate, gathering): the POST /offer starts. */
    offerSent: number | null;
    /** POST /offer answered: the server made its answer. */
    answered: number | null;
    /** ICE and DTLS up (connectionState "connected"). */
    connected: number | null;
    /** First complete access unit (polled every 5 ms). */
    firstFrame: number | null;
  };
  error: string | null;
}

/** Orchestrator → receiver process, one per line on stdin. */
export type ReceiverCommand =
  | { type: "connect"; count: number }
  | { type: "mark" }
  | { type: "stop" }
  /** One more peer, alone: answered with "probe" once it has its first frame or failed (10 s at most). */
  | { type: "probe" }
  | { type: "close" }
  /** Peer number `peer` (0 = the process's first, in the order asked for) tells the server and closes. */
  | { type: "leave"; peer: number }
  /** Answered with "status". */
  | { type: "status" }
  /** Answered with "recovery"; needs --track-arrivals. */
  | { type: "recovery"; killAt: number };

/** One peer as "status" describes it. */
export interface PeerStatus {
  /** Asked for and not left (it may still be connecting, or have failed). */
  open: boolean;
  /** Complete access units received. */
  frames: number;
  hasFrame: boolean;
  error: string | null;
}

/** Receiver process → orchestrator, one per line on stdout. */
export type ReceiverMessage =
  | { type: "ready" }
  /** Every peer asked for so far has its first frame or has failed. */
  | { type: "settled"; peers: number; withFrame: number }
  /** icmpErrors: ECONNREFUSED from werift's UDP sockets, survived (see webrtc-receivers.ts). */
  | { type: "result"; windowMs: number; peers: PeerResult[]; icmpErrors: number }
  | { type: "probe"; peer: PeerResult }
  /** Every peer told the server (/close_connection) and closed. */
  | { type: "closed" }
  /** Every peer the process has had, in the order asked for. */
  | { type: "status"; peers: PeerStatus[]; icmpErrors: number }
  /** Each peer that had a frame before killAt and had not left by then: how its picture came back (recovery.ts). */
  | { type: "recovery"; killAt: number; peers: Recovery[] };
