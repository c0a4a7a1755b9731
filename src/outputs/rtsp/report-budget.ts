/**
 * What a player may send over its RTSP connection between requests: its RTCP
 * receiver reports, interleaved. A player sends one every few seconds (RFC 3550
 * 6.2: RTCP takes 5 % of the session's bandwidth at most, shared by everyone
 * in it), so a player past this budget is feeding the parser for nothing — tiny
 * frames cost the most per byte, and the parser runs on the thread that serves
 * every other viewer. Publishers (RECORD) send their media this way and are not
 * held to it.
 *
 * A token bucket in frames and in bytes: a steady rate, and a burst of a few
 * seconds of it for a client that sends its reports in a bunch.
 */

/** Interleaved frames a second a player may send, held over the burst. */
export const REPORT_FRAMES_PER_S = 100;
/** Interleaved bytes a second a player may send, held over the burst. */
export const REPORT_BYTES_PER_S = 64 * 1024;
/** Seconds of the rates above that may come at once. */
const BURST_S = 4;

export class ReportBudget {
  #frames = REPORT_FRAMES_PER_S * BURST_S;
  #bytes = REPORT_BYTES_PER_S * BURST_S;
  #at: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.#at = now();
  }

  /** Takes one frame of `bytes` from the budget; false when the client has spent it. */
  take(bytes: number): boolean {
    const t = this.now();
    const s = Math.max(0, t - this.#at) / 1000;
    this.#at = t;
    this.#frames = Math.min(REPORT_FRAMES_PER_S * BURST_S, this.#frames + s * REPORT_FRAMES_PER_S) - 1;
    this.#bytes = Math.min(REPORT_BYTES_PER_S * BURST_S, this.#bytes + s * REPORT_BYTES_PER_S) - bytes;
    return this.#frames >= 0 && this.#bytes >= 0;
  }
}
