/**
 * Who watches a stream: every MJPEG viewer, snapshot request, WebRTC peer and RTSP session
 * joins when it starts and leaves when it ends. The audience keeps the
 * stream's capture going while anyone watches (--on-demand), logs one line
 * per join and leave, and tells /state and /metrics who is there with their
 * address, frames and skipped frames.
 */
import { log } from "../log.ts";

/** hls: one viewer per client (address and User-Agent) while it keeps fetching (see outputs/hls/hls-output.ts). */
export type Transport = "mjpeg" | "snapshot" | "webrtc" | "rtsp" | "hls";

export interface ViewerInfo {
  readonly id: string;
  readonly transport: Transport;
  readonly address: string;
  /** When it joined (ms since the epoch). */
  readonly since: number;
  /** Frames sent to it (JPEGs, or H.264 access units). */
  readonly frames: number;
  /** Newer frames that came while it was still busy with an older one (a slow viewer skips). */
  readonly skipped: number;
}

export interface Viewer extends ViewerInfo {
  sent(): void;
  skip(n: number): void;
  /** Idempotent. */
  leave(): void;
}

/**
 * A viewer still being let in (a WebRTC offer being answered): it holds the
 * capture already, so the first picture is on its way, but it is counted and
 * logged only once `admit()`ted; `cancel()` (a refused offer) lets go unseen.
 */
export interface Arrival {
  admit(): Viewer;
  /** Idempotent; nothing once admitted (the viewer leaves instead). */
  cancel(): void;
}

/** What an audience holds while it is not empty (the stream's capture). */
export interface Holdable {
  hold(): () => void;
}

let nextId = 1;

export class Audience {
  readonly #viewers = new Set<Viewer>();
  /** Viewers that ever joined, by transport (for counters). */
  readonly joined: Record<Transport, number> = { mjpeg: 0, snapshot: 0, webrtc: 0, rtsp: 0, hls: 0 };
  /** Frames sent to and skipped by viewers that have left, by transport (see totals()). */
  readonly #departed: Record<Transport, { frames: number; skipped: number }> = {
    mjpeg: { frames: 0, skipped: 0 },
    snapshot: { frames: 0, skipped: 0 },
    webrtc: { frames: 0, skipped: 0 },
    rtsp: { frames: 0, skipped: 0 },
    hls: { frames: 0, skipped: 0 },
  };

  constructor(
    readonly stream: string,
    private readonly holdable: Holdable | null = null,
  ) {}

  get size(): number {
    return this.#viewers.size;
  }

  count(transport: Transport): number {
    let n = 0;
    for (const v of this.#viewers) if (v.transport === transport) n++;
    return n;
  }

  /**
   * Frames sent and skipped over every viewer that ever joined on `transport`:
   * those that left plus those still here, so the figures never go down (a
   * Prometheus counter), whoever comes and goes.
   */
  totals(transport: Transport): { frames: number; skipped: number } {
    let { frames, skipped } = this.#departed[transport];
    for (const v of this.#viewers) {
      if (v.transport !== transport) continue;
      frames += v.frames;
      skipped += v.skipped;
    }
    return { frames, skipped };
  }

  list(): ViewerInfo[] {
    return [...this.#viewers].map(({ id, transport, address, since, frames, skipped }) => ({ id, transport, address, since, frames, skipped }));
  }

  join(transport: Transport, address: string): Viewer {
    return this.#enter(transport, address, this.holdable?.hold() ?? null);
  }

  /** Holds the capture for a viewer not yet let in; see Arrival. */
  expect(transport: Transport, address: string): Arrival {
    let release = this.holdable?.hold() ?? null;
    let settled = false;
    return {
      admit: () => {
        if (settled) throw new Error("an arrival is admitted or cancelled once");
        settled = true;
        return this.#enter(transport, address, release);
      },
      cancel: () => {
        if (settled) return;
        settled = true;
        release?.();
        release = null;
      },
    };
  }

  #enter(transport: Transport, address: string, release: (() => void) | null): Viewer {
    const audience = this;
    const viewers = this.#viewers;
    const departed = this.#departed[transport];
    let left = false;
    const viewer: Viewer = {
      id: `${transport[0]}${nextId++}`,
      transport,
      address,
      since: Date.now(),
      frames: 0,
      skipped: 0,
      sent() {
        (this as { frames: number }).frames++;
      },
      skip(n) {
        if (n > 0) (this as { skipped: number }).skipped += n;
      },
      leave() {
        if (left) return;
        left = true;
        viewers.delete(viewer);
        departed.frames += viewer.frames;
        departed.skipped += viewer.skipped;
        release?.();
        if (transport !== "snapshot") {
          log.info(`stream ${audience.stream}: ${transport} viewer left`, {
            event: "viewer.leave",
            stream: audience.stream,
            transport,
            viewer: viewer.id,
            addr: address,
            seconds: Math.round((Date.now() - viewer.since) / 100) / 10,
            frames: viewer.frames,
            skipped: viewer.skipped,
            viewers: audience.count(transport),
          });
        }
      },
    };
    viewers.add(viewer);
    this.joined[transport]++;
    if (transport !== "snapshot") {
      log.info(`stream ${this.stream}: ${transport} viewer joined`, {
        event: "viewer.join",
        stream: this.stream,
        transport,
        viewer: viewer.id,
        addr: address,
        viewers: this.count(transport),
      });
    }
    return viewer;
  }
}
