/**
 * "Did you mean …?" for a misspelt key, enum value or route. The candidate lists are short (a
 * schema object's keys, a handful of routes), so the textbook O(n·m) edit distance below is all
 * that is needed: a dozen lines, no dependency to keep up to date.
 */

/**
 * Edit distance: single-character insertions, deletions, substitutions and swaps of two
 * neighbours (optimal string alignment), since `PSOT` for `POST` is one slip of the fingers.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const above = rows[i - 1]!;
      let best = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate `word` was most likely meant to be, or undefined when none is close. A match that
 * differs only in case wins outright (`ratelimit` → `rateLimit`); otherwise the distance, compared
 * without case, must be at most a third of the word (at least 1, at most 3): `throtle` → `throttle`,
 * `rate` is not `rateLimit`. Ties go to the first candidate, so the answer is stable.
 */
export function nearMiss(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const sameLetters = candidates.find((c) => c.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  const allowed = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}
