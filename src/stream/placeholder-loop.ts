/**
 * The stream's stand-in picture while the source gives none ("NO SIGNAL",
 * "END OF STREAM"): drawn at the stream's size, encoded once (raw for the
 * H.264 encoder, with its JPEG for MJPEG viewers), and published again each
 * second, re-drawn only when its text changes (the time since the last
 * frame), so that every client and every proxy in between keeps a fresh
 * picture. One shows at a time; stop() ends it when the source delivers.
 */
import { log } from "../log.ts";
import type { RawFrame } from "../media/frame.ts";
import { renderPlaceholder } from "../placeholder/render.ts";
import { realClock, type Clock, type TimerHandle } from "./clock.ts";

export const PLACEHOLDER_REPEAT_MS = 1000;

export interface PlaceholderLoopOptions {
  /** For log lines: "stream NAME". */
  readonly label: string;
  /** The picture size now (the last frame's, or the stream's default). */
  readonly size: () => { readonly width: number; readonly height: number };
  /** Encodes the still (may be slow; works without libjpeg-turbo). */
  readonly encodeStill: (frame: RawFrame) => Promise<Uint8Array>;
  readonly publish: (frame: RawFrame) => void;
  readonly clock?: Clock;
}

export class PlaceholderLoop {
  readonly #options: PlaceholderLoopOptions;
  readonly #clock: Clock;
  /** The loop showing now; an older one's draws are dropped. */
  #current: { timer: TimerHandle | null } | null = null;

  constructor(options: PlaceholderLoopOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  /** Shows `lines` until stop(), another show() or `signal`; resolves once the first picture is out (or could not be made). */
  async show(lines: () => readonly string[], signal: AbortSignal): Promise<void> {
    this.stop();
    const loop: { timer: TimerHandle | null } = { timer: null };
    this.#current = loop;
    let shown: { text: string; picture: RawFrame } | null = null;
    let busy = false;
    const draw = async () => {
      if (busy) return;
      busy = true;
      try {
        const text = lines().join("\n");
        if (shown?.text !== text) {
          const picture = await this.#picture(lines());
          if (picture) shown = { text, picture };
        }
        if (shown && !signal.aborted && this.#current === loop) this.#options.publish(shown.picture);
      } finally {
        busy = false;
      }
    };
    const repeat = () => {
      loop.timer = this.#clock.setTimeout(() => {
        if (this.#current !== loop) return;
        repeat();
        void draw();
      }, PLACEHOLDER_REPEAT_MS);
    };
    repeat();
    await draw();
  }

  stop(): void {
    const loop = this.#current;
    this.#current = null;
    if (loop?.timer) this.#clock.clearTimeout(loop.timer);
  }

  async #picture(lines: readonly string[]): Promise<RawFrame | null> {
    const { width, height } = this.#options.size();
    const raw: RawFrame = { kind: "raw", format: "i420", width, height, data: renderPlaceholder("i420", width, height, lines) };
    try {
      return { ...raw, jpeg: await this.#options.encodeStill(raw) };
    } catch (err) {
      log.warn(`${this.#options.label}: could not make the placeholder picture: ${(err as Error).message}`);
      return null;
    }
  }
}
