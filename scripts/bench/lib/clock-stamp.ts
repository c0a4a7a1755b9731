/**
 * A wall-clock stamp drawn into a picture, and read back from it after JPEG
 * or H.264 compression: the latency benchmark (latency.ts) stamps each frame
 * as it enters glasscast's core and every receiver reads the stamp from the
 * picture it shows.
 *
 * The time is `performance.timeOrigin + performance.now()` (wall-clock ms,
 * shared by every process and by Chromium on this machine), in 0.1 ms units,
 * modulo 2^40 (3.5 years; the reader takes the wrap nearest its own clock).
 * The 40 bits and a CRC-8 of them are 48 black or white blocks in the luma,
 * 24 a row, 2 rows, at the top left corner. A block is read from the mean of
 * its middle quarter: a mean in the grey band between black and white, or a
 * CRC that does not match, makes the read fail (null) rather than count a
 * wrong time.
 *
 * The reader functions are self-contained (no module-level references), so
 * that a Chromium page can be given them as source text (readStampRgbaSource).
 */

export const STAMP_COLUMNS = 24;
export const STAMP_ROWS = 2;
const TIME_BITS = 40;
const UNITS_PER_MS = 10;

/** The block side for a picture this wide: a multiple of 8 (JPEG and H.264 blocks), at most 32. */
export function stampBlock(width: number): number {
  const block = Math.min(32, Math.floor(width / STAMP_COLUMNS / 8) * 8);
  if (block < 8) throw new RangeError(`a picture ${width} pixels wide is too narrow for the clock stamp (${STAMP_COLUMNS * 8} at least)`);
  return block;
}

/** Wall-clock ms with sub-ms precision, the same clock in every process of the machine. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** CRC-8 (polynomial 0x07, output inverted so that an all-black area is no stamp) of the low 40 bits of `value`. */
export function crc8(value: number): number {
  let crc = 0;
  for (let i = 4; i >= 0; i--) {
    crc ^= Math.floor(value / 2 ** (8 * i)) % 256;
    for (let b = 0; b < 8; b++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc ^ 0xff;
}

/** The 48 bits (time, then CRC) for a wall-clock time in ms. */
export function stampBits(ms: number): number[] {
  const value = Math.round(ms * UNITS_PER_MS) % 2 ** TIME_BITS;
  const bits: number[] = [];
  for (let i = TIME_BITS - 1; i >= 0; i--) bits.push(Math.floor(value / 2 ** i) % 2);
  const crc = crc8(value);
  for (let i = 7; i >= 0; i--) bits.push((crc >> i) & 1);
  return bits;
}

/**
 * Draws the stamp into a planar YUV picture (i420, i422, i444 or gray; the
 * luma plane first): white or black blocks, with neutral chroma under them.
 */
export function drawStamp(frame: { format: string; width: number; height: number; data: Uint8Array }, ms = wallClockMs()): void {
  const { width, height, data, format } = frame;
  if (!["i420", "i422", "i444", "gray"].includes(format)) throw new RangeError(`the clock stamp is drawn on planar YUV, not ${format}`);
  const block = stampBlock(width);
  if (height < block * STAMP_ROWS) throw new RangeError(`a picture ${height} pixels high is too low for the clock stamp`);
  const bits = stampBits(ms);
  for (let i = 0; i < bits.length; i++) {
    const x0 = (i % STAMP_COLUMNS) * block;
    const y0 = Math.floor(i / STAMP_COLUMNS) * block;
    const value = bits[i] ? 255 : 0;
    for (let y = y0; y < y0 + block; y++) data.fill(value, y * width + x0, y * width + x0 + block);
  }
  if (format === "gray") return;
  const cw = format === "i444" ? width : Math.ceil(width / 2);
  const ch = format === "i420" ? Math.ceil(height / 2) : height;
  const sx = width / cw;
  const sy = height / ch;
  const w = Math.ceil((STAMP_COLUMNS * block) / sx);
  const h = Math.ceil((STAMP_ROWS * block) / sy);
  for (let plane = 0; plane < 2; plane++) {
    const base = width * height + plane * cw * ch;
    for (let y = 0; y < h; y++) data.fill(128, base + y * cw, base + y * cw + w);
  }
}

/**
 * The stamp in a picture's luma (`luma(x, y)` gives 0–255), as wall-clock ms
 * near `nowMs`; null when a block is unclear or the CRC does not match.
 * Self-contained: see readStampRgbaSource.
 */
export function readStampWith(width: number, luma: (x: number, y: number) => number, nowMs: number): number | null {
  const columns = 24;
  const block = Math.min(32, Math.floor(width / columns / 8) * 8);
  if (block < 8) return null;
  const bits: number[] = [];
  for (let i = 0; i < 48; i++) {
    const x0 = (i % columns) * block;
    const y0 = Math.floor(i / columns) * block;
    let sum = 0;
    let n = 0;
    for (let y = y0 + block / 4; y < y0 + (3 * block) / 4; y += 2) {
      for (let x = x0 + block / 4; x < x0 + (3 * block) / 4; x += 2) {
        sum += luma(x, y);
        n++;
      }
    }
    const mean = sum / n;
    if (mean > 72 && mean < 184) return null; // neither black nor white: not a stamp, or badly damaged
    bits.push(mean >= 128 ? 1 : 0);
  }
  let value = 0;
  for (let i = 0; i < 40; i++) value = value * 2 + bits[i]!;
  let check = 0;
  for (let i = 40; i < 48; i++) check = check * 2 + bits[i]!;
  let crc = 0;
  for (let i = 4; i >= 0; i--) {
    crc ^= Math.floor(value / 2 ** (8 * i)) % 256;
    for (let b = 0; b < 8; b++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  if ((crc ^ 0xff) !== check) return null;
  const period = 2 ** 40;
  const nowUnits = Math.round(nowMs * 10);
  let units = nowUnits - ((nowUnits % period) - value);
  if (units - nowUnits > period / 2) units -= period;
  else if (nowUnits - units > period / 2) units += period;
  return units / 10;
}

/** The stamp of a planar YUV or gray picture (the luma plane first, rows unpadded). */
export function readStampLuma(width: number, luma: Uint8Array, nowMs = wallClockMs()): number | null {
  return readStampWith(width, (x, y) => luma[y * width + x]!, nowMs);
}

/** The stamp of an RGBA picture (e.g. a canvas's getImageData), luma from BT.601 weights. */
export function readStampRgba(width: number, rgba: Uint8Array | Uint8ClampedArray, nowMs = wallClockMs()): number | null {
  return readStampWith(
    width,
    (x, y) => {
      const i = (y * width + x) * 4;
      return 0.299 * rgba[i]! + 0.587 * rgba[i + 1]! + 0.114 * rgba[i + 2]!;
    },
    nowMs,
  );
}

/** JavaScript source of a page function `readStamp(width, rgba, nowMs)` (readStampWith for RGBA). */
export function readStampRgbaSource(): string {
  return (
    `const readStampWith = ${readStampWith.toString()};\n` +
    "const readStamp = (width, rgba, nowMs) => readStampWith(width, (x, y) => { const i = (y * width + x) * 4; " +
    "return 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]; }, nowMs);"
  );
}

/** The region a reader needs: the stamp's width and height in pixels for a picture this wide. */
export function stampArea(width: number): { width: number; height: number } {
  const block = stampBlock(width);
  return { width: block * STAMP_COLUMNS, height: block * STAMP_ROWS };
}
