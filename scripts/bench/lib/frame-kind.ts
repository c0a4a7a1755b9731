/**
 * Tells what an MJPEG part shows: a real camera frame, glasscast's NO SIGNAL
 * picture (src/placeholder/render.ts: a very dark grey background, luma 24,
 * with light grey text, neutral chroma everywhere), or a JPEG that does not
 * decode. The placeholder's JPEG changes every second (its text counts the
 * seconds since the last frame), so it cannot be recognised by its bytes: the
 * picture is decoded (libjpeg-turbo, src/ffi/turbojpeg.ts) and looked at. Every
 * viewer gets the same bytes, so each distinct JPEG is decoded once per
 * process (keyed by a 64-bit hash of its bytes).
 */
import { TurboJpeg } from "../../../src/ffi/turbojpeg.ts";

export type FrameKind = "real" | "placeholder" | "broken";

/** The placeholder's background and chroma (src/placeholder/render.ts). */
const BACKGROUND_LUMA = 24;
const NEUTRAL_CHROMA = 128;
/** Every this many samples is looked at. */
const STEP = 7;
const CACHE_LIMIT = 4096;

/**
 * A placeholder: at least half the luma samples within 12 of the background
 * and 98 % of the chroma samples within 6 of neutral grey. A test pattern or
 * a camera picture has colour, and rarely half a picture of one dark grey.
 */
export function looksLikePlaceholder(yuv: Uint8Array, width: number, height: number): boolean {
  const luma = width * height;
  let dark = 0,
    lumaSeen = 0;
  for (let i = 0; i < luma; i += STEP) {
    lumaSeen++;
    if (Math.abs(yuv[i]! - BACKGROUND_LUMA) <= 12) dark++;
  }
  let grey = 0,
    chromaSeen = 0;
  for (let i = luma; i < yuv.length; i += STEP) {
    chromaSeen++;
    if (Math.abs(yuv[i]! - NEUTRAL_CHROMA) <= 6) grey++;
  }
  return dark >= 0.5 * lumaSeen && (chromaSeen === 0 || grey >= 0.98 * chromaSeen);
}

export class FrameClassifier {
  readonly #tj = new TurboJpeg();
  readonly #cache = new Map<bigint, FrameKind>();
  /** JPEGs decoded (cache misses). */
  decoded = 0;
  /** The last reason a JPEG did not decode. */
  lastBroken: string | null = null;

  /** The kind of this JPEG, and the hash it was keyed by. */
  classify(jpeg: Uint8Array): { kind: FrameKind; hash: bigint } {
    const hash = BigInt.asUintN(64, BigInt(Bun.hash.wyhash(jpeg)));
    let kind = this.#cache.get(hash);
    if (kind === undefined) {
      kind = this.#decide(jpeg);
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(hash, kind);
    }
    return { kind, hash };
  }

  #decide(jpeg: Uint8Array): FrameKind {
    this.decoded++;
    try {
      const yuv = this.#tj.decompressYuv(jpeg);
      if (yuv.warning) {
        this.lastBroken = yuv.warning;
        return "broken";
      }
      return looksLikePlaceholder(yuv.data, yuv.width, yuv.height) ? "placeholder" : "real";
    } catch (err) {
      this.lastBroken = (err as Error).message;
      return "broken";
    }
  }

  close(): void {
    this.#tj.close();
  }
}
