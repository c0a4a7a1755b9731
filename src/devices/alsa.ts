/**
 * The ALSA capture devices for `glasscast devices` and `--audio`: read from
 * /proc/asound (no tool needed): `pcm` has a line per PCM device, e.g.
 * `01-00: USB Audio : USB Audio : playback 1 : capture 1`, and `cards` names
 * each card (` 1 [Device         ]: USB-Audio - USB PnP Sound Device`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const DEFAULT_ASOUND = "/proc/asound";

export interface AlsaCaptureDevice {
  readonly card: number;
  readonly device: number;
  /** The card's name (its driver's long name), else the PCM's own. */
  readonly name: string;
  /** What to give glasscast: --audio hw:C,D (plughw:C,D converts rate and channels when the device cannot do mono 48 kHz). */
  readonly audio: string;
}

export interface AlsaListing {
  readonly asound: string;
  /** False when there is no /proc/asound (no sound driver loaded). */
  readonly found: boolean;
  readonly devices: readonly AlsaCaptureDevice[];
}

/** The capture devices of /proc/asound/pcm, named from /proc/asound/cards. */
export function parseAsound(pcm: string, cards: string): AlsaCaptureDevice[] {
  const cardNames = new Map<number, string>();
  for (const m of cards.matchAll(/^\s*(\d+)\s+\[[^\]]*\]:\s*\S+\s+-\s+(.+)$/gm)) cardNames.set(Number(m[1]), m[2]!.trim());
  const out: AlsaCaptureDevice[] = [];
  for (const line of pcm.split("\n")) {
    const m = /^(\d+)-(\d+):\s*([^:]*?)\s*:\s*([^:]*?)\s*:(.*)$/.exec(line);
    if (!m || !/capture \d+/.test(m[5]!)) continue;
    const card = Number(m[1]);
    const device = Number(m[2]);
    out.push({ card, device, name: cardNames.get(card) ?? m[3]!, audio: `hw:${card},${device}` });
  }
  return out;
}

export function listAlsa(asound = DEFAULT_ASOUND): AlsaListing {
  let pcm: string;
  try {
    pcm = readFileSync(join(asound, "pcm"), "utf8");
  } catch {
    return { asound, found: false, devices: [] };
  }
  let cards = "";
  try {
    cards = readFileSync(join(asound, "cards"), "utf8");
  } catch {
    /* names only */
  }
  return { asound, found: true, devices: parseAsound(pcm, cards) };
}
