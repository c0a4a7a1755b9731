/** JSON lines between the MJPEG viewer processes (mjpeg-viewers.ts) and their orchestrator (viewer-pool.ts). */
import type { ResponseHead } from "../../../src/bench/mjpeg-counter.ts";
import type { Recovery } from "./recovery.ts";

/** A fan-out round's commands, orchestrator → viewer process. */
export type FanoutCommand = "go" | "mark" | "stop";

export interface ViewerResult {
  /** From just before the connect call to the end of the first complete JPEG part. */
  firstFrameMs: number | null;
  /** Complete parts received between "mark" and "stop". */
  windowParts: number;
  /** Bytes received between "mark" and "stop". */
  windowBytes: number;
  parts: number;
  badParts: number;
  bytes: number;
  error: string | null;
  head: ResponseHead | null;
}

/** The soak's commands (--classify), orchestrator → viewer process. */
export type SlotCommand =
  /** Connect the viewer of this slot (nothing if it is connected). */
  | { type: "open"; slot: number }
  /** Disconnect it (nothing if it is not connected). */
  | { type: "close"; slot: number }
  | { type: "status" }
  /** How each viewer that was watching at killAt (epoch ms) got its picture back. */
  | { type: "recovery"; killAt: number };

/** Totals over every viewer the process ever had. */
export interface SlotStatus {
  type: "status";
  /** Connections open now. */
  open: number;
  /** Open connections that have had a part (any kind). */
  withPicture: number;
  /** Open connections without any part for 3 s (the server forgot them, or stopped sending). */
  stuck: number;
  /** Real camera frames, each differing from the viewer's previous one. */
  real: number;
  /** Real camera frames identical to the viewer's previous one. */
  repeats: number;
  /** NO SIGNAL pictures. */
  placeholders: number;
  /** Parts that are no decodable JPEG. */
  broken: number;
  lastBroken: string | null;
  /** Bytes read. */
  bytes: number;
  /** Seconds of connection, all viewers together. */
  viewerSeconds: number;
  /** Connections that failed or were closed by the server (not by us), and the last message. */
  failures: number;
  lastFailure: string | null;
  /** Distinct JPEGs decoded to tell them apart. */
  decoded: number;
}

/** Viewer process → orchestrator, one per line on stdout. */
export type ViewerMessage =
  | { type: "ready" }
  | { type: "settled"; withFrame: number }
  | { type: "result"; windowMs: number; viewers: ViewerResult[] }
  | SlotStatus
  | { type: "recovery"; killAt: number; viewers: Recovery[] };
