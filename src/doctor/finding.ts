/**
 * One thing the doctor found: what it is (a stable id), whether it is fine,
 * what it means in a line, the facts behind it, and the one command (or
 * change) that fixes it.
 *
 * - ok: fine.
 * - warn: glasscast runs, but worse than it could (a slower fallback, a
 *   child that may outlive a killed server, an encoder that drops pictures).
 * - fail: something glasscast needs for what it is asked to do is missing or
 *   broken (no ffmpeg, the chosen H.264 encoder missing, the port taken, the
 *   --source camera absent); `glasscast doctor` then exits 1.
 */
export type Status = "ok" | "warn" | "fail";

export interface Finding {
  readonly id: string;
  readonly status: Status;
  readonly summary: string;
  /** Facts behind the summary, when there are any worth telling. */
  readonly detail: string | null;
  /** What to run or change to make it right; null when nothing needs fixing or no single fix exists. */
  readonly fix: string | null;
}

export function finding(id: string, status: Status, summary: string, detail: string | null = null, fix: string | null = null): Finding {
  return { id, status, summary, detail, fix };
}
