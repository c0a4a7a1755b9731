import { TurboJpeg, TJFLAG_FASTDCT, TJFLAG_ACCURATEDCT, TJFLAG_FASTUPSAMPLE, type TjSubsampling } from "../ffi/turbojpeg.ts";
import type { RawFrame } from "../media/frame.ts";
import type { JpegEncoder } from "./jpeg-encoder.ts";
import type { JpegSettings } from "./jpeg-settings.ts";

const PLANAR_SUBSAMPLING = { i420: "420", i422: "422", i444: "444", gray: "gray" } as const;

/** libjpeg-turbo through bun:ffi: the frame's memory goes to the library as is. */
export class TurboJpegEncoder implements JpegEncoder {
  readonly name = "libturbojpeg";
  readonly #tj = new TurboJpeg();
  readonly #flags: number;

  constructor(readonly settings: JpegSettings) {
    this.#flags = (settings.fastDct ? TJFLAG_FASTDCT : TJFLAG_ACCURATEDCT) | (settings.fastUpsample ? TJFLAG_FASTUPSAMPLE : 0);
  }

  encode(frame: RawFrame): Uint8Array {
    const { format, width, height, data } = frame;
    const { quality } = this.settings;
    if (format === "i420" || format === "i422" || format === "i444" || format === "gray") {
      // Planar input keeps its own subsampling: the capture already produced
      // the layout --jpeg-subsampling asked for, so nothing is resampled here.
      const sub: TjSubsampling = PLANAR_SUBSAMPLING[format];
      return this.#tj.compressYuv(data, width, height, sub, quality, this.#flags);
    }
    return this.#tj.compressPacked(data, width, height, format, this.settings.subsampling, quality, this.#flags);
  }

  close(): void {
    this.#tj.close();
  }
}
