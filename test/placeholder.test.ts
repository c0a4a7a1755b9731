/**
 * Placeholder pictures: what viewers see when a source has ended or lost its
 * signal. A very dark, neutral grey picture with large light text centred on
 * it, drawn with a built-in 5x7 bitmap font (no font files needed).
 */
import { describe, expect, test } from "bun:test";
import { TurboJpeg, type TjSubsampling } from "../src/ffi/turbojpeg.ts";
import { FONT_CHARACTERS, GLYPH_HEIGHT, GLYPH_WIDTH, UNKNOWN_GLYPH, glyph } from "../src/placeholder/font.ts";
import { renderPlaceholder } from "../src/placeholder/render.ts";
import { rawFrameSize, type PlanarFormat } from "../src/media/frame.ts";

const FORMATS: readonly PlanarFormat[] = ["i420", "i422", "i444", "gray"];
const BACKGROUND = 24;
const TEXT = 235;
const NEUTRAL = 128;

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}

/** Bounding box of the text (luma == 235) in the luma plane, or null if there is none. */
function textBox(data: Uint8Array, width: number, height: number): Box | null {
  let left = width,
    right = -1,
    top = height,
    bottom = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x] === TEXT) {
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        bottom = y;
      }
    }
  }
  return right < 0 ? null : { left, right, top, bottom, width: right - left + 1, height: bottom - top + 1 };
}

/** Margins left/right and above/below the text differ by at most `tolerance` pixels. */
function expectCentred(box: Box, width: number, height: number, tolerance = 2): void {
  expect(Math.abs(box.left - (width - 1 - box.right))).toBeLessThanOrEqual(tolerance);
  expect(Math.abs(box.top - (height - 1 - box.bottom))).toBeLessThanOrEqual(tolerance);
}

describe("renderPlaceholder: picture layout", () => {
  test("the buffer is exactly one raw picture of the requested format, even for odd sizes", () => {
    const sizes: [number, number][] = [
      [2, 2],
      [3, 3],
      [16, 16],
      [641, 361],
      [1280, 720],
      [1921, 1081],
      [3840, 2160],
    ];
    for (const format of FORMATS) {
      for (const [w, h] of sizes) {
        const data = renderPlaceholder(format, w, h, ["NO SIGNAL"]);
        expect(data).toBeInstanceOf(Uint8Array);
        expect(data.length).toBe(rawFrameSize(format, w, h));
      }
    }
  });

  test("background luma is 24 (very dark grey), text luma is 235, chroma is 128 (neutral) everywhere", () => {
    for (const format of FORMATS) {
      const [w, h] = [641, 361];
      const data = renderPlaceholder(format, w, h, ["NO SIGNAL", "LAST FRAME 00:01:23 AGO"]);
      const luma = data.subarray(0, w * h);
      // Only two luma values: no anti-aliasing, every pixel is background or text.
      expect(new Set(luma)).toEqual(new Set([BACKGROUND, TEXT]));
      expect(luma[0]).toBe(BACKGROUND);
      expect(luma[w * h - 1]).toBe(BACKGROUND);
      // Mostly background.
      expect(luma.filter((v) => v === TEXT).length).toBeLessThan(w * h * 0.25);
      const chroma = data.subarray(w * h);
      expect(chroma.length).toBe(rawFrameSize(format, w, h) - w * h);
      expect(chroma.every((v) => v === NEUTRAL)).toBe(true);
    }
  });

  test("no lines, or only blank lines, give a plain background", () => {
    for (const lines of [[], [""], [" ", "   "]]) {
      const data = renderPlaceholder("i420", 64, 48, lines);
      expect(data.subarray(0, 64 * 48).every((v) => v === BACKGROUND)).toBe(true);
      expect(data.subarray(64 * 48).every((v) => v === NEUTRAL)).toBe(true);
    }
  });

  for (const [w, h] of [
    [1280, 720],
    [641, 361],
  ] as const) {
    test(`text is centred horizontally and vertically at ${w}x${h}`, () => {
      for (const lines of [["END OF STREAM"], ["NO SIGNAL", "LAST FRAME 00:01:23 AGO"]]) {
        const box = textBox(renderPlaceholder("i420", w, h, lines), w, h);
        expect(box).not.toBeNull();
        expectCentred(box!, w, h);
      }
    });
  }

  test("each line is centred on its own; lines are separated by a gap of 2 glyph pixels", () => {
    const [w, h] = [1280, 720];
    const data = renderPlaceholder("gray", w, h, ["NO SIGNAL", "LAST FRAME 00:01:23 AGO"]);
    const block = textBox(data, w, h)!;
    // Both lines start with a glyph that reaches the top and bottom row, so
    // block height = (7 + 2 + 7) * scale.
    const scale = block.height / (2 * GLYPH_HEIGHT + 2);
    expect(Number.isInteger(scale)).toBe(true);
    const firstLineBottom = block.top + GLYPH_HEIGHT * scale; // exclusive
    const first = textBox(data.subarray(0, firstLineBottom * w), w, firstLineBottom)!;
    expect(first.height).toBe(GLYPH_HEIGHT * scale);
    expect(first.width).toBeLessThan(block.width); // "NO SIGNAL" is the shorter line…
    expect(Math.abs(first.left - (w - 1 - first.right))).toBeLessThanOrEqual(2); // …and centred by itself
    // The rows between the lines are empty.
    const gap = data.subarray(firstLineBottom * w, (firstLineBottom + 2 * scale) * w);
    expect(gap.every((v) => v === BACKGROUND)).toBe(true);
  });

  test("one integer scale: the largest that keeps the text within 80% of the width and 60% of the height", () => {
    const lines = ["END OF STREAM"]; // 13 glyphs: 13 * 5 + 12 * 1 = 77 glyph pixels wide, 7 high
    const scales: number[] = [];
    for (const [w, h] of [
      [160, 120],
      [320, 180],
      [641, 361],
      [1280, 720],
      [1920, 1080],
      [3840, 2160],
    ] as const) {
      const box = textBox(renderPlaceholder("i420", w, h, lines), w, h)!;
      const scale = box.height / GLYPH_HEIGHT;
      expect(Number.isInteger(scale)).toBe(true);
      expect(box.width).toBe(77 * scale);
      expect(box.width).toBeLessThanOrEqual(w * 0.8);
      expect(box.height).toBeLessThanOrEqual(h * 0.6);
      // One step larger would no longer fit.
      expect(77 * (scale + 1) > w * 0.8 || GLYPH_HEIGHT * (scale + 1) > h * 0.6).toBe(true);
      scales.push(scale);
    }
    expect(scales).toEqual([1, 3, 6, 13, 19, 39]);
  });

  test("lowercase is drawn as uppercase", () => {
    expect(renderPlaceholder("i420", 320, 180, ["no signal"])).toEqual(renderPlaceholder("i420", 320, 180, ["NO SIGNAL"]));
  });

  test("tiny pictures where even scale 1 does not fit are rendered clipped, without throwing", () => {
    for (const [w, h] of [
      [16, 16],
      [32, 18],
      [2, 2],
      [1, 1],
      [3, 1],
    ] as const) {
      for (const format of FORMATS) {
        const data = renderPlaceholder(format, w, h, ["NO SIGNAL", "LAST FRAME 00:01:23 AGO"]);
        expect(data.length).toBe(rawFrameSize(format, w, h));
      }
    }
    // At 16x16 the middle of the text is still visible.
    expect(textBox(renderPlaceholder("gray", 16, 16, ["END OF STREAM"]), 16, 16)).not.toBeNull();
  });

  test("sizes that are not positive integers are refused", () => {
    expect(() => renderPlaceholder("i420", 0, 10, ["X"])).toThrow(RangeError);
    expect(() => renderPlaceholder("i420", 10, -1, ["X"])).toThrow(RangeError);
    expect(() => renderPlaceholder("i420", 10.5, 10, ["X"])).toThrow(RangeError);
  });
});

describe("bitmap font", () => {
  const REQUIRED = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 :.,-/!?%()'+_=#";

  test("glyphs are 5x7: seven row masks of five bits", () => {
    expect(GLYPH_WIDTH).toBe(5);
    expect(GLYPH_HEIGHT).toBe(7);
    for (const ch of [...FONT_CHARACTERS, "\u0000"]) {
      const g = glyph(ch);
      expect(g.length).toBe(7);
      for (const row of g) expect(row >= 0 && row < 32 && Number.isInteger(row)).toBe(true);
    }
  });

  test("A-Z, 0-9, space and : . , - / ! ? % ( ) ' + _ = # all have a glyph of their own", () => {
    for (const ch of REQUIRED) {
      expect(FONT_CHARACTERS).toContain(ch);
      expect(glyph(ch)).not.toEqual(UNKNOWN_GLYPH);
    }
  });

  test("no two characters share a glyph (e.g. O and 0, I and 1, S and 5 differ)", () => {
    const seen = new Map<string, string>();
    for (const ch of FONT_CHARACTERS) {
      const key = glyph(ch).join(",");
      expect(seen.get(key)).toBeUndefined();
      seen.set(key, ch);
    }
  });

  test("space is blank and every other glyph lights at least one pixel", () => {
    expect(glyph(" ").every((row) => row === 0)).toBe(true);
    for (const ch of FONT_CHARACTERS.replace(" ", "")) expect(glyph(ch).some((row) => row !== 0)).toBe(true);
  });

  test("lowercase letters map to uppercase; unknown characters get the 'unknown' box", () => {
    for (const ch of "abcdefghijklmnopqrstuvwxyz") expect(glyph(ch)).toBe(glyph(ch.toUpperCase()));
    for (const ch of ["~", "é", "\t", "\u{1F600}", "AB", ""]) expect(glyph(ch)).toBe(UNKNOWN_GLYPH);
    expect(UNKNOWN_GLYPH.some((row) => row !== 0)).toBe(true);
  });

  test("an unknown character (even one outside the BMP) takes exactly one glyph cell", () => {
    const known = textBox(renderPlaceholder("gray", 400, 200, ["A?B"]), 400, 200)!;
    const emoji = textBox(renderPlaceholder("gray", 400, 200, ["A\u{1F600}B"]), 400, 200)!;
    expect(emoji.width).toBe(known.width);
  });
});

describe("placeholder pictures compress with libjpeg-turbo", () => {
  const cases: [PlanarFormat, TjSubsampling][] = [
    ["i420", "420"],
    ["i422", "422"],
    ["i444", "444"],
    ["gray", "gray"],
  ];

  for (const [w, h] of [
    [1280, 720],
    [641, 361],
  ] as const) {
    test(`${w}x${h} in every planar format gives a valid JPEG of that size`, () => {
      const tj = new TurboJpeg();
      try {
        for (const [format, subsampling] of cases) {
          const data = renderPlaceholder(format, w, h, ["NO SIGNAL", "LAST FRAME 00:01:23 AGO"]);
          const jpeg = tj.compressYuv(data, w, h, subsampling, 90, 0);
          expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]); // SOI
          expect([jpeg[jpeg.length - 2], jpeg[jpeg.length - 1]]).toEqual([0xff, 0xd9]); // EOI
          expect(tj.readHeader(jpeg)).toEqual({ width: w, height: h, subsampling });
        }
      } finally {
        tj.close();
      }
    });
  }
});
