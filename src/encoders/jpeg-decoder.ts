/**
 * JPEG to raw picture, with libjpeg-turbo through bun:ffi: for work that needs
 * pixels from a source that only gives JPEGs (an MJPEG camera), e.g. turning
 * the picture or feeding an encoder raw frames.
 *
 * A JPEG is decoded to planar YUV of its own subsampling (4:2:0 → i420,
 * 4:2:2 → i422, 4:4:4 → i444, gray → gray), nothing resampled, full range as
 * JPEG's YCbCr is. Every picture is written into one buffer reused from frame
 * to frame: a returned frame's data is valid until the next `decode`.
 */
import { TJFLAG_FASTDCT, TurboJpeg } from "../ffi/turbojpeg.ts";
import type { PlanarFormat, RawFrame } from "../media/frame.ts";

const FORMAT = { "420": "i420", "422": "i422", "444": "i444", gray: "gray" } as const satisfies Record<string, PlanarFormat>;

export interface JpegDecoderOptions {
  /** Faster, slightly less accurate inverse DCT (TJFLAG_FASTDCT). */
  readonly fastDct?: boolean;
}

export class JpegDecoder {
  readonly #tj = new TurboJpeg();
  readonly #flags: number;
  /** JPEGs decoded in spite of damaged data (libjpeg warnings), and the last warning. */
  warnings = 0;
  lastWarning: string | null = null;

  constructor(options: JpegDecoderOptions = {}) {
    this.#flags = options.fastDct ? TJFLAG_FASTDCT : 0;
  }

  /** The JPEG's picture; its data is valid until the next call. A JPEG that can't be decoded is an Error. */
  decode(jpeg: Uint8Array): RawFrame {
    const yuv = this.#tj.decompressYuv(jpeg, this.#flags);
    if (yuv.warning) {
      this.warnings++;
      this.lastWarning = yuv.warning;
    }
    return { kind: "raw", format: FORMAT[yuv.subsampling], width: yuv.width, height: yuv.height, data: yuv.data };
  }

  close(): void {
    this.#tj.close();
  }
}
