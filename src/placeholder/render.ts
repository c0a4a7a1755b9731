/**
 * Placeholder pictures for a source that has ended or lost its signal: a very
 * dark grey picture with a few lines of large light text centred on it,
 * e.g. ["NO SIGNAL", "LAST FRAME 00:01:23 AGO"]. Uses the built-in bitmap
 * font (./font.ts), so no font files are needed.
 */
import { rawFrameSize, type PlanarFormat } from "../media/frame.ts";
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from "./font.ts";

const BACKGROUND_LUMA = 24;
const TEXT_LUMA = 235;
const NEUTRAL_CHROMA = 128;

/** Glyph pixels between characters of a line and between lines. */
const CHAR_GAP = 1;
const LINE_GAP = 2;
/** Largest share of the picture the text block may take at scale > 1. */
const MAX_WIDTH_SHARE = 0.8;
const MAX_HEIGHT_SHARE = 0.6;

/** Number of code points, so that e.g. an emoji counts (and draws) as one unknown glyph. */
function charCount(line: string): number {
  let n = 0;
  for (const _ of line) n++;
  return n;
}

/** Width of a line in glyph pixels (before scaling). */
function lineWidth(chars: number): number {
  return chars > 0 ? chars * (GLYPH_WIDTH + CHAR_GAP) - CHAR_GAP : 0;
}

/**
 * Renders `lines` centred on a dark background, as one planar full-range YUV
 * picture of `rawFrameSize(format, width, height)` bytes. One integer scale
 * (at least 1) is used for all lines: the largest that keeps the widest line
 * within 80% of the width and the block of lines within 60% of the height.
 * Text that does not fit even at scale 1 (tiny pictures) is clipped.
 */
export function renderPlaceholder(format: PlanarFormat, width: number, height: number, lines: readonly string[]): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`renderPlaceholder: bad picture size ${width}x${height}`);
  }
  const out = new Uint8Array(rawFrameSize(format, width, height));
  const lumaSize = width * height;
  out.fill(BACKGROUND_LUMA, 0, lumaSize);
  // The text is neutral grey too, so the chroma planes are uniform whatever their layout.
  out.fill(NEUTRAL_CHROMA, lumaSize);
  if (lines.length === 0) return out;

  const counts = lines.map(charCount);
  const blockW = Math.max(...counts.map(lineWidth));
  const blockH = lines.length * (GLYPH_HEIGHT + LINE_GAP) - LINE_GAP;
  const byWidth = blockW > 0 ? Math.floor((width * MAX_WIDTH_SHARE) / blockW) : Infinity;
  const byHeight = Math.floor((height * MAX_HEIGHT_SHARE) / blockH);
  const scale = Math.max(1, Math.min(byWidth, byHeight));

  let top = Math.floor((height - blockH * scale) / 2);
  for (let i = 0; i < lines.length; i++) {
    const left = Math.floor((width - lineWidth(counts[i]!) * scale) / 2);
    drawLine(out, width, height, lines[i]!, left, top, scale);
    top += (GLYPH_HEIGHT + LINE_GAP) * scale;
  }
  return out;
}

/** Draws one line into the luma plane with its top-left corner at (left, top), clipped. */
function drawLine(luma: Uint8Array, width: number, height: number, line: string, left: number, top: number, scale: number): void {
  const advance = (GLYPH_WIDTH + CHAR_GAP) * scale;
  let x0 = left;
  for (const ch of line) {
    if (x0 >= width) break;
    if (x0 + GLYPH_WIDTH * scale > 0) drawGlyph(luma, width, height, glyph(ch), x0, top, scale);
    x0 += advance;
  }
}

function drawGlyph(luma: Uint8Array, width: number, height: number, rows: readonly number[], x0: number, y0: number, scale: number): void {
  for (let r = 0; r < GLYPH_HEIGHT; r++) {
    const mask = rows[r]!;
    if (mask === 0) continue;
    const yStart = Math.max(0, y0 + r * scale);
    const yEnd = Math.min(height, y0 + (r + 1) * scale);
    if (yStart >= yEnd) continue;
    // Each horizontal run of lit glyph pixels becomes one fill per picture row.
    let c = 0;
    while (c < GLYPH_WIDTH) {
      if ((mask & (1 << (GLYPH_WIDTH - 1 - c))) === 0) {
        c++;
        continue;
      }
      let end = c + 1;
      while (end < GLYPH_WIDTH && (mask & (1 << (GLYPH_WIDTH - 1 - end))) !== 0) end++;
      const xStart = Math.max(0, x0 + c * scale);
      const xEnd = Math.min(width, x0 + end * scale);
      if (xStart < xEnd) {
        for (let y = yStart; y < yEnd; y++) luma.fill(TEXT_LUMA, y * width + xStart, y * width + xEnd);
      }
      c = end;
    }
  }
}
