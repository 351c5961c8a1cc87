// The deduplication key of a batch, declared once for both spool kinds: the input's name and the
// client's source_request_id. Inputs are apart (two inputs may use the same ids); within an input
// a batch whose key was accepted within spool.dedup_window_ms is a duplicate.

const SEPARATOR = '\u0000';

/** The key of a batch with this source_request_id, or undefined when it has none (never deduplicated). */
export function dedupKeyOf(input: string, sourceRequestId: unknown): string | undefined {
  // Any scalar id counts (the schema accepts numbers too); an empty one does not.
  if (typeof sourceRequestId !== 'string' && typeof sourceRequestId !== 'number' && typeof sourceRequestId !== 'bigint')
    return undefined;
  if (sourceRequestId === '') return undefined;
  return `${input}${SEPARATOR}${String(sourceRequestId)}`;
}

/** The input a dedup key belongs to (for the per-input duplicate counts). */
export function inputOfDedupKey(key: string): string {
  const end = key.indexOf(SEPARATOR);
  return end < 0 ? key : key.slice(0, end);
}
