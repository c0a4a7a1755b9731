/**
 * A picture of flat colour patches of known RGB (sRGB), for colour tests:
 * pure primaries and secondaries (where BT.601 read as BT.709 is worst),
 * mid colours, and a dark and a light grey (where a wrong range shows).
 * 640x360, 4 columns by 2 rows of 160x180 patches.
 */
export const PATCHES_WIDTH = 640;
export const PATCHES_HEIGHT = 360;
export const PATCH_W = 160;
export const PATCH_H = 180;

export interface Patch {
  readonly name: string;
  readonly rgb: readonly [number, number, number];
  /** Top-left corner. */
  readonly x: number;
  readonly y: number;
}

const COLOURS: readonly (readonly [string, readonly [number, number, number]])[] = [
  ["red", [255, 0, 0]],
  ["green", [0, 255, 0]],
  ["blue", [0, 0, 255]],
  ["cyan", [0, 255, 255]],
  ["brick", [200, 60, 40]],
  ["leaf", [60, 160, 90]],
  ["dark grey", [40, 40, 40]],
  ["light grey", [210, 210, 210]],
];

export const PATCHES: readonly Patch[] = COLOURS.map(([name, rgb], i) => ({ name, rgb, x: (i % 4) * PATCH_W, y: Math.floor(i / 4) * PATCH_H }));

/** The picture as packed RGB, row by row. */
export function patchesRgb(): Uint8Array {
  const out = new Uint8Array(PATCHES_WIDTH * PATCHES_HEIGHT * 3);
  for (const p of PATCHES) {
    for (let y = p.y; y < p.y + PATCH_H; y++) {
      for (let x = p.x; x < p.x + PATCH_W; x++) out.set(p.rgb, (y * PATCHES_WIDTH + x) * 3);
    }
  }
  return out;
}
