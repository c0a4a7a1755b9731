/**
 * Byte streams of capture processes into frames: YUV4MPEG2 raw pictures,
 * back-to-back JPEGs, H.264 Annex B, and headerless raw I420 (rpicam-vid's
 * yuv420). Each parser takes chunks as they are read (valid only until the
 * next read) and returns the frames they completed.
 */
import { AnnexBParser, hasParameterSets, NAL, nalType, parseSpsSize, type AccessUnit } from "../media/h264/annexb.ts";
import type { Frame, H264Frame, RawFrame } from "../media/frame.ts";
import { rawFrameSize } from "../media/frame.ts";
import { JpegSplitter, jpegSize } from "../media/jpeg-splitter.ts";
import { Y4mReader } from "../media/y4m-reader.ts";

export type FrameParser = (chunk: Uint8Array) => Frame[];

export function y4mFrames(): FrameParser {
  const reader = new Y4mReader();
  return (chunk) => reader.push(chunk);
}

/** Whole JPEGs, each the camera's (or encoder's) bytes exactly. */
export function jpegFrames(): FrameParser {
  const splitter = new JpegSplitter();
  return (chunk) =>
    splitter.push(chunk).map((data) => {
      const { width, height } = jpegSize(data);
      return { kind: "jpeg", width, height, data };
    });
}

const START_CODE = new Uint8Array([0, 0, 0, 1]);

/**
 * H.264 access units in Annex B form; the picture size comes from the latest
 * SPS. A keyframe without parameter sets (a camera that sends them once, at
 * the start) gets the latest ones put before it, so that a viewer or a
 * decoder can start at any keyframe.
 */
export function h264Frames(): FrameParser {
  const parser = new AnnexBParser();
  const framer = new H264Framer();
  return (chunk) => parser.push(chunk).map((au) => framer.frame(au));
}

/**
 * Access units (from Annex B or from RTP) into stream frames: the size from
 * the latest SPS, the latest SPS and PPS put before a keyframe that lacks them.
 */
export class H264Framer {
  #size = { width: 0, height: 0 };
  #sps: Uint8Array | null = null;
  #pps: Uint8Array | null = null;

  /** Parameter sets known before any access unit (an SDP's sprop-parameter-sets). */
  seed(nals: readonly Uint8Array[]): void {
    for (const nal of nals) this.#remember(nal);
  }

  #remember(nal: Uint8Array): void {
    const type = nalType(nal);
    if (type === NAL.SPS) {
      this.#sps = nal;
      this.#size = parseSpsSize(nal) ?? this.#size;
    } else if (type === NAL.PPS) this.#pps = nal;
  }

  frame(au: AccessUnit): H264Frame {
    let nals = au.nals;
    for (const nal of nals) this.#remember(nal);
    if (au.keyframe && this.#sps && this.#pps && !hasParameterSets(au)) nals = [this.#sps, this.#pps, ...nals];
    let bytes = 0;
    for (const nal of nals) bytes += START_CODE.length + nal.length;
    const data = new Uint8Array(bytes);
    let at = 0;
    for (const nal of nals) {
      data.set(START_CODE, at);
      data.set(nal, at + START_CODE.length);
      at += START_CODE.length + nal.length;
    }
    return { kind: "h264", width: this.#size.width, height: this.#size.height, data, keyframe: au.keyframe };
  }
}

/**
 * Headerless I420 pictures of a known size, back to back, into a small ring
 * of reused buffers (a frame stays valid while the next `ringSize - 1` are read).
 */
export function i420Frames(width: number, height: number, ringSize = 3): FrameParser {
  const frameSize = rawFrameSize("i420", width, height);
  const ring = Array.from({ length: ringSize }, () => new Uint8Array(frameSize));
  let index = 0;
  let filled = 0;
  return (chunk) => {
    const frames: RawFrame[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const buffer = ring[index]!;
      const take = Math.min(frameSize - filled, chunk.length - pos);
      buffer.set(chunk.subarray(pos, pos + take), filled);
      filled += take;
      pos += take;
      if (filled === frameSize) {
        frames.push({ kind: "raw", format: "i420", width, height, data: buffer });
        index = (index + 1) % ringSize;
        filled = 0;
      }
    }
    return frames;
  };
}
