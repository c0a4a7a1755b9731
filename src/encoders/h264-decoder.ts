/**
 * One H.264 decoder per stream whose source gives only H.264 (a camera, or
 * rpicam-vid) when MJPEG viewers need pictures: an ffmpeg child that takes
 * Annex B access units on stdin and writes raw pictures as YUV4MPEG2 on
 * stdout, full range and in the layout --jpeg-subsampling asks for, ready
 * for libjpeg-turbo.
 *
 * Latency: one picture comes out per access unit written, before the next
 * one is written. Cameras send no B-frames, so the decoder is told not to
 * wait for reordering (`-flags low_delay`, which also turns off frame
 * threading and its one-frame-per-thread delay). ffmpeg's H.264 parser only
 * knows a picture is complete when the next one begins, so each access unit
 * is followed by an access unit delimiter: the parser cuts there at once.
 * (`-fflags nobuffer` is not used: with raw H.264 it throws away the packets
 * read while probing, the first keyframe among them.)
 *
 * Writes queue only a little: while ffmpeg starts, or on a loaded machine,
 * up to MAX_PENDING_BYTES wait to be written (a slow start must not cost a
 * keyframe per access unit); past that an access unit is skipped. A decoder
 * fed a gap shows corruption until the next keyframe, so after a skip (and
 * at the start) access units are skipped until a keyframe arrives. Keyframes must carry their parameter
 * sets (SPS, PPS), as WebRTC viewers need too: rpicam-vid `--inline`,
 * x264 `repeat-headers`.
 *
 * One decoder is for one picture size: ffmpeg writes the YUV4MPEG2 header
 * once, so a stream whose size changes needs a new decoder.
 */
import { log } from "../log.ts";
import { spawnOwned, type OwnedChild } from "../process/child.ts";
import { PipeWriter } from "../process/pipe-writer.ts";
import { Y4mReader } from "../media/y4m-reader.ts";
import type { RawFrame } from "../media/frame.ts";
import { JPEG_YCBCR } from "./ffmpeg-raw-input.ts";
import type { JpegSubsampling } from "./jpeg-settings.ts";

const PIX_FMT: Record<JpegSubsampling, string> = { "420": "yuv420p", "422": "yuv422p", "444": "yuv444p", gray: "gray" };

/** Bytes written but not yet taken by ffmpeg before access units are skipped (about a second of 1080p). */
const MAX_PENDING_BYTES = 1 << 20;

/** An access unit delimiter (type 9, primary_pic_type 7: any slice types). */
const AUD = new Uint8Array([0, 0, 0, 1, 0x09, 0xf0]);

export function h264DecoderArgs(ffmpeg: string, subsampling: JpegSubsampling): string[] {
  return [
    // Level "error": ffmpeg warns at every start that it could not estimate the frame rate from 32 bytes.
    ffmpeg,
    "-hide_banner",
    "-nostats",
    "-loglevel",
    "error",
    "-probesize",
    "32",
    "-analyzeduration",
    "0",
    "-flags",
    "low_delay",
    "-f",
    "h264",
    "-i",
    "pipe:0",
    "-an",
    "-sn",
    "-dn",
    // Camera H.264 is limited range, and BT.709 when its SPS says so; JPEG's YCbCr is full-range BT.601.
    "-vf",
    `scale=${JPEG_YCBCR}:flags=fast_bilinear,format=${PIX_FMT[subsampling]}`,
    // One picture out per picture decoded: no frames duplicated or dropped for a constant rate.
    "-vsync",
    "passthrough",
    "-f",
    "yuv4mpegpipe",
    "-strict",
    "-1",
    "-flush_packets",
    "1",
    "pipe:1",
  ];
}

export class H264Decoder {
  readonly subsampling: JpegSubsampling;
  readonly #child: OwnedChild;
  readonly #stdin: PipeWriter;
  readonly #label: string;
  #stopped = false;
  #waitingForKeyframe = true;
  #skipped = 0;
  #written = 0;
  #pictures = 0;

  constructor(ffmpeg: string, subsampling: JpegSubsampling, onPicture: (frame: RawFrame) => void, label: string) {
    if (!Object.hasOwn(PIX_FMT, subsampling)) throw new RangeError(`subsampling must be 420, 422, 444 or gray, got ${String(subsampling)}`);
    this.subsampling = subsampling;
    this.#label = label;
    this.#child = spawnOwned(h264DecoderArgs(ffmpeg, subsampling), {
      label,
      stderrLevel: "debug",
      // Errors while stopping (the stream cut short) are no news.
      onStderrLine: (line) => {
        if (!this.#stopped) log.warn(`${label}: ${line}`);
      },
      stdin: "pipe",
    });
    this.#stdin = new PipeWriter(this.#child.stdin!, MAX_PENDING_BYTES);
    void this.#read(onPicture);
  }

  get pid(): number {
    return this.#child.pid;
  }
  get exited(): Promise<number> {
    return this.#child.exited;
  }
  /** Access units not decoded: the decoder was busy, or they came before a keyframe. */
  get skipped(): number {
    return this.#skipped;
  }
  /** Access units handed to the decoder. */
  get written(): number {
    return this.#written;
  }
  /** Pictures that came out. */
  get pictures(): number {
    return this.#pictures;
  }
  /** True until a keyframe arrives, at the start and after a skipped access unit. */
  get waitingForKeyframe(): boolean {
    return this.#waitingForKeyframe;
  }

  /** Hands over one access unit (Annex B); skipped when too much is still waiting to be written. */
  write(accessUnit: Uint8Array, keyframe: boolean): void {
    if (this.#stopped) return;
    if (this.#waitingForKeyframe && !keyframe) {
      this.#skipped++;
      return;
    }
    try {
      if (!this.#stdin.write(accessUnit, AUD)) {
        this.#skipped++;
        this.#waitingForKeyframe = true;
        return;
      }
      this.#waitingForKeyframe = false;
      this.#written++;
    } catch (err) {
      this.#waitingForKeyframe = true;
      log.debug(`${this.#label}: write failed: ${(err as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stdin.end();
    await this.#child.stop(1000);
  }

  async #read(onPicture: (frame: RawFrame) => void): Promise<void> {
    const reader = new Y4mReader();
    try {
      for await (const chunk of this.#child.stdout) {
        for (const frame of reader.push(chunk)) {
          this.#pictures++;
          onPicture(frame);
        }
      }
    } catch (err) {
      if (this.#stopped) return;
      log.warn(`${this.#label}: ${(err as Error).message}`);
      void this.#child.stop(1000);
    }
  }
}
