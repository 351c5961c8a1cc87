// The only caller of the Kafka producer. One produce request at a time, sent as one send per
// partition (see sendByPartition), so each record's outcome is that of its partition: the records
// of partitions that were written are acked at once, and only the others go on. Every failure is
// classified from the error table (never from message text):
//   retryable      ridden out inside the client library, which resends on the same producer id and
//                  sequence numbers (so a resend of records a dead leader had already written is
//                  recognised by the new leader, not written twice), with our backoff, for as long
//                  as it takes; meanwhile the output reports itself retrying (onRetry)
//   configuration  pause the output: say so loudly (log, metric, readiness), keep the records, and
//                  keep probing with them until they go through, then resume
//   per-record     the broker will never take this record: report it rejected (the caller
//                  dead-letters its batch); when a partition held several records of the request,
//                  find which by sending them one by one, in order. A record of several events
//                  refused as too large (the topic's max.message.bytes may be below ours) is split
//                  in halves by events, sent in order; only an event too large alone is rejected.
// The producer is replaced only where Kafka's protocol requires a new producer id (the table's
// freshProducer: OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH…):
// a fresh producer id is what would let the broker write a resend twice.
import type { Logger } from '../../telemetry/index.ts';
import type { Metrics } from '../../telemetry/index.ts';
import type { KafkaOutputSettings } from './config.ts';
import { classifyKafkaError, type KafkaErrorClassification } from './error-table.ts';
import {
  createProducer,
  describeTopic,
  lastConnectionError,
  sendByPartition,
  type KafkaProducer,
  type PartitionSend,
  type RecordToSend,
} from './kafka-client.ts';
import { splitRecord, type OutgoingRecord, type RecordEvent } from './request-builder.ts';

export type RecordOutcome =
  | { readonly status: 'acked' }
  | {
      readonly status: 'rejected';
      readonly code: string;
      readonly reason: string;
      /**
       * Set when the record was split by events and only some of them were refused: those events
       * (the others were delivered). Absent: the whole record.
       */
      readonly refusedEvents?: readonly RecordEvent[];
    }
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
  /** The brokers answered at least once since the start. */
  #reached = false;
  #closed = false;
  #lastReminderAt = 0;
  /** Null-key records are spread over the partitions round-robin (the client would put them all on 0). */
  #spread = Math.floor(Math.random() * 1024);

  /** Logs each partition's produce request; undefined unless the level is debug, so it costs nothing. */
  readonly #debugSends: ((sent: PartitionSend) => void) | undefined;

  constructor(options: KafkaServiceOptions) {
    this.#settings = options.settings;
    this.#metrics = options.metrics;
    this.#logger = options.logger.child({ output: options.settings.output });
    this.#debugSends = this.#logger.isLevelEnabled('debug')
      ? ({ topic, partition, records, bytes, ms, failure }) =>
          this.#logger.debug(
            {
              topic,
              partition,
              records,
              bytes,
              latencyMs: Math.round(ms * 10) / 10,
              ...(failure !== undefined && { error: describeError(failure) }),
            },
            failure === undefined ? 'produced' : 'produce request failed',
          )
      : undefined;
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
   * Whether /readyz should call the output degraded: paused (a setting to fix), or retrying
   * without having reached its brokers once since the start (a wrong bootstrap_servers shows in
   * seconds, not when the first window closes), or retrying for longer than degraded_after_ms.
   */
  degraded(now = Date.now()): boolean {
    const problem = this.#problem;
    if (problem === undefined) return false;
    return problem.state === 'paused' || !this.#reached || now - problem.since >= this.#settings.degradedAfterMs;
  }

  /**
   * Start-up truth: asks the brokers for the topic's metadata once, as the first send would, so
   * that unreachable brokers, failed authentication or a missing topic show in the logs, the
   * output state metric and /readyz within a connection timeout. Never rejects; runs until the
   * brokers answer or the output closes (the library retries meanwhile, reporting each retry).
   */
  async checkAtStart(): Promise<void> {
    const producer = this.#producerFor();
    try {
      const { partitions, brokers } = await describeTopic(producer, this.#settings.topic);
      // And every topic topic_by_event_type routes to: a missing one pauses the output as it would at the first send.
      const routed = [...new Set(Object.values(this.#settings.topicByEventType ?? {}))];
      for (const topic of routed) await describeTopic(producer, topic);
      this.#reached = true;
      this.#logger.info(
        { ...this.#settings.description, partitions, brokers, ...(routed.length > 0 && { routedTopics: routed }) },
        'Kafka output checked: brokers answered and the topics exist',
      );
      this.#healthy();
    } catch (error) {
      if (this.#closed || this.#producer !== producer) return;
      const classification = classifyKafkaError(error, [lastConnectionError(producer)]);
      this.#failed(classification, error, 1, 0);
    }
  }

  /**
   * Sends the records as one request (in order) and resolves once Kafka acknowledged them,
   * rejected some for good, or the signal aborted the wait. Never rejects.
   *
   * Kafka answers per partition: the records of partitions that were written are acked at once,
   * and only the others are retried (or, after a per-record error, sent one by one), so nothing
   * is written twice by our own resend and a key's records never go backwards.
   */
  async produce(records: readonly OutgoingRecord[], signal: AbortSignal): Promise<RecordOutcome[]> {
    const outcomes: (RecordOutcome | undefined)[] = records.map(() => undefined);
    let pending = records.map((_, index) => index);
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return settle(outcomes, ABORTED);
      const started = performance.now();
      let failures: unknown[];
      let producer: KafkaProducer | undefined;
      try {
        producer = this.#producerFor();
        failures = await this.#sendByTopic(
          producer,
          pending.map((index) => records[index]),
        );
      } catch (error) {
        failures = pending.map(() => error ?? new Error('produce failed'));
      }
      const written = pending.filter((_, k) => failures[k] === undefined);
      const failed = pending.filter((_, k) => failures[k] !== undefined);
      if (written.length > 0) {
        this.#acknowledged(
          written.map((index) => records[index]),
          (performance.now() - started) / 1000,
          failed.length === 0,
        );
        for (const index of written) outcomes[index] = ACKED;
      }
      if (failed.length === 0) return settle(outcomes, ABORTED);
      if (signal.aborted) return settle(outcomes, ABORTED);
      // Records that failed with the same error (the same partition, or the whole request) are
      // handled together: classified once; after a per-record error, if several share it, it is
      // not known which of them the broker refused, so each is sent alone, in order.
      const related = producer === undefined ? [] : [lastConnectionError(producer)];
      const groups = new Map<unknown, number[]>();
      pending.forEach((index, k) => {
        if (failures[k] === undefined) return;
        const group = groups.get(failures[k]);
        if (group === undefined) groups.set(failures[k], [index]);
        else group.push(index);
      });
      const retry: number[] = [];
      let retryError: unknown;
      let retryClassification: KafkaErrorClassification | undefined;
      let freshProducer = false;
      for (const [error, group] of groups) {
        const classification = classifyKafkaError(error, related);
        freshProducer ||= classification.freshProducer;
        if (classification.kind !== 'per-record') {
          retry.push(...group);
          // A pause (configuration) outranks a retry in what the output reports.
          if (retryClassification === undefined || classification.kind === 'configuration') {
            retryClassification = classification;
            retryError = error;
          }
          continue;
        }
        if (group.length === 1) {
          outcomes[group[0]] = await this.#rejected(records[group[0]], classification, signal);
          continue;
        }
        for (const index of group) [outcomes[index]] = await this.produce([records[index]], signal);
      }
      if (freshProducer) await this.#replaceProducer();
      if (retry.length === 0 || retryClassification === undefined) return settle(outcomes, ABORTED);
      pending = retry.sort((a, b) => a - b);
      const delayMs = backoffDelayMs(
        attempt,
        this.#settings.retryBackoffMinMs,
        this.#settings.retryBackoffMaxMs,
        this.#random,
      );
      this.#failed(retryClassification, retryError, attempt, delayMs);
      if (!(await sleep(delayMs, signal))) return settle(outcomes, ABORTED);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#replaceProducer();
  }

  /**
   * The broker refused this record, alone. A record of several events that is too large (the
   * topic's max.message.bytes may be below our max_message_bytes) is split in two by events and
   * the halves are sent in order, each split again as needed; only an event too large alone, or
   * a record refused for another reason, is rejected.
   */
  async #rejected(
    record: OutgoingRecord,
    classification: KafkaErrorClassification,
    signal: AbortSignal,
  ): Promise<RecordOutcome> {
    const halves = classification.code === 'RECORD_TOO_LARGE' ? splitRecord(record) : undefined;
    if (halves !== undefined) {
      this.#logger.info(
        { bytes: record.value.length, events: record.events.length },
        'Kafka refused a record as too large; sending it split by events',
      );
      const parts: RecordOutcome[] = [];
      for (const half of halves) parts.push(...(await this.produce([half], signal)));
      return combineParts(halves, parts);
    }
    this.#logger.warn(
      {
        code: classification.code,
        reason: classification.reason,
        fix: classification.fix,
        bytes: record.value.length,
      },
      'Kafka rejected a record; its batch goes to the dead letters',
    );
    return { status: 'rejected', code: classification.code, reason: classification.reason };
  }

  /**
   * sendByPartition for each topic the records go to (the output's, or the one topic_by_event_type
   * routes a record to), all at once; the failures in the records' order.
   */
  async #sendByTopic(producer: KafkaProducer, records: readonly OutgoingRecord[]): Promise<unknown[]> {
    if (records.every((record) => record.topic === undefined))
      return await sendByPartition(
        producer,
        this.#settings.topic,
        records.map((record) => this.#message(record)),
        this.#settings.compression,
        this.#debugSends,
      );
    const byTopic = new Map<string, number[]>();
    records.forEach((record, index) => {
      const topic = record.topic ?? this.#settings.topic;
      const indexes = byTopic.get(topic);
      if (indexes === undefined) byTopic.set(topic, [index]);
      else indexes.push(index);
    });
    const failures: unknown[] = records.map(() => undefined);
    await Promise.all(
      [...byTopic].map(async ([topic, indexes]) => {
        const sent = await sendByPartition(
          producer,
          topic,
          indexes.map((index) => this.#message(records[index])),
          this.#settings.compression,
          this.#debugSends,
        );
        indexes.forEach((index, k) => (failures[index] = sent[k]));
      }),
    );
    return failures;
  }

  #message(record: OutgoingRecord): RecordToSend {
    return {
      key: record.key,
      value: record.value,
      ...(record.headers !== undefined && { headers: record.headers }),
      ...(record.key === null && { partition: this.#nextSpreadPartition() }),
    };
  }

  /** The client reduces an explicit partition modulo the topic's partition count. */
  #nextSpreadPartition(): number {
    this.#spread = (this.#spread + 1) % 0x3fffffff;
    return this.#spread;
  }

  #producerFor(): KafkaProducer {
    this.#producer ??= createProducer(this.#settings.connection, {
      ...this.#settings.client,
      // Transient errors are retried inside the library, on the same producer id and sequence
      // numbers, until they pass or the producer is closed (a stop); see sendByPartition.
      retries: true,
      onRetry: (attempt, error) => this.#onClientRetry(attempt, error),
      metrics: this.#metrics.kafkaClientMetrics({ output: this.#settings.output }),
      logger: this.#logger,
    });
    return this.#producer;
  }

  /** The library is about to retry: back off as the sink would, and say the output is retrying. */
  #onClientRetry(attempt: number, error: Error): number {
    const delayMs = backoffDelayMs(
      attempt,
      this.#settings.retryBackoffMinMs,
      this.#settings.retryBackoffMaxMs,
      this.#random,
    );
    const producer = this.#producer;
    const related = producer === undefined ? [] : [lastConnectionError(producer)];
    this.#failed(classifyKafkaError(error, related), error, attempt, delayMs);
    return delayMs;
  }

  async #replaceProducer(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.close(true).catch(() => {});
  }

  /** `all`: every record of the request went through, so the output is healthy again. */
  #acknowledged(records: readonly OutgoingRecord[], seconds: number, all: boolean): void {
    const output = this.#settings.output;
    let bytes = 0;
    for (const record of records) bytes += record.value.length;
    this.#metrics.recordsProduced.inc({ output }, records.length);
    this.#metrics.bytesProduced.inc({ output }, bytes);
    this.#metrics.produceLatency.observe({ output }, seconds);
    this.#reached = true;
    if (all) this.#healthy();
  }

  /** Everything asked of the brokers went through: the output is ok again. */
  #healthy(): void {
    const problem = this.#problem;
    if (problem === undefined) return;
    this.#problem = undefined;
    this.#metrics.setOutputState(this.#settings.output, 'ok');
    this.#logger.info(
      { previousState: problem.state, code: problem.code, downMs: Date.now() - problem.since },
      problem.state === 'paused' ? 'Kafka output resumed' : 'Kafka output recovered',
    );
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
    // Every retry at debug (info and warn repeat only state changes and a reminder a minute).
    this.#logger.debug(
      { class: classification.kind, code: classification.code, matched: classification.matched, attempt, retryInMs },
      'Kafka request failed; retrying',
    );
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

/** Fills the outcomes not yet known with `rest`. */
function settle(outcomes: readonly (RecordOutcome | undefined)[], rest: RecordOutcome): RecordOutcome[] {
  return outcomes.map((outcome) => outcome ?? rest);
}

/** One outcome for a record sent as parts: acked when every part was, else the parts' refusal. */
function combineParts(parts: readonly OutgoingRecord[], outcomes: readonly RecordOutcome[]): RecordOutcome {
  if (outcomes.some((outcome) => outcome.status === 'aborted')) return ABORTED;
  const rejected = outcomes.flatMap((outcome, index) => (outcome.status === 'rejected' ? [{ outcome, index }] : []));
  if (rejected.length === 0) return ACKED;
  const refusedEvents: RecordEvent[] = [];
  for (const { outcome, index } of rejected) refusedEvents.push(...(outcome.refusedEvents ?? parts[index].events));
  const first = rejected[0].outcome;
  return { status: 'rejected', code: first.code, reason: first.reason, refusedEvents };
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
