/** The benchmarks' statistics: median, percentile, and "median (min–max)" spread. */

/** Middle value (mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile (0–100, nearest rank) of values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A figure with `digits` decimals; "—" for none (null, NaN, ∞). */
export function fixed(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(digits);
}

/** "median (min–max)" over rounds; the value alone for one round; "—" for none. */
export function spread(values: readonly number[], digits = 1): string {
  if (values.length === 0) return "—";
  if (values.length === 1) return fixed(values[0]!, digits);
  return `${fixed(median(values), digits)} (${fixed(Math.min(...values), digits)}–${fixed(Math.max(...values), digits)})`;
}

/** Sum of values. */
export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
