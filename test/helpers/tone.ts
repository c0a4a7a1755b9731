/**
 * Reading a received tone back: mono s16le samples at 48 kHz (what ffmpeg
 * decodes an Opus track to, or what the fake speaker writes), their level in
 * dBFS and the frequency with the most energy (a DFT around the tone).
 */
const RATE = 48_000;

/** The samples of mono s16le bytes, as -1..1. */
export function s16leSamples(bytes: Uint8Array): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength - (bytes.byteLength % 2));
  return Float64Array.from({ length: view.byteLength / 2 }, (_, i) => view.getInt16(i * 2, true) / 32768);
}

/** RMS in dBFS (-Infinity for no samples). */
export function rmsDb(x: Float64Array): number {
  if (x.length === 0) return -Infinity;
  let sum = 0;
  for (const v of x) sum += v * v;
  return 10 * Math.log10(sum / x.length);
}

/**
 * The tone in mono s16le at 48 kHz: its frequency (100–2000 Hz in 5 Hz steps, over the last second),
 * its level (over the last second, or over `level: "all"` the samples) and how many seconds there are.
 */
export function measureTone(bytes: Uint8Array, { level = "last-second" }: { level?: "last-second" | "all" } = {}): { db: number; hz: number; seconds: number } {
  const x = s16leSamples(bytes);
  const part = x.subarray(Math.max(0, x.length - RATE)); // the last second
  let best = { hz: 0, power: -1 };
  for (let hz = 100; hz <= 2000; hz += 5) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < part.length; i++) {
      const a = (2 * Math.PI * hz * i) / RATE;
      re += part[i]! * Math.cos(a);
      im += part[i]! * Math.sin(a);
    }
    const power = re * re + im * im;
    if (power > best.power) best = { hz, power };
  }
  return { db: rmsDb(level === "all" ? x : part), hz: best.hz, seconds: x.length / RATE };
}
