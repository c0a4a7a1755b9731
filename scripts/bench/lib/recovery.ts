/**
 * When did a viewer get its picture back after the capture was killed? From
 * the arrival times of its pictures (epoch ms, the same clock in every
 * process): the outage is the first gap of at least `gapMs` that ends after
 * the kill, and the viewer is back at the first arrival after that gap that
 * starts a run of `run` arrivals, each within `runGapMs` of the one before.
 *
 * MJPEG viewers count only real camera frames (frame-kind.ts tells them from
 * the NO SIGNAL picture), so one arrival is enough. WebRTC peers also receive
 * the NO SIGNAL picture, encoded, once a second; only a run at the camera's
 * frame rate counts there (a run may start on the last placeholder if the
 * camera's first frame follows it within `runGapMs`).
 */

export interface RecoveryRule {
  /** A pause between two arrivals at least this long is the outage (ms). */
  gapMs: number;
  /** Arrivals in a row, each within runGapMs of the one before, that make the picture "back". */
  run: number;
  runGapMs: number;
}

/** Real camera frames on MJPEG: the first one after the outage. */
export const MJPEG_RULE: RecoveryRule = { gapMs: 400, run: 1, runGapMs: 0 };
/** H.264 access units on WebRTC: 5 in a row at 7 fps or more (the NO SIGNAL picture comes at 1 fps). */
export const WEBRTC_RULE: RecoveryRule = { gapMs: 400, run: 5, runGapMs: 150 };

/**
 * What one viewer did after a kill:
 * - back: its picture returned `ms` after the kill;
 * - waiting: the outage was seen, no picture since;
 * - no-outage: no gap of gapMs after the kill (it kept its picture, or has had no arrival yet);
 * - left: it disconnected before its picture came back.
 */
export type Recovery = { kind: "back"; ms: number } | { kind: "waiting" } | { kind: "no-outage" } | { kind: "left" };

/** ms since the epoch with sub-ms resolution; comparable between processes. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** `arrivals` ascending; `now` is when the question is asked (a pause up to now counts as a gap). */
export function recoveryAfter(arrivals: readonly number[], killAt: number, rule: RecoveryRule, now: number, closedAt: number | null): Recovery {
  let i = 0;
  while (i < arrivals.length && arrivals[i]! <= killAt) i++;
  let prev = i > 0 ? arrivals[i - 1]! : null;
  // The outage: the first gap of at least gapMs that ends after the kill.
  let start = -1;
  for (let j = i; j < arrivals.length; j++) {
    if (prev !== null && arrivals[j]! - prev >= rule.gapMs) {
      start = j;
      break;
    }
    prev = arrivals[j]!;
  }
  if (start < 0) {
    // No pause has ended yet: one still going on (or too short to tell from a viewer that left), or none at all.
    if (closedAt !== null) return { kind: "left" };
    const last = arrivals.length ? arrivals[arrivals.length - 1]! : null;
    const silent = last === null || now - Math.max(last, killAt) >= rule.gapMs;
    return silent ? { kind: "waiting" } : { kind: "no-outage" };
  }
  for (let j = start; j + rule.run - 1 < arrivals.length; j++) {
    let ok = true;
    for (let k = j + 1; k < j + rule.run && ok; k++) ok = arrivals[k]! - arrivals[k - 1]! <= rule.runGapMs;
    if (ok) return { kind: "back", ms: arrivals[j]! - killAt };
  }
  return closedAt !== null ? { kind: "left" } : { kind: "waiting" };
}

/** Keeps only the arrivals newer than `keepMs` before the newest one (in place). */
export function trimArrivals(arrivals: number[], keepMs: number): void {
  if (arrivals.length < 4096) return;
  const limit = arrivals[arrivals.length - 1]! - keepMs;
  let drop = 0;
  while (drop < arrivals.length && arrivals[drop]! < limit) drop++;
  arrivals.splice(0, drop);
}
