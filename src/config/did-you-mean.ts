// "Did you mean …?" for misspelt setting names and references.

/**
 * Edit distance between two strings: insertions, deletions, substitutions and swaps of two
 * neighbouring letters (the commonest typo) each count one (Levenshtein with transpositions).
 */
export function levenshtein(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, index) => index)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        distance = Math.min(distance, rows[i - 2][j - 2] + 1);
      row.push(distance);
    }
    rows.push(row);
  }
  return rows[a.length][b.length];
}

/**
 * The candidate closest to `word`, if close enough to be a likely typo: at most a third of the
 * word's length in edits (so short words need near-exact matches), ignoring case and -/_ swaps.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const normalise = (text: string): string => text.toLowerCase().replaceAll('-', '_');
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = levenshtein(normalise(word), normalise(candidate));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
