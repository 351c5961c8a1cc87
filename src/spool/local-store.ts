// The local spool as a store: one partition, the whole spool, assigned to processing at start and
// never moved. Appends that become durable tell processing at once, instead of at its next poll.
import type {
  AppendItem,
  AppendResult,
  DeadLetter,
  DeadLetterSummary,
  PartitionListener,
  Spool,
  SpoolRecord,
  Store,
  StorePartition,
} from './types.ts';

class WholeSpool implements StorePartition {
  readonly partition = null;
  readonly catchingUp = false;
  readonly #spool: Spool;

  constructor(spool: Spool) {
    this.#spool = spool;
  }

  read(destination: string, afterSeq: bigint | null, limit: number): Promise<SpoolRecord[]> {
    return this.#spool.read(destination, afterSeq, limit);
  }

  get(seqs: readonly bigint[]): Promise<SpoolRecord[]> {
    return this.#spool.get(seqs);
  }

  ack(destination: string, seqs: readonly bigint[]): Promise<void> {
    return this.#spool.ack(destination, seqs);
  }

  deadLetter(destination: string, seq: bigint, reason: string, payload?: Buffer): Promise<number | null> {
    return this.#spool.deadLetter(destination, seq, reason, payload);
  }
}

export class LocalStore implements Store {
  readonly kind = 'local';
  readonly spool: Spool;
  readonly #partition: WholeSpool;
  #listener: PartitionListener | undefined;

  constructor(spool: Spool) {
    this.spool = spool;
    this.#partition = new WholeSpool(spool);
  }

  async append(items: readonly AppendItem[]): Promise<AppendResult[]> {
    const results = await this.spool.append(items);
    this.#listener?.received(this.#partition);
    return results;
  }

  startProcessing(listener: PartitionListener): Promise<void> {
    this.#listener = listener;
    listener.assigned(this.#partition);
    return Promise.resolve();
  }

  notReadyReason(): string | null {
    if (this.spool.state === 'full')
      return this.spool.stats().fullReason === 'disk'
        ? "the spool's disk has less free space than spool.min_free_disk_bytes"
        : 'the spool is above its high-water mark';
    if (this.spool.state === 'unavailable') return 'the spool is not writable';
    return null;
  }

  degradedReasons(): string[] {
    return [];
  }

  listDeadLetters(destination?: string, limit?: number, afterId?: number): Promise<DeadLetterSummary[]> {
    return this.spool.listDeadLetters(destination, limit, afterId);
  }

  showDeadLetter(id: number): Promise<DeadLetter | null> {
    return this.spool.showDeadLetter(id);
  }

  close(): Promise<void> {
    return this.spool.close();
  }
}
