// Acknowledgements travel back to the spool in groups: each spool.ack is a durable write, so the
// runner hands over seqs as their records are acknowledged by Kafka and this writes them together
// (one call per tick, or sooner when many are waiting). Ingest-to-ack latency is observed once
// the spool has recorded the ack, i.e. when the batch has really left the forwarder's hands.
//
// An acknowledgement is never dropped: Kafka has those records, and a batch whose ack is lost stays
// in the spool, is sent again at the next start and fills the disk meanwhile. A write that fails
// (a full or failing disk) is retried with backoff until it succeeds, later acks waiting behind it
// in order; only a stop that cannot wait any longer (abandon) leaves them unwritten.
import type { Spool } from '../spool/index.ts';
import type { Logger } from '../telemetry/index.ts';

export interface AckBatcherOptions {
  readonly destination: string;
  readonly spool: Pick<Spool, 'ack'>;
  readonly logger: Logger;
  /** Called once per acknowledged batch with its receipt time, after the ack is durable. */
  readonly onAcked: (receivedAtMs: number) => void;
  /** Acknowledge as soon as this many seqs wait. */
  readonly maxBatch?: number;
  /** Backoff between attempts at a failed write: doubles from min to max. */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

const DEFAULT_MAX_BATCH = 1000;
const DEFAULT_RETRY_MIN_MS = 100;
const DEFAULT_RETRY_MAX_MS = 5000;

export class AckBatcher {
  readonly #options: AckBatcherOptions;
  #seqs: bigint[] = [];
  #receivedAt: number[] = [];
  #scheduled = false;
  #writing: Promise<void> = Promise.resolve();
  /** Set by abandon(): a write still failing then gives up instead of retrying. */
  #abandoned = false;
  #wakeRetry: (() => void) | undefined;
  /** Acks taken by a write that has not succeeded yet. */
  #inWrite = 0;

  constructor(options: AckBatcherOptions) {
    this.#options = options;
  }

  /** Acks waiting to be written or being retried. */
  get unwritten(): number {
    return this.#seqs.length + this.#inWrite;
  }

  add(seq: bigint, receivedAtMs: number): void {
    this.#seqs.push(seq);
    this.#receivedAt.push(receivedAtMs);
    if (this.#seqs.length >= (this.#options.maxBatch ?? DEFAULT_MAX_BATCH)) {
      void this.flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Writes what is waiting; resolves when it and every earlier write are done (or abandoned). */
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

  /**
   * For a stop that cannot wait any longer: writes still failing give up (their batches stay in
   * the spool and are sent again at the next start). Returns how many acks were left unwritten.
   */
  abandon(): number {
    this.#abandoned = true;
    this.#wakeRetry?.();
    return this.unwritten;
  }

  async #write(seqs: bigint[], receivedAt: number[]): Promise<void> {
    const { retryMinMs = DEFAULT_RETRY_MIN_MS, retryMaxMs = DEFAULT_RETRY_MAX_MS } = this.#options;
    this.#inWrite += seqs.length;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#options.spool.ack(this.#options.destination, seqs);
          break;
        } catch (error) {
          if (this.#abandoned) {
            this.#options.logger.error(
              { err: error, connection: this.#options.destination, batches: seqs.length },
              'stopping without recording Kafka acknowledgements in the spool; those batches will be sent again at the next start',
            );
            return;
          }
          const delayMs = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(attempt - 1, 20));
          // The first failure and then one line a minute or so: a full disk must not flood the log.
          if (attempt === 1 || attempt % Math.max(1, Math.round(60_000 / retryMaxMs)) === 0) {
            this.#options.logger.warn(
              { err: error, connection: this.#options.destination, batches: seqs.length, attempt, retryInMs: delayMs },
              'could not record Kafka acknowledgements in the spool yet; retrying (nothing is dropped)',
            );
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, delayMs);
            function done(): void {
              clearTimeout(timer);
              resolve();
            }
            this.#wakeRetry = done;
          });
          this.#wakeRetry = undefined;
        }
      }
    } finally {
      this.#inWrite -= seqs.length;
    }
    for (const at of receivedAt) this.#options.onAcked(at);
  }
}
