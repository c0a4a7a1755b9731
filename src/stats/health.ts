/**
 * What "healthy" means for /healthz, stream by stream:
 *
 * - running: healthy while frames keep coming; unhealthy once the last one is
 *   older than STALE_FRAME_MS (or three frame intervals of a slow source):
 *   the source hangs, and will be restarted after --source-timeout.
 * - starting: healthy; a source that delivers nothing is turned into
 *   "restarting" by the source timeout.
 * - idle: healthy; an on-demand stream that nobody watches captures nothing.
 * - ended: healthy; a file (or a program's frames) played to its end.
 * - restarting: unhealthy; the source failed, stopped or went silent and is
 *   being restarted.
 * - failed: unhealthy; a source that cannot be restarted failed.
 * - stopped: unhealthy; the server is shutting down.
 */
import type { StreamStats } from "../stream/stream.ts";

/** A running stream whose last frame is older than this (and than three frame intervals) is unhealthy. */
export const STALE_FRAME_MS = 5000;

export interface StreamProblem {
  readonly name: string;
  readonly state: string;
  readonly reason: string;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** Why a stream is unhealthy, or null when it is healthy. */
export function streamProblem(s: StreamStats): StreamProblem | null {
  const problem = (reason: string) => ({ name: s.name, state: s.state, reason });
  const age = s.lastFrameAgeMs;
  switch (s.state) {
    case "running": {
      const limit = Math.max(STALE_FRAME_MS, s.fps > 0 ? 3000 / s.fps : 0);
      return age !== null && age > limit ? problem(`no frame from ${s.source} for ${seconds(age)}`) : null;
    }
    case "starting":
    case "idle":
    case "ended":
      return null;
    case "restarting":
      return problem(
        `${s.source} stopped delivering frames${age === null ? "" : ` ${seconds(age)} ago`}; restarting it (${s.restarts} ${s.restarts === 1 ? "restart" : "restarts"} so far)`,
      );
    case "failed":
      return problem(`${s.source} failed and cannot be restarted`);
    case "stopped":
      return problem("the server is shutting down");
    default:
      return problem(`unknown state ${s.state as string}`);
  }
}
