import type { Frame } from "../media/frame.ts";

/**
 * A producer of frames. A Stream iterates `frames()` once per capture run:
 * the iteration ending means the source ended (a finite file), throwing means
 * it failed (it will be restarted with back-off if it is live).
 *
 * Sources may hand over raw pictures, ready JPEGs (passed through to MJPEG
 * viewers untouched) or H.264 access units (passed through to WebRTC).
 * A raw frame's data may be reused by the source once the next frames have
 * been yielded; consumers that keep it longer copy it.
 */
export interface Source {
  /** Shown in logs and pages. */
  readonly description: string;
  /** A finite source (file, image sequence) ends; a live one is restarted when it stops. */
  readonly finite: boolean;
  /** False for a source that cannot run twice (a program's own frames): when it fails it stays down. */
  readonly restartable: boolean;
  /**
   * Fed from outside (a WHIP publisher): `frames()` waits for input as long
   * as it takes (no source timeout; it notices silence itself), and a run
   * that throws is followed at once by the next, which waits again; the
   * stream shows NO SIGNAL while it waits.
   */
  readonly pushed?: boolean;
  /** Asks an H.264 source for a keyframe soon (a publisher gets RTCP PLI), when a decoder starts. */
  requestKeyframe?(): void;
  frames(signal: AbortSignal): AsyncIterable<Frame>;
}

/** A capture run that failed; `message` is meant for the log. */
export class SourceError extends Error {}
