/**
 * The colour of the H.264 that glasscast encodes, said in its SPS (the VUI's
 * video signal type) so that a decoder turns it back into the RGB it came
 * from. A stream's raw pictures are JPEG's YCbCr (JFIF): BT.601 matrix, full
 * range. Their RGB is what a browser takes a JPEG without a profile to be:
 * sRGB, i.e. BT.709 primaries with the sRGB transfer. The encoder is given
 * those pictures as they are (no range conversion) and says all four.
 * Without it Chrome decodes the pictures as BT.709 limited range: greens and
 * reds lose up to 40 of 255 (docs/colour.md).
 *
 * A camera's own H.264 is passed on as the camera wrote it: only the camera
 * knows its matrix (see docs/colour.md).
 */

/** H.264 table E-3, E-4, E-5 codes of the description, and the range flag. */
export const H264_COLOUR = {
  /** BT.709 primaries (sRGB's). */
  colourPrimaries: 1,
  /** IEC 61966-2-1, sRGB. */
  transferCharacteristics: 13,
  /** SMPTE 170M, i.e. BT.601's Kr/Kb (JPEG's matrix). */
  matrixCoefficients: 6,
  /** Full range: 0–255, as in JPEG. */
  fullRange: true,
} as const;

/** ffmpeg output options that describe the pictures: libx264 writes them into its VUI. */
export function colourOutputArgs(): string[] {
  return ["-color_primaries", "bt709", "-color_trc", "iec61966-2-1", "-colorspace", "smpte170m", "-color_range", "pc"];
}

/**
 * ffmpeg's h264_metadata bitstream filter with the same description: it
 * writes the VUI into every SPS (and the extradata) whatever encoder made
 * them, for encoders that do not take ffmpeg's colour options into their
 * own headers (h264_v4l2m2m).
 */
export function colourMetadataBsf(): string {
  const c = H264_COLOUR;
  return (
    `h264_metadata=video_full_range_flag=${c.fullRange ? 1 : 0}:colour_primaries=${c.colourPrimaries}` +
    `:transfer_characteristics=${c.transferCharacteristics}:matrix_coefficients=${c.matrixCoefficients}`
  );
}
