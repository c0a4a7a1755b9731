/**
 * A stream's pictures, the mirror of its H.264 feed: the newest frame
 * decoded if need be, transformed, and JPEG-encoded, each at most once per
 * frame whatever the number of viewers. A ready JPEG is handed out
 * untouched. A source that gives H.264 only (a camera) is decoded while
 * someone asks for pictures (MJPEG viewers, snapshots): the decoder starts
 * on the first ask and stops DECODER_IDLE_MS after the last (a lease). A
 * transform on a source that gives JPEGs decodes them first.
 */
import type { JpegEncoder } from "../encoders/jpeg-encoder.ts";
import { log } from "../log.ts";
import type { Frame, JpegFrame, RawFrame } from "../media/frame.ts";
import { Lease } from "./lease.ts";
import type { Clock } from "./clock.ts";

/** Runs once per raw frame, before it is encoded: change it in place or return another. */
export type FrameTransform = (frame: RawFrame) => RawFrame | void;

/** Turns a stream's H.264 into pictures (see encoders/h264-decoder.ts). */
export interface PictureDecoder {
  write(accessUnit: Uint8Array, keyframe: boolean): void;
  stop(): Promise<void>;
}
export type StartPictureDecoder = (onPicture: (frame: RawFrame) => void) => PictureDecoder;
/** Decodes a JPEG into a raw picture, valid until the next call (see encoders/jpeg-decoder.ts). */
export type DecodeJpeg = (jpeg: Uint8Array) => RawFrame;

export interface EncodedFrame extends JpegFrame {
  /** The stream sequence number of the frame this JPEG shows. */
  readonly seq: number;
}

/** The newest frame and its number (the stream's frame slot). */
export interface FrameSlot {
  readonly latest: Frame | null;
  readonly seq: number;
}

export interface PictureFeedOptions {
  /** For log lines: "stream NAME". */
  readonly label: string;
  /** Encodes raw frames on the hot path; null when the source only gives JPEGs. */
  readonly encoder: JpegEncoder | null;
  readonly transform?: FrameTransform;
  readonly startPictureDecoder?: StartPictureDecoder;
  readonly decodeJpeg?: DecodeJpeg;
  /** Asks the source for a keyframe soon (a decoder can only start at one). */
  readonly requestKeyframe?: () => void;
  readonly clock?: Clock;
}

/** The H.264 decoder stops when no picture was asked for this long. */
export const DECODER_IDLE_MS = 5000;

export class PictureFeed {
  readonly #slot: FrameSlot;
  readonly #options: PictureFeedOptions;
  #picture: { seq: number; frame: Frame } | null = null;
  #jpeg: EncodedFrame | null = null;
  /** The picture #jpeg was made from. */
  #jpegOf: Frame | null = null;
  #jpegEncoded = 0;
  #jpegEncodeMs = 0;
  #transformWarned = false;
  #decoder: PictureDecoder | null = null;
  /** Runs the decoder while pictures are asked for. */
  readonly #decoderDemand: Lease | null;
  #decodedRaw: RawFrame | null = null;
  /** The decoded picture with the transform applied, per decoded picture. */
  #decoded: { n: number; frame: Frame } | null = null;
  #decodedCount = 0;

  constructor(slot: FrameSlot, options: PictureFeedOptions) {
    this.#slot = slot;
    this.#options = options;
    const startDecoder = options.startPictureDecoder;
    this.#decoderDemand = startDecoder
      ? new Lease({ start: () => this.#startDecoder(startDecoder), stop: () => this.#stopDecoder(), lingerMs: DECODER_IDLE_MS, clock: options.clock })
      : null;
  }

  /** Pictures JPEG-encoded here (not counting passed-through JPEGs), and the time that took. */
  get jpegEncoded(): number {
    return this.#jpegEncoded;
  }
  get jpegEncodeMs(): number {
    return this.#jpegEncodeMs;
  }

  /** A new frame in the slot: H.264 goes to the decoder while it runs. */
  frameArrived(frame: Frame): void {
    if (frame.kind === "h264") this.#decoder?.write(frame.data, frame.keyframe);
  }

  /**
   * The newest picture with the transform applied, once per frame whatever
   * asks for it. For an H.264 source, the newest decoded picture.
   */
  latestPicture(): Frame | null {
    const frame = this.#slot.latest;
    if (!frame) return null;
    if (frame.kind === "h264") return this.#decodedPicture();
    const seq = this.#slot.seq;
    if (this.#picture?.seq === seq) return this.#picture.frame;
    const picture = this.#transformed(frame);
    this.#picture = { seq, frame: picture };
    return picture;
  }

  /** The newest picture as a JPEG, encoded at most once per picture. */
  latestJpeg(): EncodedFrame | null {
    const picture = this.latestPicture();
    if (!picture) return this.#jpeg;
    if (this.#jpegOf === picture && this.#jpeg) return this.#jpeg;
    let data: Uint8Array;
    if (picture.kind === "jpeg") data = picture.data;
    else if (picture.kind === "raw" && picture.jpeg) data = picture.jpeg;
    else if (picture.kind === "raw" && this.#options.encoder) {
      const started = performance.now();
      data = this.#options.encoder.encode(picture).slice();
      this.#jpegEncodeMs += performance.now() - started;
      this.#jpegEncoded++;
    } else return this.#jpeg; // no encoder for it: MJPEG viewers keep the last picture they had.
    this.#jpegOf = picture;
    this.#jpeg = { kind: "jpeg", width: picture.width, height: picture.height, data, seq: this.#slot.seq };
    return this.#jpeg;
  }

  /** The slot was emptied (an idle on-demand stream): no stale picture for the next viewer. */
  clear(): void {
    this.#picture = null;
    this.#jpeg = null;
    this.#jpegOf = null;
  }

  /** Stops the decoder (the capture stopped). */
  async stopDecoder(): Promise<void> {
    await this.#decoderDemand?.stopNow();
  }

  #transformed(frame: Frame): Frame {
    const transform = this.#options.transform;
    if (!transform) return frame;
    if (frame.kind === "raw" && !frame.jpeg) return transform(frame) ?? frame;
    if (frame.kind === "jpeg" && this.#options.decodeJpeg) {
      const raw = this.#options.decodeJpeg(frame.data);
      return transform(raw) ?? raw;
    }
    if (frame.kind === "jpeg" && !this.#transformWarned) {
      this.#transformWarned = true;
      log.warn(
        `${this.#options.label}: the transform runs on raw pictures and no JPEG decoder is available; this source's JPEGs are passed through untransformed`,
      );
    }
    return frame;
  }

  #decodedPicture(): Frame | null {
    this.#decoderDemand?.touch();
    const raw = this.#decodedRaw;
    if (!raw) return null;
    if (this.#decoded?.n !== this.#decodedCount) this.#decoded = { n: this.#decodedCount, frame: this.#transformed(raw) };
    return this.#decoded.frame;
  }

  #startDecoder(start: StartPictureDecoder): void {
    log.debug(`${this.#options.label}: decoding H.264 for pictures`);
    this.#decoder = start((picture) => {
      this.#decodedCount++;
      this.#decoded = null;
      this.#decodedRaw = picture;
    });
    // The decoder can only start at a keyframe: a source that can make one soon is asked to.
    this.#options.requestKeyframe?.();
  }

  async #stopDecoder(): Promise<void> {
    const decoder = this.#decoder;
    this.#decoder = null;
    this.#decodedRaw = null;
    this.#decoded = null;
    if (!decoder) return;
    log.debug(`${this.#options.label}: H.264 decoder stopped (no picture asked for ${DECODER_IDLE_MS / 1000} s, or the capture stopped)`);
    await decoder.stop();
  }
}
