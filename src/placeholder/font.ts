/**
 * A tiny 5x7 bitmap font for placeholder pictures ("END OF STREAM",
 * "NO SIGNAL"), so that glasscast needs no font files at run time.
 *
 * Each glyph is 7 rows, top to bottom; each row is a 5-bit mask whose bit 4
 * (0x10) is the leftmost column and bit 0 the rightmost. The glyphs are drawn
 * below as ASCII art ("#" lit, "." dark, rows separated by spaces) and turned
 * into masks once, when the module loads.
 */

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;

// prettier-ignore
const ART: Readonly<Record<string, string>> = {
  A: ".###. #...# #...# ##### #...# #...# #...#",
  B: "####. #...# #...# ####. #...# #...# ####.",
  C: ".###. #...# #.... #.... #.... #...# .###.",
  D: "####. #...# #...# #...# #...# #...# ####.",
  E: "##### #.... #.... ####. #.... #.... #####",
  F: "##### #.... #.... ####. #.... #.... #....",
  G: ".###. #...# #.... #.### #...# #...# .####",
  H: "#...# #...# #...# ##### #...# #...# #...#",
  I: ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  J: "..### ...#. ...#. ...#. ...#. #..#. .##..",
  K: "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
  L: "#.... #.... #.... #.... #.... #.... #####",
  M: "#...# ##.## #.#.# #.#.# #...# #...# #...#",
  N: "#...# #...# ##..# #.#.# #..## #...# #...#",
  O: ".###. #...# #...# #...# #...# #...# .###.",
  P: "####. #...# #...# ####. #.... #.... #....",
  Q: ".###. #...# #...# #...# #.#.# #..#. .##.#",
  R: "####. #...# #...# ####. #.#.. #..#. #...#",
  S: ".#### #.... #.... .###. ....# ....# ####.",
  T: "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  U: "#...# #...# #...# #...# #...# #...# .###.",
  V: "#...# #...# #...# #...# #...# .#.#. ..#..",
  W: "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
  X: "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
  Y: "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
  Z: "##### ....# ...#. ..#.. .#... #.... #####",

  "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
  "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
  "2": ".###. #...# ....# ...#. ..#.. .#... #####",
  "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
  "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
  "5": "##### #.... ####. ....# ....# #...# .###.",
  "6": "..##. .#... #.... ####. #...# #...# .###.",
  "7": "##### ....# ...#. ..#.. .#... .#... .#...",
  "8": ".###. #...# #...# .###. #...# #...# .###.",
  "9": ".###. #...# #...# .#### ....# ...#. .##..",

  " ": "..... ..... ..... ..... ..... ..... .....",
  ":": "..... .##.. .##.. ..... .##.. .##.. .....",
  ".": "..... ..... ..... ..... ..... .##.. .##..",
  ",": "..... ..... ..... ..... .##.. ..#.. .#...",
  "-": "..... ..... ..... .###. ..... ..... .....",
  "/": "....# ....# ...#. ..#.. .#... #.... #....",
  "!": "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",
  "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
  "%": "##..# ##..# ...#. ..#.. .#... #..## #..##",
  "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
  ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
  "'": "..#.. ..#.. ..... ..... ..... ..... .....",
  "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
  _: "..... ..... ..... ..... ..... ..... #####",
  "=": "..... ..... ##### ..... ##### ..... .....",
  "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
};

/** What any character without a glyph of its own looks like: a small box. */
const UNKNOWN_ART = "..... .###. .#.#. .#.#. .#.#. .###. .....";

function parse(name: string, art: string): readonly number[] {
  const rows = art.split(" ");
  if (rows.length !== GLYPH_HEIGHT || rows.some((r) => r.length !== GLYPH_WIDTH || /[^#.]/.test(r))) {
    throw new Error(`font: glyph ${JSON.stringify(name)} is not ${GLYPH_WIDTH}x${GLYPH_HEIGHT}`);
  }
  return Object.freeze(
    rows.map((r) => {
      let mask = 0;
      for (let x = 0; x < GLYPH_WIDTH; x++) if (r[x] === "#") mask |= 1 << (GLYPH_WIDTH - 1 - x);
      return mask;
    }),
  );
}

/** The glyph drawn for characters the font does not have. */
export const UNKNOWN_GLYPH: readonly number[] = parse("unknown", UNKNOWN_ART);

/** Every character with a glyph of its own (lowercase a–z map onto A–Z). */
export const FONT_CHARACTERS: string = Object.keys(ART).join("");

const GLYPHS = new Map<string, readonly number[]>();
for (const [ch, art] of Object.entries(ART)) {
  const g = parse(ch, art);
  GLYPHS.set(ch, g);
  const lower = ch.toLowerCase();
  if (lower !== ch) GLYPHS.set(lower, g);
}

/**
 * The 7 row masks of one character (one code point). Lowercase a–z are drawn
 * as uppercase; anything the font lacks (including multi-character strings)
 * gets UNKNOWN_GLYPH.
 */
export function glyph(ch: string): readonly number[] {
  return GLYPHS.get(ch) ?? UNKNOWN_GLYPH;
}
