/**
 * Turns and mirrors raw planar pictures, for cameras that cannot do it
 * themselves (rpicam-vid only rotates by 0 or 180 degrees).
 *
 * Order, as rpicam-vid and libcamera apply theirs: the picture is mirrored
 * first (--hflip swaps left and right, --vflip top and bottom, both on the
 * sensor's picture), then rotated clockwise by `rotate`. So `{ rotate: 90,
 * hflip: true }` is ffmpeg's `hflip,transpose=clock`.
 *
 * The eight results of mirror-then-rotate reduce to one of two jobs per plane:
 * - no transposition (0 and 180 degrees, flips): whole rows are copied,
 *   in reverse row order for a vertical flip and reversed in place for a
 *   horizontal one (native `set` and `reverse`);
 * - transposition (90 and 270 degrees): each output row gathers a source
 *   column, walked in square tiles so that the source rows being read stay in
 *   the cache.
 *
 * Planes are handled one by one with their own sizes, the chroma planes of
 * odd-sized pictures rounded up as in `rawFrameSize`; a plane's rows are
 * unpadded, as everywhere in glasscast. i420, i444 and gray can be turned any
 * way; i422 only without transposition (its chroma would become 4:4:0).
 *
 * The result is written into one buffer reused from frame to frame (allocated
 * again only when the picture's size or layout changes): a returned frame's
 * data is valid until the next `apply`. A picture that needs no change, and a
 * placeholder that carries its own JPEG, are returned as they are.
 */
import { rawFrameSize, type RawFormat, type RawFrame } from "./frame.ts";

export type Rotation = 0 | 90 | 180 | 270;
export const ROTATIONS: readonly Rotation[] = [0, 90, 180, 270];

export interface Orientation {
  /** Clockwise, applied after the flips. */
  readonly rotate: Rotation;
  /** Mirror left to right (applied to the camera's picture, before rotating). */
  readonly hflip: boolean;
  /** Mirror top to bottom (applied to the camera's picture, before rotating). */
  readonly vflip: boolean;
}

/**
 * What mirror-then-rotate comes down to. Without transposition:
 * out(x, y) = in(reverseX ? w-1-x : x, reverseY ? h-1-y : y).
 * With transposition (output w and h swapped):
 * out(x, y) = in(reverseX ? w-1-y : y, reverseY ? h-1-x : x).
 */
interface Plan {
  readonly transpose: boolean;
  readonly reverseX: boolean;
  readonly reverseY: boolean;
}

function plan(o: Orientation): Plan {
  const { hflip: h, vflip: v } = o;
  switch (o.rotate) {
    case 0:
      return { transpose: false, reverseX: h, reverseY: v };
    case 180:
      return { transpose: false, reverseX: !h, reverseY: !v };
    // Clockwise: the output's left column is the (mirrored) picture's bottom row.
    case 90:
      return { transpose: true, reverseX: h, reverseY: !v };
    case 270:
      return { transpose: true, reverseX: !h, reverseY: v };
  }
}

/** Side of the square tiles a transposition walks (bytes): 32 source rows of 32 bytes stay in L1. */
const TILE = 32;

export class Orienter {
  readonly orientation: Orientation;
  readonly #plan: Plan;
  #out = new Uint8Array(0);

  constructor(o: Orientation) {
    if (!ROTATIONS.includes(o.rotate)) {
      throw new RangeError(`rotation must be 0, 90, 180 or 270 (degrees clockwise), got ${String(o.rotate)}`);
    }
    this.orientation = { rotate: o.rotate, hflip: o.hflip === true, vflip: o.vflip === true };
    this.#plan = plan(this.orientation);
  }

  /** True when pictures come out as they go in. */
  get identity(): boolean {
    const p = this.#plan;
    return !p.transpose && !p.reverseX && !p.reverseY;
  }

  /** The picture size after this orientation. */
  outputSize(width: number, height: number): { width: number; height: number } {
    return this.#plan.transpose ? { width: height, height: width } : { width, height };
  }

  /** The turned picture; its data is valid until the next call. */
  apply(frame: RawFrame): RawFrame {
    if (this.identity || frame.jpeg) return frame;
    const { format, width, height, data } = frame;
    const planes = planeSizes(format, width, height);
    if (!planes) throw new Error(`cannot rotate or flip ${format} pictures: only i420, i422, i444 and gray`);
    const p = this.#plan;
    if (p.transpose && format === "i422") {
      throw new Error(`cannot rotate i422 pictures by ${this.orientation.rotate} degrees (4:2:2 turned is 4:4:0); ` + "capture as i420 or i444 instead");
    }
    const size = rawFrameSize(format, width, height);
    if (data.length < size) {
      throw new Error(`${format} picture of ${width}x${height} needs ${size} bytes, got ${data.length}`);
    }
    if (this.#out.length !== size) this.#out = new Uint8Array(new ArrayBuffer(size));
    const out = this.#out;
    let offset = 0;
    for (const [w, h] of planes) {
      if (p.transpose) transposePlane(data, out, offset, w, h, p.reverseX, p.reverseY);
      else copyPlane(data, out, offset, w, h, p.reverseX, p.reverseY);
      offset += w * h;
    }
    const turned = this.outputSize(width, height);
    return { kind: "raw", format, width: turned.width, height: turned.height, data: out };
  }
}

/** Width and height of each plane, or null for packed layouts. */
function planeSizes(format: RawFormat, width: number, height: number): [number, number][] | null {
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  switch (format) {
    case "i420":
      return [
        [width, height],
        [cw, ch],
        [cw, ch],
      ];
    case "i422":
      return [
        [width, height],
        [cw, height],
        [cw, height],
      ];
    case "i444":
      return [
        [width, height],
        [width, height],
        [width, height],
      ];
    case "gray":
      return [[width, height]];
    default:
      return null;
  }
}

/** One plane at `offset` in both buffers, rows in order or reversed, each row as is or reversed. */
function copyPlane(src: Uint8Array, dst: Uint8Array, offset: number, w: number, h: number, reverseX: boolean, reverseY: boolean): void {
  if (!reverseY) {
    dst.set(src.subarray(offset, offset + w * h), offset);
  } else {
    for (let y = 0; y < h; y++) {
      const from = offset + (h - 1 - y) * w;
      dst.set(src.subarray(from, from + w), offset + y * w);
    }
  }
  if (reverseX) {
    for (let y = 0; y < h; y++) dst.subarray(offset + y * w, offset + (y + 1) * w).reverse();
  }
}

/**
 * One w x h plane at `offset` into an h x w plane at the same offset:
 * out(x, y) = in(reverseX ? w-1-y : y, reverseY ? h-1-x : x).
 * Output rows are written left to right; within a tile the source is read
 * down (or up) one column per output row.
 */
function transposePlane(src: Uint8Array, dst: Uint8Array, offset: number, w: number, h: number, reverseX: boolean, reverseY: boolean): void {
  const step = reverseY ? -w : w;
  for (let y0 = 0; y0 < w; y0 += TILE) {
    const y1 = Math.min(y0 + TILE, w);
    for (let x0 = 0; x0 < h; x0 += TILE) {
      const x1 = Math.min(x0 + TILE, h);
      // Source row of the tile's first output column.
      const row0 = offset + (reverseY ? h - 1 - x0 : x0) * w;
      for (let y = y0; y < y1; y++) {
        let s = row0 + (reverseX ? w - 1 - y : y);
        let d = offset + y * h + x0;
        const end = offset + y * h + x1;
        while (d < end) {
          dst[d++] = src[s]!;
          s += step;
        }
      }
    }
  }
}
