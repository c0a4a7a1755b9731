/**
 * Which JPEG encoder a stream uses: libjpeg-turbo in-process (the capture
 * hands over raw pictures), or, when the library cannot be loaded, ffmpeg's
 * own mjpeg encoder inside the capture process, with one warning.
 */
import { turboJpegAvailable } from "../ffi/turbojpeg.ts";
import { log } from "../log.ts";
import type { RawFrame } from "../media/frame.ts";
import { ffmpegEncodeStill } from "./ffmpeg-still.ts";
import type { JpegEncoder } from "./jpeg-encoder.ts";
import type { JpegSettings } from "./jpeg-settings.ts";
import { TurboJpegEncoder } from "./turbojpeg-encoder.ts";

export interface JpegPipeline {
  /** "libturbojpeg" or "ffmpeg-mjpeg". */
  readonly name: string;
  /** What the capture process must write. */
  readonly captureOutput: "y4m" | "mjpeg";
  /** A hot-path encoder for one stream, or null when the capture gives JPEGs. */
  createEncoder(): JpegEncoder | null;
  /** Encodes an occasional still picture. */
  encodeStill(frame: RawFrame): Promise<Uint8Array>;
}

export const INSTALL_TURBOJPEG_HINT = "install libjpeg-turbo for faster, better JPEGs: sudo apt-get install libturbojpeg0";

let warned = false;

export function chooseJpegPipeline(settings: JpegSettings, ffmpeg: string): JpegPipeline {
  if (turboJpegAvailable()) {
    return {
      name: "libturbojpeg",
      captureOutput: "y4m",
      createEncoder: () => new TurboJpegEncoder(settings),
      encodeStill: async (frame) => {
        const encoder = new TurboJpegEncoder(settings);
        try {
          return encoder.encode(frame).slice();
        } finally {
          encoder.close();
        }
      },
    };
  }
  if (!warned) {
    warned = true;
    log.warn(`libturbojpeg could not be loaded: ffmpeg's mjpeg encoder is used instead; ${INSTALL_TURBOJPEG_HINT}`);
  }
  return {
    name: "ffmpeg-mjpeg",
    captureOutput: "mjpeg",
    createEncoder: () => null,
    encodeStill: (frame) => ffmpegEncodeStill(ffmpeg, frame, settings),
  };
}
