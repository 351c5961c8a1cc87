// Deduplication by source_request_id in cluster mode: each intake partition's owner keeps the keys
// it has seen within the dedup window, and writes each one to the partition's twin on the state
// topic (compacted, keyed by the dedup key), as Kafka Streams keeps a state store in a changelog.
// Whoever owns the partition next reads that partition of the state topic back before it
// processes a record, so the decisions do not depend on which instance makes them. Pure: no I/O.
//
// A resent request carries the same MPID (or device), so it lands on the same intake partition as
// the original and meets the same state.

export interface DedupEntry {
  /** Intake offset of the first record with the key. */
  readonly offset: bigint;
  readonly receivedAtMs: number;
}

export function encodeDedupEntry(entry: DedupEntry): Buffer {
  return Buffer.from(JSON.stringify({ offset: String(entry.offset), receivedAtMs: entry.receivedAtMs }), 'utf8');
}

export function decodeDedupEntry(value: Buffer): DedupEntry | undefined {
  try {
    const parsed = JSON.parse(value.toString('utf8')) as { offset?: unknown; receivedAtMs?: unknown };
    if (typeof parsed.offset !== 'string' || !/^\d+$/.test(parsed.offset)) return undefined;
    if (typeof parsed.receivedAtMs !== 'number') return undefined;
    return { offset: BigInt(parsed.offset), receivedAtMs: parsed.receivedAtMs };
  } catch {
    return undefined;
  }
}

export class PartitionDedup {
  readonly #windowMs: number;
  readonly #entries = new Map<string, DedupEntry>();

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Applies one state-topic record while restoring (a null value is a tombstone). */
  restore(key: string, value: Buffer | null): void {
    if (value === null) {
      this.#entries.delete(key);
      return;
    }
    const entry = decodeDedupEntry(value);
    if (entry !== undefined) this.#entries.set(key, entry);
  }

  /**
   * Decides for the record at `offset`: a duplicate when an earlier record had the key within the
   * window. Otherwise the record is the first, and the entry to write to the state topic is
   * returned. Processing the first record again (after a rebalance) is not a duplicate of itself;
   * and an entry from further on in the partition (written by an owner that got further than the
   * committed offset) yields to the earlier record now being processed.
   */
  check(
    key: string,
    offset: bigint,
    receivedAtMs: number,
  ): { duplicate: true } | { duplicate: false; fresh: boolean; entry: DedupEntry } {
    const seen = this.#entries.get(key);
    if (seen !== undefined && seen.offset < offset && receivedAtMs - seen.receivedAtMs <= this.#windowMs) {
      return { duplicate: true };
    }
    if (seen !== undefined && seen.offset === offset) return { duplicate: false, fresh: false, entry: seen };
    const entry = { offset, receivedAtMs };
    this.#entries.set(key, entry);
    return { duplicate: false, fresh: true, entry };
  }

  /** Takes over the entries of a restored state (merged under any already here). */
  adopt(restored: PartitionDedup): void {
    for (const [key, entry] of restored.#entries) if (!this.#entries.has(key)) this.#entries.set(key, entry);
  }

  /** Forgets the keys accepted longer than the window before nowMs; returns them (for tombstones). */
  expire(nowMs: number): string[] {
    const expired: string[] = [];
    for (const [key, entry] of this.#entries) {
      if (nowMs - entry.receivedAtMs > this.#windowMs) {
        this.#entries.delete(key);
        expired.push(key);
      }
    }
    return expired;
  }
}
