// Ingest's side of the Kafka spool: writes accepted batches to the intake topic and resolves only
// once Kafka has them (acks=all). Appends that arrive while a write is under way are gathered into
// the next one, as the local spool shares one fsync among them. Each request's batches are all
// stored or all refused:
//  - a request whose batches all land on one partition (one batch, or one user's batches; the
//    common case) is written by an idempotent producer: a partition's share of a produce request
//    is one record batch, which the broker appends whole or not at all;
//  - a request whose batches go to several partitions is written in a transaction, which readers
//    (read_committed) see whole or never. A transaction costs several round trips more, so it is
//    kept for the requests that need it.
import { randomUUID } from 'node:crypto';
import { ForwarderError } from '../../errors.ts';
import type { AppendItem, AppendResult, SpoolLogger } from '../types.ts';
import { createIntakeProducer, partitionForKey, type IntakeConnection, type IntakeProducer } from './client.ts';
import { encodeIntakeRecord, intakeBatchId } from './intake-record.ts';

interface PendingAppend {
  readonly items: readonly AppendItem[];
  readonly batchIds?: readonly (bigint | undefined)[];
  readonly resolve: (results: AppendResult[]) => void;
  readonly reject: (error: unknown) => void;
}

export interface IntakeWriterOptions {
  readonly connection: IntakeConnection;
  readonly topic: string;
  readonly logger?: SpoolLogger;
  readonly clock?: () => number;
  /** Most records in one transaction; further appends wait for the next. */
  readonly maxRecordsPerWrite?: number;
}

const DEFAULT_MAX_RECORDS_PER_WRITE = 2_000;
/**
 * Longest a write may take before its requests are refused (503 with Retry-After): a client waits
 * for the answer, and an intake cluster that cannot take writes should be said so, not hidden.
 */
const WRITE_TIMEOUT_MS = 5_000;
/** How often a writer whose last write failed checks whether the intake can be written again. */
const PROBE_INTERVAL_MS = 1_000;

/**
 * One producer and the write it has under way. A transactional producer that replaces a failed
 * one gets a new transactional id: reusing the old one would fence it, but its first transaction
 * then waits on the coordinator's abort of the old one, which kept a returning intake cluster
 * refusing writes. A transaction left open is aborted by the broker after the transaction timeout
 * (10 s), during which readers of its partitions wait.
 */
interface Lane {
  readonly transactional: boolean;
  producer: IntakeProducer;
  busy: boolean;
}

/**
 * Writes under way at once, per kind. An idempotent producer has one produce request in flight per
 * broker, and a transaction's end holds its producer for a few round trips more (the coordinator
 * writes its markers), so one producer alone would leave the brokers idle between writes; requests
 * that arrive meanwhile go to the next free lane. Requests under way at the same time have no order
 * between them, so lanes reorder nothing a client waited for.
 */
const PLAIN_LANES = 4;
const TRANSACTIONAL_LANES = 2;

function newLane(connection: IntakeConnection, transactional: boolean): Lane {
  const transactionalId = transactional ? `${connection.clientId}-intake-${randomUUID()}` : undefined;
  return { transactional, producer: createIntakeProducer(connection, transactionalId), busy: false };
}

/**
 * Whether every item lands on one partition: all share one routing key, or none has one (unkeyed
 * items of one request are placed together).
 */
function needsTransaction(items: readonly AppendItem[]): boolean {
  return items.some((item) => item.routingKey !== items[0].routingKey);
}

export class IntakeWriter {
  readonly #options: IntakeWriterOptions;
  readonly #clock: () => number;
  readonly #lanes: Lane[];
  /** Appends waiting for a lane: those that fit one partition, and those that need a transaction. */
  readonly #queues = { plain: [] as PendingAppend[], transactional: [] as PendingAppend[] };
  readonly #writes = new Set<Promise<void>>();
  #nullKeyPartition = 0;
  #closed = false;
  /** The outcome of the latest write: readiness says the instance cannot take batches while it fails. */
  #lastError: Error | undefined;
  #probing: NodeJS.Timeout | undefined;

  constructor(options: IntakeWriterOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#lanes = [
      ...Array.from({ length: PLAIN_LANES }, () => newLane(options.connection, false)),
      ...Array.from({ length: TRANSACTIONAL_LANES }, () => newLane(options.connection, true)),
    ];
  }

  /** Why the latest write to the intake failed, or undefined once one has succeeded since. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /**
   * Writes the items as intake records; all of them are stored or none is. `batchIds` (dead-letter
   * replay) keeps a batch's original id.
   */
  append(items: readonly AppendItem[], batchIds?: readonly (bigint | undefined)[]): Promise<AppendResult[]> {
    if (this.#closed) return Promise.reject(new ForwarderError('SPOOL_UNAVAILABLE', { reason: 'it is closing' }));
    return new Promise((resolve, reject) => {
      const queue = needsTransaction(items) ? this.#queues.transactional : this.#queues.plain;
      queue.push({ items, ...(batchIds !== undefined && { batchIds }), resolve, reject });
      this.#dispatch();
    });
  }

  /**
   * Checks that the intake can be written to: the topic is known and every partition has a
   * leader. Clears lastError when it passes; throws when it does not.
   */
  async probe(): Promise<void> {
    const { topic } = this.#options;
    try {
      const metadata = await this.#lanes[0].producer.metadata({ topics: [topic], forceUpdate: true });
      const described = metadata.topics.get(topic);
      if (described === undefined || described.partitionsCount === 0) throw new Error(`topic ${topic} is not known`);
      const leaderless = described.partitions.filter((partition) => partition.leader < 0).length;
      if (leaderless > 0) throw new Error(`${leaderless} partition(s) of ${topic} have no leader`);
      this.#lastError = undefined;
    } catch (error) {
      this.#failed(error as Error);
      throw error;
    }
  }

  /**
   * After a failed write, readiness reports the instance as not ready, so a balancer may send it
   * nothing more: it probes the intake by itself until the intake can be written again.
   */
  #failed(error: Error): void {
    this.#lastError = error;
    if (this.#probing !== undefined || this.#closed) return;
    this.#probing = setInterval(() => {
      if (this.#closed) return this.#stopProbing();
      this.probe().then(
        () => this.#stopProbing(),
        () => undefined,
      );
    }, PROBE_INTERVAL_MS);
    this.#probing.unref();
  }

  #stopProbing(): void {
    clearInterval(this.#probing);
    this.#probing = undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stopProbing();
    while (this.#writes.size > 0) await Promise.all(this.#writes);
    await Promise.all(this.#lanes.map((lane) => lane.producer.close().catch(() => undefined)));
  }

  /** Hands queued appends to the free lanes of their kind, as many as fit in one write each. */
  #dispatch(): void {
    const max = this.#options.maxRecordsPerWrite ?? DEFAULT_MAX_RECORDS_PER_WRITE;
    for (const lane of this.#lanes) {
      const queue = lane.transactional ? this.#queues.transactional : this.#queues.plain;
      if (queue.length === 0 || lane.busy) continue;
      const group: PendingAppend[] = [];
      let records = 0;
      while (queue.length > 0 && (group.length === 0 || records + queue[0].items.length <= max)) {
        const next = queue.shift()!;
        group.push(next);
        records += next.items.length;
      }
      lane.busy = true;
      const writing = this.#write(lane, group).finally(() => {
        lane.busy = false;
        this.#writes.delete(writing);
        this.#dispatch();
      });
      this.#writes.add(writing);
    }
  }

  async #write(lane: Lane, group: PendingAppend[]): Promise<void> {
    const { producer } = lane;
    const abandoned = { value: false };
    let timer: NodeJS.Timeout | undefined;
    let results: AppendResult[][];
    try {
      results = await Promise.race([
        this.#produce(lane, group, abandoned),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the write did not complete within ${WRITE_TIMEOUT_MS} ms`)),
            WRITE_TIMEOUT_MS,
          );
        }),
      ]);
      this.#lastError = undefined;
    } catch (error) {
      // Abandoned: a transaction is not committed from here on. If the commit or an idempotent
      // produce was already on its way, or the produce failed on one broker after succeeding on
      // another, batches of refused requests may still be stored: a refused request the client
      // resends is then a duplicate, which source_request_id deduplication catches, never a loss.
      abandoned.value = true;
      this.#failed(error as Error);
      this.#options.logger?.warn({ err: error }, 'writing to the intake topic failed');
      // A producer whose state is unknown is replaced (a transaction it left open is aborted by
      // the broker after the transaction timeout).
      lane.producer = newLane(this.#options.connection, lane.transactional).producer;
      void producer.close().catch(() => undefined);
      const refused = new ForwarderError(
        'SPOOL_UNAVAILABLE',
        { reason: `the intake topic could not be written (${(error as Error).message})` },
        { cause: error },
      );
      for (const pending of group) pending.reject(refused);
      return;
    } finally {
      clearTimeout(timer);
    }
    group.forEach((pending, g) => pending.resolve(results[g]));
  }

  /** One write (a transaction on a transactional lane) of every item of the group; the results in the group's order. */
  async #produce(lane: Lane, group: PendingAppend[], abandoned: { value: boolean }): Promise<AppendResult[][]> {
    const { producer } = lane;
    const { topic } = this.#options;
    const receivedAtMs = this.#clock();
    const metadata = await producer.metadata({ topics: [topic] });
    const partitions = metadata.topics.get(topic)?.partitionsCount ?? 0;
    if (partitions === 0) throw new Error(`topic ${topic} has no partitions`);
    const messages: {
      topic: string;
      partition: number;
      key: Buffer | undefined;
      value: Buffer;
      headers: Map<string, string>;
    }[] = [];
    const placed: { partition: number; index: number }[][] = [];
    const perPartition = new Map<number, number>();
    for (const pending of group) {
      const places: { partition: number; index: number }[] = [];
      // Keyed records go where the Java client would put them; unkeyed ones are spread over the
      // partitions request by request (a request's together, so that it needs no transaction).
      const unkeyedPartition = (this.#nullKeyPartition = (this.#nullKeyPartition + 1) % partitions);
      pending.items.forEach((item, i) => {
        const record = encodeIntakeRecord(item, receivedAtMs, pending.batchIds?.[i]);
        const partition = record.key !== undefined ? partitionForKey(record.key, partitions) : unkeyedPartition;
        const index = perPartition.get(partition) ?? 0;
        perPartition.set(partition, index + 1);
        places.push({ partition, index });
        messages.push({ topic, partition, key: record.key, value: record.value, headers: record.headers });
      });
      placed.push(places);
    }
    const baseOffsets = new Map<number, bigint>();
    if (messages.length > 0 && !lane.transactional) {
      const produced = await producer.send({ messages });
      for (const { partition, offset } of produced.offsets ?? []) baseOffsets.set(partition, offset);
    } else if (messages.length > 0) {
      const transaction = await producer.beginTransaction();
      try {
        const produced = await transaction.send({ messages });
        if (abandoned.value) throw new Error('abandoned');
        await transaction.commit();
        for (const { partition, offset } of produced.offsets ?? []) baseOffsets.set(partition, offset);
      } catch (error) {
        await transaction.abort().catch(() => transaction.cancel().catch(() => undefined));
        throw error;
      }
    }
    return group.map((pending, g) =>
      pending.items.map((_item, i): AppendResult => {
        const { partition, index } = placed[g][i];
        const offset = (baseOffsets.get(partition) ?? -1n) + BigInt(index);
        return {
          status: 'stored',
          seq: offset,
          batchId: pending.batchIds?.[i] ?? intakeBatchId(partition, offset),
          receivedAtMs,
        };
      }),
    );
  }
}
