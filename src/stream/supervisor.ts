/**
 * Capture supervision: runs a source's frames into the stream and keeps it
 * going. When a live source fails, stops, or delivers nothing for the source
 * timeout (the watchdog), it is restarted with back-off (doubling from the
 * first wait to the longest) while viewers keep their connections and see
 * "NO SIGNAL … RECONNECTING" with how long ago the last frame came; a finite
 * source that ends shows "END OF STREAM"; a pushed source (WHIP ingest) waits
 * for its next publisher. It owns the stream's state, its restart count and
 * the fps meter's frames.
 */
import { log } from "../log.ts";
import type { Frame } from "../media/frame.ts";
import type { Source } from "../sources/source.ts";
import { sleep, type Clock } from "./clock.ts";
import type { FrameRate } from "./frame-rate.ts";
import type { PlaceholderLoop } from "./placeholder-loop.ts";
import { watchRun } from "./watchdog.ts";

export type StreamState = "idle" | "starting" | "running" | "restarting" | "ended" | "failed" | "stopped";

export interface SupervisorOptions {
  /** The stream's name, for log lines and their fields. */
  readonly name: string;
  readonly source: Source;
  /** Restart back-off: first and longest wait, in ms. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly sourceTimeoutMs?: number;
  readonly placeholder: PlaceholderLoop;
  /** The fps meter: counts the source's frames, and the watchdog allows three of its intervals. */
  readonly rate: FrameRate;
  readonly clock: Clock;
  /** Each frame from the source, in order. */
  readonly deliver: (frame: Frame) => void;
}

export const DEFAULT_BACKOFF = { initialMs: 1000, maxMs: 30_000 } as const;
/** A pushed source whose run fails without a frame (its listener cannot start) is started again within this. */
export const PUSHED_MAX_WAIT_MS = 4000;

export class CaptureSupervisor {
  readonly #o: SupervisorOptions;
  #state: StreamState = "starting";
  #restarts = 0;
  #framesCaptured = 0;
  /** When the source's last frame came (clock time; not a placeholder), for "last frame … ago". */
  #lastFrameAt: number | null = null;

  constructor(options: SupervisorOptions) {
    this.#o = options;
  }

  get state(): StreamState {
    return this.#state;
  }
  /** Times the source was restarted (it failed, stopped or went silent). */
  get restarts(): number {
    return this.#restarts;
  }
  get framesCaptured(): number {
    return this.#framesCaptured;
  }
  /** ms since the source's last frame, null before the first. */
  get lastFrameAgeMs(): number | null {
    return this.#lastFrameAt === null ? null : this.#o.clock.now() - this.#lastFrameAt;
  }

  /** Sets the state, except once stopped (for good). */
  setState(state: StreamState): void {
    if (this.#state === "stopped") return;
    this.#state = state;
  }

  /** Runs the source until `signal` aborts (or it ended or failed for good). */
  async run(signal: AbortSignal): Promise<void> {
    const { name, source, placeholder, rate, clock } = this.#o;
    const { initialMs, maxMs } = this.#o.backoff ?? DEFAULT_BACKOFF;
    let wait = initialMs;
    this.setState("starting");
    const pushed = source.pushed === true;
    while (!signal.aborted) {
      let delivered = false;
      // A pushed source waits for its publisher inside frames(): NO SIGNAL until its first frame.
      if (pushed) void placeholder.show(() => ["NO SIGNAL", "WAITING FOR PUBLISHER", this.#lastFrameLine()], signal);
      const run = watchRun(signal, {
        timeoutMs: source.restartable ? this.#o.sourceTimeoutMs : undefined,
        armOnFirstFrame: pushed,
        fps: () => rate.rate(),
        clock,
      });
      try {
        for await (const frame of source.frames(run.signal)) {
          run.fed();
          if (!delivered) {
            delivered = true;
            wait = initialMs;
            rate.reset(); // the gap before a restart is no part of the rate
            placeholder.stop();
            this.setState("running");
          }
          rate.frame();
          this.#framesCaptured++;
          this.#lastFrameAt = clock.now();
          this.#o.deliver(frame);
        }
        if (signal.aborted) break;
        if (pushed) {
          this.#publisherGone(run.stalled ? `no frame for ${run.limitS} s` : `${source.description} ended`);
        } else if (run.stalled) {
          this.#restarting(`${source.description} delivered no frame for ${run.limitS} s`, wait);
        } else if (source.finite) {
          this.setState("ended");
          log.info(`stream ${name}: ${source.description} ended`, { event: "source.end", stream: name });
          await placeholder.show(() => ["END OF STREAM"], signal);
          return;
        } else {
          this.#restarting(`${source.description} stopped`, wait);
        }
      } catch (err) {
        if (signal.aborted) break;
        if (pushed) {
          this.#publisherGone(run.stalled ? `no frame for ${run.limitS} s` : (err as Error).message);
        } else if (!source.restartable) {
          this.setState("failed");
          log.error(`stream ${name}: ${source.description} failed: ${(err as Error).message}`, { event: "source.fail", stream: name });
          await placeholder.show(() => ["NO SIGNAL"], signal);
          return;
        } else {
          this.#restarting(run.stalled ? `no frame for ${run.limitS} s` : (err as Error).message, wait);
        }
      } finally {
        run.done();
      }
      if (pushed) {
        // Waiting again at once after a publisher; a run that failed without any frame (a listener that
        // cannot start) waits a little, never long: a publisher must find the port open soon.
        if (!delivered) {
          await sleep(wait, signal, clock);
          wait = Math.min(wait * 2, PUSHED_MAX_WAIT_MS);
        }
        continue;
      }
      this.setState("restarting");
      await placeholder.show(() => ["NO SIGNAL", "RECONNECTING", this.#lastFrameLine()], signal);
      await sleep(wait, signal, clock);
      wait = Math.min(wait * 2, maxMs);
    }
  }

  /** A pushed source's publisher went away (or its run failed): counted as a restart; the stream waits for the next. */
  #publisherGone(reason: string): void {
    this.#restarts++;
    this.setState("restarting");
    log.warn(`stream ${this.#o.name}: ${reason}; waiting for a publisher`, { event: "source.wait", stream: this.#o.name, restarts: this.#restarts });
  }

  /** One log line per restart, with its reason; counted for /state and /metrics. */
  #restarting(reason: string, waitMs: number): void {
    this.#restarts++;
    log.warn(`stream ${this.#o.name}: ${reason}; restarting in ${waitMs / 1000} s`, {
      event: "source.restart",
      stream: this.#o.name,
      restarts: this.#restarts,
      retry_s: waitMs / 1000,
    });
  }

  #lastFrameLine(): string {
    const age = this.lastFrameAgeMs;
    return age === null ? "NO FRAME YET" : `LAST FRAME ${formatAgo(age)} AGO`;
  }
}

/** "12 S", "3 MIN 5 S", "2 H 3 MIN": how long ago, in the placeholder font's letters. */
export function formatAgo(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} S`;
  if (s < 3600) return `${Math.floor(s / 60)} MIN ${s % 60} S`;
  if (s < 86_400) return `${Math.floor(s / 3600)} H ${Math.floor((s % 3600) / 60)} MIN`;
  return `${Math.floor(s / 86_400)} D ${Math.floor((s % 86_400) / 3600)} H`;
}
