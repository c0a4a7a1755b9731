/**
 * What every stream fed by a publisher shares (WHIP: sources/whip/ingest.ts;
 * RTSP ANNOUNCE/RECORD: sources/rtsp-push/ingest.ts): one publisher at a
 * time, its H.264 access units queued for the stream (none skipped: the next
 * pictures refer to them; bounded), a reader that starts at a keyframe, and
 * one capture run per publisher, ending (NO SIGNAL) when it leaves.
 *
 * A subclass makes the publisher sessions (the protocol) and calls `attach`
 * when one is accepted, `push` for each of its frames and `ended` when it ends.
 */
import { log } from "../../log.ts";
import type { Frame } from "../../media/frame.ts";
import { SourceError, type Source } from "../source.ts";

/** Access units waiting for the stream at most (it takes each at once; this only bounds memory). */
const MAX_QUEUE = 120;

export type IngestState = "waiting" | "live";

/** A second publisher while one is live: WHIP 409, RTSP 453. */
export class IngestBusy extends Error {}
/** An offer or announcement that cannot be used: WHIP 400, RTSP 415 or 400. */
export class IngestOfferError extends Error {}

export interface IngestStats {
  readonly endpoint: string;
  readonly state: IngestState;
  /** The publisher's address, null while waiting. */
  readonly publisher: string | null;
  /** Payload bytes received from the current publisher (the last one while waiting). */
  readonly bytes: number;
  /** Payload bytes received from every publisher so far (never goes down). */
  readonly bytesTotal: number;
  readonly frames: number;
  /** Sessions ever accepted. */
  readonly sessions: number;
  /** Access units dropped (loss, before the first keyframe). */
  readonly dropped: number;
}

/** One publisher's session, as the ingest sees it. */
/** How a publisher's own goodbye (WHIP DELETE, RTSP TEARDOWN) begins its reason: an ordinary end, logged as info. */
export const PUBLISHER_ENDED = "the publisher ended the session";

export interface PublisherSession {
  readonly address: string;
  readonly bytes: number;
  readonly frames: number;
  readonly dropped: number;
  /** It has sent media: it holds the stream against a newcomer. */
  readonly connected: boolean;
  readonly ended: boolean;
  readonly endReason: string;
  requestKeyframe(): void;
  end(reason: string): void;
}

export abstract class PushedIngest<S extends PublisherSession> implements Source {
  abstract readonly description: string;
  abstract readonly endpoint: string;
  readonly finite = false;
  readonly restartable = true;
  readonly pushed = true;
  protected session: S | null = null;
  #sessions = 0;
  #queue: Frame[] = [];
  #skipToKeyframe = true;
  /** Runs of frames() going on (none while an --on-demand stream is idle). */
  #readers = 0;
  /** Shutting down: a publisher's end is no news for the log. */
  #closing = false;
  #wake: (() => void) | null = null;
  #lastBytes = 0;
  /** Bytes of the sessions that have ended. */
  #bytesBefore = 0;

  constructor(protected readonly streamName: string) {}

  get state(): IngestState {
    return this.session && !this.session.ended ? "live" : "waiting";
  }

  stats(): IngestStats {
    const s = this.session;
    const live = s !== null && !s.ended;
    return {
      endpoint: this.endpoint,
      state: this.state,
      publisher: live ? s.address : null,
      bytes: s ? s.bytes : this.#lastBytes,
      bytesTotal: this.#bytesBefore + (live ? s.bytes : 0),
      frames: s?.frames ?? 0,
      sessions: this.#sessions,
      dropped: s?.dropped ?? 0,
    };
  }

  /** Throws IngestBusy while a publisher that has sent media holds the stream. */
  protected checkFree(): void {
    const c = this.session;
    if (c && !c.ended && c.connected) throw new IngestBusy(`stream ${this.streamName} already has a publisher (${c.address}); it must stop first`);
  }

  /** Makes `session` the publisher (one that never sent anything is replaced). */
  protected attach(session: S): void {
    this.checkFree();
    const old = this.session;
    if (old && !old.ended) old.end("another publisher came before it sent any video");
    this.#queue = [];
    this.session = session;
    this.#sessions++;
    log.info(`stream ${this.streamName}: publisher ${session.address} connected to ${this.endpoint}`, {
      event: "ingest.publish",
      stream: this.streamName,
      address: session.address,
    });
  }

  requestKeyframe(): void {
    this.session?.requestKeyframe();
  }

  /** Ends the publisher's session (shutdown). */
  close(): void {
    this.#closing = true;
    this.session?.end("the server is stopping");
  }

  /** A session ended (the subclass's sessions call this once). */
  protected ended(session: S, reason: string): void {
    if (this.session !== session) return;
    this.#lastBytes = session.bytes;
    this.#bytesBefore += session.bytes;
    if (!this.#closing && (session.connected || session.frames > 0)) {
      const level = reason.startsWith(PUBLISHER_ENDED) ? log.info : log.warn;
      level(`stream ${this.streamName}: publisher ${session.address} left: ${reason}`, {
        event: "ingest.end",
        stream: this.streamName,
        address: session.address,
      });
    }
    this.#notify();
  }

  /** One access unit of `session`. */
  protected push(session: S, frame: Frame): void {
    if (this.session !== session) return;
    if (this.#readers === 0) {
      // Nobody takes frames (an --on-demand stream without viewers): none kept; the next reader starts at a keyframe.
      this.#skipToKeyframe = true;
      return;
    }
    if (this.#queue.length >= MAX_QUEUE) {
      // The stream is not keeping up (it never should): start again at a keyframe.
      this.#queue = [];
      this.#skipToKeyframe = true;
      session.requestKeyframe();
    }
    const keyframe = frame.kind === "h264" && frame.keyframe;
    if (this.#skipToKeyframe && !keyframe) return;
    this.#skipToKeyframe = false;
    this.#queue.push(frame);
    this.#notify();
  }

  #notify(): void {
    this.#wake?.();
    this.#wake = null;
  }

  /**
   * One run per publisher: waits for one, yields its frames, and throws when
   * it leaves after this run had frames of it (the stream shows NO SIGNAL);
   * a publisher that leaves before any frame is simply waited past.
   */
  async *frames(signal: AbortSignal): AsyncIterable<Frame> {
    const wake = () => this.#notify();
    signal.addEventListener("abort", wake, { once: true });
    this.#readers++;
    this.session?.requestKeyframe(); // a reader that starts mid-stream waits for a keyframe: ask for one now
    try {
      let fed: S | null = null;
      while (!signal.aborted) {
        // Shutting down: no NO SIGNAL round, the stream stops this run itself.
        if (!this.#closing && fed && (fed.ended || fed !== this.session)) throw new SourceError(`publisher ${fed.address} left: ${fed.endReason}`);
        const s = this.session;
        const frame = this.#queue.shift();
        if (s && frame) {
          fed = s;
          yield frame;
          continue;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      this.#readers--;
      signal.removeEventListener("abort", wake);
    }
  }
}
