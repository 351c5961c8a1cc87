// One intake partition while this instance owns it: the records read from it since the committed
// offset, held until every connection they are bound to has had them acknowledged by Kafka (or
// dead-lettered). It is the spool the pipeline's connection runners read, exactly as they read the
// local spool: read from a cursor, get, acknowledge, dead-letter; seqs are the intake offsets.
//
// It also says how far the partition's offset may be committed: up to the oldest record some
// connection still needs, so a window that is still open holds the offset back, and whoever owns
// the partition next starts from there and rebuilds the same windows.
import type { SpoolRecord } from '../types.ts';

interface HeldRecord {
  readonly record: SpoolRecord;
  /** Destinations that have not yet acknowledged or dead-lettered it. */
  readonly pending: Set<string>;
}

export interface PartitionDeadLetterWriter {
  /** Writes the dead letter durably and returns its id. */
  write(destination: string, record: SpoolRecord, reason: string, payload?: Buffer): Promise<number>;
}

export class PartitionLog {
  readonly partition: number;
  /** Records in offset order from #head on; settled ones are dropped from the front. */
  #held: HeldRecord[] = [];
  #head = 0;
  readonly #byOffset = new Map<bigint, HeldRecord>();
  #bytes = 0;
  /** The next offset after the last record taken in, or null before the first. */
  #nextOffset: bigint | null = null;
  readonly #deadLetters: PartitionDeadLetterWriter;
  readonly #onBytes: (delta: number) => void;
  #revoked = false;
  #catchingUp = true;

  constructor(partition: number, deadLetters: PartitionDeadLetterWriter, onBytes: (delta: number) => void = () => {}) {
    this.partition = partition;
    this.#deadLetters = deadLetters;
    this.#onBytes = onBytes;
  }

  /** Bytes of payload held. */
  get bytes(): number {
    return this.#bytes;
  }

  get records(): number {
    return this.#held.length - this.#head;
  }

  /** The offset after the last record taken in (null before the first). */
  get nextOffset(): bigint | null {
    return this.#nextOffset;
  }

  /**
   * True from assignment until the log holds the partition's backlog as of then (the records a
   * restart of the local spool would find on disk): until then the connections do not close
   * windows by the wall clock, or a window whose later batches are not read yet would be split.
   */
  get catchingUp(): boolean {
    return this.#catchingUp;
  }

  caughtUp(): void {
    this.#catchingUp = false;
  }

  /** The partition moved away: the log takes no more records and its acknowledgements change nothing. */
  revoke(): void {
    this.#revoked = true;
    this.#onBytes(-this.#bytes);
    this.#bytes = 0;
    this.#held = [];
    this.#head = 0;
    this.#byOffset.clear();
  }

  get revoked(): boolean {
    return this.#revoked;
  }

  /**
   * Takes in the record read at `record.seq` (its offset), bound to `destinations`; a record at or
   * below one already taken in (the consumer re-reads from the committed offset after each
   * rebalance) is ignored. A record bound to no destination is settled at once.
   */
  add(record: SpoolRecord, destinations: readonly string[]): boolean {
    if (this.#revoked) return false;
    if (this.#nextOffset !== null && record.seq < this.#nextOffset) return false;
    this.#nextOffset = record.seq + 1n;
    if (destinations.length === 0) return true;
    const held: HeldRecord = { record, pending: new Set(destinations) };
    this.#held.push(held);
    this.#byOffset.set(record.seq, held);
    this.#bytes += record.payload.length;
    this.#onBytes(record.payload.length);
    return true;
  }

  /**
   * The offset to commit: that of the oldest record some destination still needs, else the next
   * one to read. Null before any record was taken in (nothing to commit yet).
   */
  committableOffset(): bigint | null {
    return this.#head < this.#held.length ? this.#held[this.#head].record.seq : this.#nextOffset;
  }

  /** Records still pending for the destination with seq > afterSeq, in offset order. */
  read(destination: string, afterSeq: bigint | null, limit: number): Promise<SpoolRecord[]> {
    const out: SpoolRecord[] = [];
    let low = this.#head;
    if (afterSeq !== null) {
      let high = this.#held.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (this.#held[middle].record.seq <= afterSeq) low = middle + 1;
        else high = middle;
      }
    }
    for (let i = low; i < this.#held.length && out.length < limit; i++) {
      if (this.#held[i].pending.has(destination)) out.push(this.#held[i].record);
    }
    return Promise.resolve(out);
  }

  get(seqs: readonly bigint[]): Promise<SpoolRecord[]> {
    const out: SpoolRecord[] = [];
    for (const seq of [...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const held = this.#byOffset.get(seq);
      if (held !== undefined) out.push(held.record);
    }
    return Promise.resolve(out);
  }

  ack(destination: string, seqs: readonly bigint[]): Promise<void> {
    for (const seq of seqs) this.#settle(destination, seq);
    return Promise.resolve();
  }

  async deadLetter(destination: string, seq: bigint, reason: string, payload?: Buffer): Promise<number | null> {
    const held = this.#byOffset.get(seq);
    if (held === undefined || !held.pending.has(destination)) return null;
    const id = await this.#deadLetters.write(destination, held.record, reason, payload);
    this.#settle(destination, seq);
    return id;
  }

  /** The oldest offset the destination still needs here, or null when it needs none. */
  oldestPending(destination: string): bigint | null {
    for (let i = this.#head; i < this.#held.length; i++) {
      if (this.#held[i].pending.has(destination)) return this.#held[i].record.seq;
    }
    return null;
  }

  /** Records still pending per destination (the backlog). */
  backlog(): Map<string, number> {
    const counts = new Map<string, number>();
    for (let i = this.#head; i < this.#held.length; i++) {
      const held = this.#held[i];
      for (const destination of held.pending) counts.set(destination, (counts.get(destination) ?? 0) + 1);
    }
    return counts;
  }

  #settle(destination: string, seq: bigint): void {
    const held = this.#byOffset.get(seq);
    if (held === undefined) return;
    held.pending.delete(destination);
    if (held.pending.size > 0) return;
    this.#byOffset.delete(seq);
    this.#bytes -= held.record.payload.length;
    this.#onBytes(-held.record.payload.length);
    // Settled records leave from the front only, so the array stays in offset order; one settled
    // out of order waits (with its payload dropped from the count) until those before it settle.
    while (this.#head < this.#held.length && this.#held[this.#head].pending.size === 0) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#held.length) {
      this.#held = this.#held.slice(this.#head);
      this.#head = 0;
    }
  }
}
