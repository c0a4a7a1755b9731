import type { RawFrame } from "../media/frame.ts";

/** Turns raw pictures into JPEGs, once per frame whatever the number of viewers. */
export interface JpegEncoder {
  readonly name: string;
  /**
   * Compresses one picture. The result is a view of the encoder's reused
   * output buffer: copy it before the next call.
   */
  encode(frame: RawFrame): Uint8Array;
  close(): void;
}
