// The only caller of the Kafka producer. One produce request at a time, and every failure
// classified from the error table (never from message text):
//   retryable      back off (exponential, with jitter) and send the same request again, for as
//                  long as it takes; the records wait (and their batches stay in the spool)
//   configuration  pause the output: say so loudly (log, metric, readiness), keep the records, and
//                  keep probing with the same request until it goes through, then resume
//   per-record     the broker will never take this record: report it rejected (the caller
//                  dead-letters its batch); in a request of several, find which by sending them
//                  one by one, in order
// After any failure the producer is replaced, so a retry never rides on a connection, producer id
// or metadata that the failure may have spoiled; the idempotent producer (acks=all) makes a resend
// of records the broker did write a no-op within a producer session.
import type { Logger } from '../../telemetry/logger.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import type { KafkaOutputSettings } from './config.ts';
import { classifyKafkaError, type KafkaErrorClassification } from './error-table.ts';
import { createProducer, lastConnectionError, type KafkaProducer } from './kafka-client.ts';
import type { OutgoingRecord } from './request-builder.ts';

export type RecordOutcome =
  | { readonly status: 'acked' }
  | { readonly status: 'rejected'; readonly code: string; readonly reason: string }
  /** The sink stopped before Kafka acknowledged the record; its batch stays in the spool. */
  | { readonly status: 'aborted' };

export type OutputState = 'ok' | 'retrying' | 'paused';

export interface OutputProblem {
  readonly state: Exclude<OutputState, 'ok'>;
  readonly code: string;
  readonly reason: string;
  readonly fix: string;
  readonly since: number;
}

export interface KafkaServiceOptions {
  readonly settings: KafkaOutputSettings;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** In [0, 1); injectable so backoff tests are deterministic. */
  readonly random?: () => number;
}

const ACKED: RecordOutcome = { status: 'acked' };
const ABORTED: RecordOutcome = { status: 'aborted' };
/** While an output stays down, repeat the log line at most this often. */
const REMIND_EVERY_MS = 60_000;

/** Exponential backoff with "equal jitter": half the step fixed, half random, capped. */
export function backoffDelayMs(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const step = Math.min(maxMs, minMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(step / 2 + (random() * step) / 2);
}

export class KafkaService {
  readonly #settings: KafkaOutputSettings;
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #random: () => number;
  #producer: KafkaProducer | undefined;
  #problem: OutputProblem | undefined;
  #lastReminderAt = 0;
  /** Null-key records are spread over the partitions round-robin (the client would put them all on 0). */
  #spread = Math.floor(Math.random() * 1024);

  constructor(options: KafkaServiceOptions) {
    this.#settings = options.settings;
    this.#metrics = options.metrics;
    this.#logger = options.logger.child({ output: options.settings.output });
    this.#random = options.random ?? Math.random;
    this.#metrics.setOutputState(this.#settings.output, 'ok');
  }

  get output(): string {
    return this.#settings.output;
  }

  get state(): OutputState {
    return this.#problem?.state ?? 'ok';
  }

  /** Why the output is retrying or paused; undefined when it is ok. */
  get problem(): OutputProblem | undefined {
    return this.#problem;
  }

  /**
   * Sends the records as one request (in order) and resolves once Kafka acknowledged them,
   * rejected some for good, or the signal aborted the wait. Never rejects.
   */
  async produce(records: readonly OutgoingRecord[], signal: AbortSignal): Promise<RecordOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return records.map(() => ABORTED);
      const started = performance.now();
      let failure: unknown;
      let producer: KafkaProducer | undefined;
      try {
        producer = this.#producerFor();
        await producer.send({
          messages: records.map((record) => this.#message(record)),
          compression: this.#settings.compression,
        });
      } catch (error) {
        failure = error ?? new Error('produce failed');
      }
      if (failure === undefined) {
        this.#acknowledged(records, (performance.now() - started) / 1000);
        return records.map(() => ACKED);
      }
      if (signal.aborted) return records.map(() => ABORTED);
      const classification = classifyKafkaError(failure, producer === undefined ? [] : [lastConnectionError(producer)]);
      await this.#replaceProducer();
      if (classification.kind === 'per-record') {
        if (records.length > 1) return this.#oneByOne(records, signal);
        this.#logger.warn(
          {
            code: classification.code,
            reason: classification.reason,
            fix: classification.fix,
            bytes: records[0].value.length,
          },
          'Kafka rejected a record; its batch goes to the dead letters',
        );
        return [{ status: 'rejected', code: classification.code, reason: classification.reason }];
      }
      const delayMs = backoffDelayMs(
        attempt,
        this.#settings.retryBackoffMinMs,
        this.#settings.retryBackoffMaxMs,
        this.#random,
      );
      this.#failed(classification, failure, attempt, delayMs);
      if (!(await sleep(delayMs, signal))) return records.map(() => ABORTED);
    }
  }

  async close(): Promise<void> {
    await this.#replaceProducer();
  }

  /** After a per-record failure in a request of several: each record alone, in order. */
  async #oneByOne(records: readonly OutgoingRecord[], signal: AbortSignal): Promise<RecordOutcome[]> {
    const outcomes: RecordOutcome[] = [];
    for (const record of records) outcomes.push(...(await this.produce([record], signal)));
    return outcomes;
  }

  #message(record: OutgoingRecord) {
    return {
      topic: this.#settings.topic,
      value: record.value,
      ...(record.key !== null ? { key: record.key } : { partition: this.#nextSpreadPartition() }),
      ...(record.headers !== undefined && { headers: { ...record.headers } }),
    };
  }

  /** The client reduces an explicit partition modulo the topic's partition count. */
  #nextSpreadPartition(): number {
    this.#spread = (this.#spread + 1) % 0x3fffffff;
    return this.#spread;
  }

  #producerFor(): KafkaProducer {
    this.#producer ??= createProducer(this.#settings.connection, this.#settings.client);
    return this.#producer;
  }

  async #replaceProducer(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.close(true).catch(() => {});
  }

  #acknowledged(records: readonly OutgoingRecord[], seconds: number): void {
    const output = this.#settings.output;
    let bytes = 0;
    for (const record of records) bytes += record.value.length;
    this.#metrics.recordsProduced.inc({ output }, records.length);
    this.#metrics.bytesProduced.inc({ output }, bytes);
    this.#metrics.produceLatency.observe({ output }, seconds);
    const problem = this.#problem;
    if (problem !== undefined) {
      this.#problem = undefined;
      this.#metrics.setOutputState(output, 'ok');
      this.#logger.info(
        { previousState: problem.state, code: problem.code, downMs: Date.now() - problem.since },
        problem.state === 'paused' ? 'Kafka output resumed' : 'Kafka output recovered',
      );
    }
  }

  #failed(classification: KafkaErrorClassification, error: unknown, attempt: number, retryInMs: number): void {
    const state = classification.kind === 'configuration' ? 'paused' : 'retrying';
    const output = this.#settings.output;
    this.#metrics.retries.inc({ output, class: classification.kind });
    const previous = this.#problem;
    const changed = previous === undefined || previous.state !== state || previous.code !== classification.code;
    if (changed) {
      this.#problem = {
        state,
        code: classification.code,
        reason: classification.reason,
        fix: classification.fix,
        since: previous?.since ?? Date.now(),
      };
      this.#metrics.setOutputState(output, state, classification.code);
    }
    const now = Date.now();
    if (!changed && now - this.#lastReminderAt < REMIND_EVERY_MS) return;
    this.#lastReminderAt = now;
    const details = {
      state,
      code: classification.code,
      reason: classification.reason,
      fix: classification.fix,
      matched: classification.matched,
      error: describeError(error),
      attempt,
      retryInMs,
      ...this.#settings.description,
    };
    if (state === 'paused') {
      this.#logger.error(details, 'Kafka output PAUSED: a setting must be fixed; records are kept and retried');
    } else {
      this.#logger.warn(details, 'Kafka output unavailable; retrying with backoff, records wait in the spool');
    }
  }
}

/** The error's class and message, and its causes' (the client's messages hold no secrets). */
function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    parts.push(`${current.name}: ${current.message}`);
    current = current instanceof AggregateError && current.errors.length > 0 ? current.errors.at(-1) : current.cause;
  }
  return parts.join(' <- ');
}

/** Resolves true after ms, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
