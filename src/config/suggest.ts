/**
 * "did you mean --source?": the known word nearest to a mistyped one, by
 * edit distance (a swap of two neighbouring letters counts as one edit; case,
 * dashes and underscores do not count), or the one known word it begins.
 * Nothing when no word is near enough to be a likely typo.
 */

/** Edits (insert, delete, replace, swap two neighbours) that turn a into b. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate nearest to `word`, or null when none is a likely typo of it. */
export function nearest(word: string, candidates: readonly string[]): string | null {
  const w = norm(word);
  if (w === "") return null;
  const allowed = w.length < 5 ? 1 : w.length < 9 ? 2 : 3;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const distance = editDistance(w, norm(c));
    if (distance < bestDistance) {
      best = c;
      bestDistance = distance;
    }
  }
  if (best !== null && bestDistance <= allowed) return best;
  // A word cut short ("--jpeg-qual"): the one candidate it begins.
  const longer = w.length >= 3 ? candidates.filter((c) => norm(c).startsWith(w)) : [];
  return longer.length === 1 ? longer[0]! : null;
}

function norm(s: string): string {
  return s.toLowerCase().replace(/^-+/, "").replace(/[-_]/g, "");
}

/** "; did you mean X?" for a message, or "" when nothing is near. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const match = nearest(word, candidates);
  return match === null ? "" : `; did you mean ${match}?`;
}
