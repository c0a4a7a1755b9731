/**
 * The Chromium viewer of webrtc-peers: the index page, which plays WebRTC by
 * itself. Measured: page open → the <video> has a picture (videoWidth > 0),
 * and frames decoded (getVideoPlaybackQuality) over the window.
 */
import type { Browser, Page } from "playwright-core";

const VIDEO = `document.querySelector(".gc-tile video.gc-video")`;
const QUALITY = `(() => { const v = ${VIDEO}; if (!v) return null; const q = v.getVideoPlaybackQuality();
  return { frames: q.totalVideoFrames, dropped: q.droppedVideoFrames, width: v.videoWidth, height: v.videoHeight }; })()`;
const OVERLAY = `document.querySelector(".gc-overlay")?.textContent ?? ""`;

interface Quality {
  frames: number;
  dropped: number;
  width: number;
  height: number;
}

export interface PageFigures {
  /** ms from page.goto to videoWidth > 0; null when no picture came. */
  pictureMs: number | null;
  /** Decoded frames per second over the window. */
  fps: number | null;
  droppedInWindow: number | null;
  /** The lowest fps over one second of the window (sampled each second): a stall shows here. */
  worstSecondFps: number | null;
  size: string | null;
  /** What the page's overlay said about its transport at the end (e.g. "WebRTC"). */
  transport: string;
  error: string | null;
}

export class PageViewer {
  readonly figures: PageFigures = { pictureMs: null, fps: null, droppedInWindow: null, worstSecondFps: null, size: null, transport: "", error: null };
  #mark: { at: number; q: Quality } | null = null;
  #seconds: { at: number; frames: number }[] = [];
  #ticker: ReturnType<typeof setInterval> | null = null;
  readonly ready: Promise<void>;

  private constructor(
    readonly page: Page,
    url: string,
    timeoutMs: number,
  ) {
    this.ready = this.#open(url, timeoutMs);
  }

  /** Opens the page; `ready` resolves once it shows a picture or gave up (see figures.error). */
  static async open(browser: Browser, url: string, timeoutMs: number): Promise<PageViewer> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    return new PageViewer(page, url, timeoutMs);
  }

  async #open(url: string, timeoutMs: number): Promise<void> {
    const opened = performance.now();
    try {
      await this.page.goto(url, { timeout: timeoutMs });
      await this.page.waitForFunction(`${VIDEO}?.videoWidth > 0`, null, { timeout: Math.max(1000, timeoutMs - (performance.now() - opened)), polling: 10 });
      this.figures.pictureMs = performance.now() - opened;
    } catch (err) {
      const overlay = (await this.page.evaluate(OVERLAY).catch(() => "")) as string;
      this.figures.error = `no WebRTC picture within ${timeoutMs / 1000} s${overlay ? ` (the page says: ${overlay.trim().slice(0, 120)})` : ""}: ${(err as Error).message.split("\n")[0]}`;
    }
  }

  async #quality(): Promise<Quality | null> {
    return (await this.page.evaluate(QUALITY).catch(() => null)) as Quality | null;
  }

  async mark(): Promise<void> {
    const q = await this.#quality();
    this.#mark = q ? { at: performance.now(), q } : null;
    if (q) this.#seconds = [{ at: performance.now(), frames: q.frames }];
    this.#ticker = setInterval(() => {
      void this.#quality().then((s) => {
        if (s) this.#seconds.push({ at: performance.now(), frames: s.frames });
      });
    }, 1000);
  }

  async stop(): Promise<void> {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = null;
    const q = await this.#quality();
    const at = performance.now();
    if (q) this.#seconds.push({ at, frames: q.frames });
    const rates = this.#seconds
      .slice(1)
      .map((s, i) => ((s.frames - this.#seconds[i]!.frames) * 1000) / Math.max(1, s.at - this.#seconds[i]!.at))
      .filter((_, i) => this.#seconds[i + 1]!.at - this.#seconds[i]!.at > 500); // the last one may be a short remainder
    this.figures.worstSecondFps = rates.length ? Math.min(...rates) : null;
    if (q && this.#mark) {
      this.figures.fps = ((q.frames - this.#mark.q.frames) * 1000) / (at - this.#mark.at);
      this.figures.droppedInWindow = q.dropped - this.#mark.q.dropped;
    }
    if (q) this.figures.size = `${q.width}x${q.height}`;
    this.figures.transport = ((await this.page.evaluate(OVERLAY).catch(() => "")) as string).trim();
  }

  /** Closing the page fires pagehide: the page closes its own peer on the server. */
  async close(): Promise<void> {
    await this.page.close().catch(() => undefined);
  }
}
