// Acknowledgements travel back to the spool in groups: each spool.ack is a durable write, so the
// runner hands over seqs as their records are acknowledged by Kafka and this writes them together
// (one call per tick, or sooner when many are waiting). Ingest-to-ack latency is observed once
// the spool has recorded the ack, i.e. when the batch has really left the forwarder's hands.
import type { Spool } from '../spool/types.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface AckBatcherOptions {
  readonly destination: string;
  readonly spool: Pick<Spool, 'ack'>;
  readonly logger: Logger;
  /** Called once per acknowledged batch with its receipt time, after the ack is durable. */
  readonly onAcked: (receivedAtMs: number) => void;
  /** Acknowledge as soon as this many seqs wait. */
  readonly maxBatch?: number;
}

export class AckBatcher {
  readonly #options: AckBatcherOptions;
  #seqs: bigint[] = [];
  #receivedAt: number[] = [];
  #scheduled = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(options: AckBatcherOptions) {
    this.#options = options;
  }

  add(seq: bigint, receivedAtMs: number): void {
    this.#seqs.push(seq);
    this.#receivedAt.push(receivedAtMs);
    if (this.#seqs.length >= (this.#options.maxBatch ?? 1000)) {
      void this.flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Writes what is waiting; resolves when it and every earlier write are done. */
  flush(): Promise<void> {
    this.#scheduled = false;
    if (this.#seqs.length > 0) {
      const seqs = this.#seqs;
      const receivedAt = this.#receivedAt;
      this.#seqs = [];
      this.#receivedAt = [];
      this.#writing = this.#writing.then(() => this.#write(seqs, receivedAt));
    }
    return this.#writing;
  }

  async #write(seqs: bigint[], receivedAt: number[]): Promise<void> {
    try {
      await this.#options.spool.ack(this.#options.destination, seqs);
    } catch (error) {
      // Kafka has the records; without the ack they are sent again after a restart (at least once).
      this.#options.logger.error(
        { err: error, connection: this.#options.destination, batches: seqs.length },
        'could not record Kafka acknowledgements in the spool; those batches will be sent again',
      );
      return;
    }
    for (const at of receivedAt) this.#options.onAcked(at);
  }
}
