// One Kafka output: the queue in front of its KafkaService. Records from every connection that
// feeds the output queue here in the order they are handed over, and leave in that order, in
// requests of up to requestMaxBytes, gathered for up to lingerMs when the output is idle.
//
// Ordering: one request is in flight at a time, and a request that fails is retried (by the
// service) before anything newer is sent. So a key's records reach their partition in order
// across retries, broker failover and producer replacement: nothing later can overtake a record
// that has not been acknowledged yet. A retry resends only the records of the partitions Kafka
// did not write (see service.ts), and the library's own retries of a request keep its producer
// id and sequence numbers, so the broker does not write them twice. Throughput comes from large
// requests, not from parallel ones.
import type { Logger } from '../../telemetry/index.ts';
import type { Metrics } from '../../telemetry/index.ts';
import type { KafkaOutputSettings } from './config.ts';
import type { OutgoingRecord } from './request-builder.ts';
import { KafkaService, type OutputProblem, type OutputState, type RecordOutcome } from './service.ts';

export type { RecordOutcome } from './service.ts';

interface Pending {
  readonly record: OutgoingRecord;
  readonly resolve: (outcome: RecordOutcome) => void;
}

export interface KafkaSinkOptions {
  readonly settings: KafkaOutputSettings;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly random?: () => number;
}

/** What the connection runners need from a sink (tests may pass their own). */
export interface RecordSink {
  readonly output: string;
  /** Resolves when Kafka acknowledged the record, rejected it for good, or the sink stopped first. */
  send(record: OutgoingRecord): Promise<RecordOutcome>;
}

/** A byte allowance for key and framing, so that many tiny records still make a bounded request. */
const PER_RECORD_OVERHEAD = 64;

export class KafkaSink implements RecordSink {
  readonly #settings: KafkaOutputSettings;
  readonly #service: KafkaService;
  readonly #abort = new AbortController();
  #queue: Pending[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  #closing = false;
  #wake: (() => void) | undefined;
  readonly #pumping: Promise<void>;

  constructor(options: KafkaSinkOptions) {
    this.#settings = options.settings;
    this.#service = new KafkaService(options);
    this.#pumping = this.#pump();
  }

  get output(): string {
    return this.#settings.output;
  }

  get state(): OutputState {
    return this.#service.state;
  }

  get problem(): OutputProblem | undefined {
    return this.#service.problem;
  }

  /** Whether /readyz reports this output degraded (see KafkaService.degraded). */
  get degraded(): boolean {
    return this.#service.degraded();
  }

  /** Asks the brokers for the topic once, at start, so a wrong setting shows at once; never rejects. */
  checkAtStart(): Promise<void> {
    return this.#service.checkAtStart();
  }

  /** Records queued and not yet in a request. */
  get pendingRecords(): number {
    return this.#queue.length - this.#queueHead;
  }

  send(record: OutgoingRecord): Promise<RecordOutcome> {
    if (this.#abort.signal.aborted) return Promise.resolve({ status: 'aborted' });
    return new Promise((resolve) => {
      this.#queue.push({ record, resolve });
      this.#queuedBytes += size(record);
      this.#wake?.();
    });
  }

  /**
   * Graceful stop: sends everything queued and waits for Kafka's acknowledgements, up to the
   * deadline (or until the output is seen retrying or paused); then gives up on the rest (their
   * outcome is 'aborted', so their batches stay in the spool) and closes the producer.
   */
  async close(deadlineMs: number): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    // Waiting only makes sense while Kafka answers: when the output is retrying or paused, the
    // records are safe in the spool and the process should not hang on until the deadline.
    let timer: NodeJS.Timeout | undefined;
    let poll: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
      const check = (): void => {
        if (this.state !== 'ok') resolve();
        else poll = setTimeout(check, 50);
      };
      check();
    });
    await Promise.race([this.#pumping, giveUp]);
    clearTimeout(timer);
    clearTimeout(poll);
    this.#abort.abort();
    await this.#service.close();
    await this.#pumping;
    for (let i = this.#queueHead; i < this.#queue.length; i++) this.#queue[i].resolve({ status: 'aborted' });
    this.#queue = [];
    this.#queueHead = 0;
  }

  async #pump(): Promise<void> {
    const signal = this.#abort.signal;
    for (;;) {
      if (signal.aborted) return;
      if (this.pendingRecords === 0) {
        if (this.#closing) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        // Coming from idle: give the request lingerMs to fill up, unless it already is full.
        if (!this.#closing && this.#settings.lingerMs > 0 && this.#queuedBytes < this.#settings.requestMaxBytes) {
          await this.#linger();
        }
        continue;
      }
      const batch = this.#take();
      const outcomes = await this.#service.produce(
        batch.map((pending) => pending.record),
        signal,
      );
      for (let i = 0; i < batch.length; i++) batch[i].resolve(outcomes[i]);
    }
  }

  /** Waits lingerMs, or less if the queue fills a request first. */
  #linger(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.#settings.lingerMs);
      const check = (): void => {
        if (this.#queuedBytes >= this.#settings.requestMaxBytes || this.#closing) done();
        else this.#wake = check;
      };
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = check;
    }).finally(() => {
      this.#wake = undefined;
    });
  }

  /** The oldest queued records up to requestMaxBytes (always at least one). */
  #take(): Pending[] {
    const taken: Pending[] = [];
    let bytes = 0;
    while (this.#queueHead < this.#queue.length) {
      const next = this.#queue[this.#queueHead];
      const nextBytes = size(next.record);
      if (taken.length > 0 && bytes + nextBytes > this.#settings.requestMaxBytes) break;
      taken.push(next);
      bytes += nextBytes;
      this.#queueHead++;
    }
    this.#queuedBytes -= bytes;
    // Compact now and then instead of shifting on every take.
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
    return taken;
  }
}

function size(record: OutgoingRecord): number {
  return record.value.length + (record.key?.length ?? 0) + PER_RECORD_OVERHEAD;
}
