/** JSON lines a viewer process (mjpeg-viewers.ts) writes to the orchestrator. */
import type { ResponseHead } from "../../../src/bench/mjpeg-counter.ts";

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

export type ViewerMessage = { type: "ready" } | { type: "settled"; withFrame: number } | { type: "result"; windowMs: number; viewers: ViewerResult[] };
