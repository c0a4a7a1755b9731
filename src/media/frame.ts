/**
 * What travels from a source to the outputs. A source hands over one of three
 * kinds of frame; outputs take what they need and convert at most once per
 * frame (see Stream): raw pictures are JPEG-encoded once for every MJPEG viewer,
 * ready JPEGs are passed through untouched, H.264 access units go to WebRTC.
 */

/** Planar YUV, full range (JFIF), rows unpadded, planes back to back. */
export type PlanarFormat = "i420" | "i422" | "i444" | "gray";
/** Packed 8-bit pixels, rows unpadded. */
export type PackedFormat = "rgb" | "bgr" | "rgba" | "bgra";
export type RawFormat = PlanarFormat | PackedFormat;

export interface RawFrame {
  readonly kind: "raw";
  readonly format: RawFormat;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  /** A ready JPEG of this same picture (placeholders): shown as is, neither transformed nor encoded again. */
  readonly jpeg?: Uint8Array;
}

export interface JpegFrame {
  readonly kind: "jpeg";
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** One H.264 access unit in Annex B byte-stream form. */
export interface H264Frame {
  readonly kind: "h264";
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  readonly keyframe: boolean;
}

export type Frame = RawFrame | JpegFrame | H264Frame;

/** Bytes one raw picture takes in the given format. */
export function rawFrameSize(format: RawFormat, width: number, height: number): number {
  const luma = width * height;
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  switch (format) {
    case "i420":
      return luma + 2 * cw * ch;
    case "i422":
      return luma + 2 * cw * height;
    case "i444":
      return luma * 3;
    case "gray":
      return luma;
    case "rgb":
    case "bgr":
      return luma * 3;
    case "rgba":
    case "bgra":
      return luma * 4;
  }
}
