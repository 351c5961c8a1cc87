// The Kafka spool (spool.kind: kafka): the intake topic in place of the local disk.
//
//   ingest      append() writes the request's batches to the intake topic in one transaction
//               (intake-writer.ts) and resolves once Kafka has them: then ingest answers 202.
//   processing  every instance is a member of one consumer group on the intake topic. For each
//               partition it is given, it holds a PartitionLog (partition-log.ts), which the
//               pipeline's connection runners read as they read the local spool; the owner of a
//               partition is the only one processing it, in offset order.
//   offsets     committed every commitIntervalMs, per partition up to the oldest record some
//               connection still needs, so that the next owner, after a rebalance or a crash,
//               starts there and rebuilds the same windows.
//   memory      reading stops while the records held reach maxBufferedBytes, and goes on once Kafka
//               has acknowledged some: a backlog shows as consumer lag, not as memory.
import type { AppendItem, AppendResult, SpoolLogger, SpoolRecord } from '../types.ts';
import {
  consumeIntake,
  createGroupConsumer,
  createIntakeAdmin,
  createStateProducer,
  type IntakeConnection,
  type IntakeConsumer,
  type IntakeMessage,
  type IntakeProducer,
  type IntakeStream,
} from './client.ts';
import { DeadLetterTopic } from './dead-letter-topic.ts';
import { decodeIntakeRecord } from './intake-record.ts';
import { IntakeWriter } from './intake-writer.ts';
import { PartitionLog } from './partition-log.ts';
import { ensureIntakeTopics } from './topics.ts';

export interface KafkaSpoolOptions {
  readonly connection: IntakeConnection;
  readonly topic: string;
  readonly groupId: string;
  readonly stateTopic: string;
  readonly deadLetterTopic: string;
  /** Partitions and replicas of the topics created when missing. */
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly maxBufferedBytes: number;
  /** Connection names this instance forwards to; records bound to others are not held. */
  readonly destinations: readonly string[];
  readonly logger?: SpoolLogger;
  readonly clock?: () => number;
  /** Group membership tuning; defaults suit a deployment (tests shorten them). */
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly commitIntervalMs?: number;
}

/** The group's view of partitions moving to and from this instance. */
export interface PartitionListener {
  /** The partition is now this instance's: run the connections on its log. */
  assigned(log: PartitionLog): void;
  /** The partition moved away (or the instance is stopping): stop the connections on it. */
  revoked(log: PartitionLog): void;
  /** New records were taken into the log. */
  received(log: PartitionLog): void;
}

export interface KafkaSpoolStats {
  readonly assignedPartitions: readonly number[];
  readonly heldRecords: number;
  readonly heldBytes: number;
  readonly rebalances: number;
  /** Records held per connection, not yet acknowledged. */
  readonly backlog: Record<string, number>;
  /** Per partition: the committed offset, as last committed by this instance. */
  readonly committed: ReadonlyMap<number, bigint>;
}

const DEFAULTS = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  commitIntervalMs: 1_000,
  /** Reading goes on once the records held fall below this share of maxBufferedBytes. */
  resumeRatio: 0.8,
  restartDelayMs: 1_000,
} as const;

export class KafkaSpool {
  readonly #options: KafkaSpoolOptions;
  readonly #writer: IntakeWriter;
  readonly #stateProducer: IntakeProducer;
  readonly #deadLetters: DeadLetterTopic;
  readonly #destinations: Set<string>;
  readonly #logs = new Map<number, { log: PartitionLog; sinceGeneration: number }>();
  readonly #committed = new Map<number, bigint>();
  #consumer: IntakeConsumer | undefined;
  #stream: IntakeStream | undefined;
  #listener: PartitionListener | undefined;
  #heldBytes = 0;
  #paused = false;
  #joined = false;
  #rebalances = 0;
  #closing = false;
  #commitTimer: NodeJS.Timeout | undefined;
  #committing: Promise<void> = Promise.resolve();
  readonly #unknownDestinations = new Set<string>();

  private constructor(options: KafkaSpoolOptions, writer: IntakeWriter, stateProducer: IntakeProducer) {
    this.#options = options;
    this.#writer = writer;
    this.#stateProducer = stateProducer;
    this.#deadLetters = new DeadLetterTopic(stateProducer, options.deadLetterTopic, options.clock);
    this.#destinations = new Set(options.destinations);
  }

  /** Creates the topics that are missing and checks that the intake can be written. */
  static async open(options: KafkaSpoolOptions): Promise<KafkaSpool> {
    const admin = createIntakeAdmin(options.connection);
    try {
      await ensureIntakeTopics(admin, {
        intake: options.topic,
        state: options.stateTopic,
        deadLetters: options.deadLetterTopic,
        partitions: options.partitions,
        replicationFactor: options.replicationFactor,
      });
    } finally {
      await admin.close().catch(() => undefined);
    }
    const writer = new IntakeWriter({
      connection: options.connection,
      topic: options.topic,
      ...(options.logger !== undefined && { logger: options.logger }),
      ...(options.clock !== undefined && { clock: options.clock }),
    });
    await writer.probe();
    return new KafkaSpool(options, writer, createStateProducer(options.connection));
  }

  append(items: readonly AppendItem[]): Promise<AppendResult[]> {
    return this.#writer.append(items);
  }

  /** Why this instance should not take requests now, or null. */
  notReadyReason(): string | null {
    if (this.#closing) return 'the spool is closing';
    if (this.#writer.lastError !== undefined)
      return `the intake topic cannot be written (${this.#writer.lastError.message})`;
    if (!this.#joined) return 'joining the consumer group of the intake topic';
    return null;
  }

  /** Joins the group and starts reading; the listener hears of every partition this instance gets. */
  async startProcessing(listener: PartitionListener): Promise<void> {
    this.#listener = listener;
    await this.#startConsumer();
    const interval = this.#options.commitIntervalMs ?? DEFAULTS.commitIntervalMs;
    this.#commitTimer = setInterval(() => void this.commit(), interval);
    this.#commitTimer.unref();
  }

  stats(): KafkaSpoolStats {
    const backlog: Record<string, number> = {};
    let heldRecords = 0;
    for (const { log } of this.#logs.values()) {
      heldRecords += log.records;
      for (const [destination, count] of log.backlog()) backlog[destination] = (backlog[destination] ?? 0) + count;
    }
    return {
      assignedPartitions: [...this.#logs.keys()].sort((a, b) => a - b),
      heldRecords,
      heldBytes: this.#heldBytes,
      rebalances: this.#rebalances,
      backlog,
      committed: new Map(this.#committed),
    };
  }

  /** Commits each partition's offset up to the oldest record some connection still needs. */
  commit(): Promise<void> {
    this.#committing = this.#committing.then(() => this.#commitNow());
    return this.#committing;
  }

  /**
   * Graceful stop, after the connections have settled: commits what was acknowledged, leaves the
   * group (its partitions go to the other instances at once), and closes the clients.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#commitTimer);
    await this.commit();
    await this.#stream?.close().catch(() => undefined);
    await this.#consumer?.close().catch(() => undefined);
    for (const partition of [...this.#logs.keys()]) this.#revoke(partition);
    await this.#writer.close();
    await this.#stateProducer.close().catch(() => undefined);
  }

  async #startConsumer(): Promise<void> {
    const consumer = createGroupConsumer(this.#options.connection, {
      groupId: this.#options.groupId,
      sessionTimeoutMs: this.#options.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs,
      heartbeatIntervalMs: this.#options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
      rebalanceTimeoutMs: 3 * (this.#options.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs),
    });
    this.#consumer = consumer;
    consumer.on('consumer:group:join', ({ generationId, assignments }) =>
      this.#onAssignments(generationId ?? consumer.generationId, assignments ?? consumer.assignments),
    );
    consumer.on('consumer:group:leave', () => this.#onAssignments(consumer.generationId, []));
    const stream = await consumeIntake(consumer, this.#options.topic);
    this.#stream = stream;
    stream.on('data', (message: IntakeMessage) => this.#take(message));
    stream.on('error', (error: Error) => {
      if (this.#closing) return;
      this.#options.logger?.warn({ err: error }, 'reading the intake topic failed; rejoining the group');
      void this.#restartConsumer(consumer);
    });
  }

  /**
   * The stream destroys itself on errors it cannot ride out: every partition is given up (its
   * connections stop, its windows are rebuilt by whoever gets it next, this instance included).
   */
  async #restartConsumer(old: IntakeConsumer): Promise<void> {
    if (this.#consumer !== old) return;
    this.#consumer = undefined;
    await this.commit();
    for (const partition of [...this.#logs.keys()]) this.#revoke(partition);
    await old.close(true).catch(() => undefined);
    this.#joined = false;
    while (!this.#closing) {
      await new Promise((resolve) => setTimeout(resolve, DEFAULTS.restartDelayMs));
      try {
        await this.#startConsumer();
        return;
      } catch (error) {
        this.#options.logger?.warn({ err: error }, 'joining the consumer group failed; trying again');
      }
    }
  }

  #onAssignments(generationId: number, assignments: readonly { topic: string; partitions: number[] }[] | null): void {
    if (this.#closing) return;
    this.#joined = true;
    this.#rebalances++;
    const now = new Set<number>();
    for (const assignment of assignments ?? []) {
      if (assignment.topic === this.#options.topic) for (const partition of assignment.partitions) now.add(partition);
    }
    for (const partition of [...this.#logs.keys()]) if (!now.has(partition)) this.#revoke(partition);
    const added: number[] = [];
    for (const partition of now) {
      if (this.#logs.has(partition)) continue;
      const log = new PartitionLog(
        partition,
        {
          write: (destination: string, record: SpoolRecord, reason: string, payload?: Buffer) =>
            this.#deadLetters.write(destination, partition, record, reason, payload),
        },
        (delta) => this.#onHeldBytes(delta),
      );
      // Messages fetched for an earlier ownership of the partition may still be buffered: only
      // those fetched in this generation or later start the log, from the committed offset.
      this.#logs.set(partition, { log, sinceGeneration: generationId });
      added.push(partition);
      this.#listener?.assigned(log);
    }
    this.#options.logger?.info(
      { generation: generationId, partitions: [...now].sort((a, b) => a - b), added },
      'intake partitions assigned',
    );
  }

  #revoke(partition: number): void {
    const entry = this.#logs.get(partition);
    if (entry === undefined) return;
    this.#logs.delete(partition);
    this.#committed.delete(partition);
    entry.log.revoke();
    this.#listener?.revoked(entry.log);
  }

  #take(message: IntakeMessage): void {
    const entry = this.#logs.get(message.partition);
    if (entry === undefined) return;
    const generation = (message.metadata.consumer as { generationId?: number } | undefined)?.generationId ?? 0;
    if (generation < entry.sinceGeneration) return;
    const header = decodeIntakeRecord(message.headers, message.partition, message.offset, Number(message.timestamp));
    const destinations = header.destinations.filter((destination) => {
      if (this.#destinations.has(destination)) return true;
      if (!this.#unknownDestinations.has(destination)) {
        this.#unknownDestinations.add(destination);
        this.#options.logger?.warn(
          { connection: destination },
          'intake batches are bound to a connection this instance does not have; they are not forwarded by it (give every instance the same connections)',
        );
      }
      return false;
    });
    const record: SpoolRecord = {
      seq: message.offset,
      batchId: header.batchId,
      receivedAtMs: header.receivedAtMs,
      payload: message.value ?? Buffer.alloc(0),
    };
    if (entry.log.add(record, destinations)) this.#listener?.received(entry.log);
  }

  #onHeldBytes(delta: number): void {
    this.#heldBytes += delta;
    const stream = this.#stream;
    if (stream === undefined) return;
    if (!this.#paused && this.#heldBytes >= this.#options.maxBufferedBytes) {
      this.#paused = true;
      stream.pause();
    } else if (this.#paused && this.#heldBytes < this.#options.maxBufferedBytes * DEFAULTS.resumeRatio) {
      this.#paused = false;
      stream.resume();
    }
  }

  async #commitNow(): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined) return;
    const offsets = [];
    for (const [partition, { log }] of this.#logs) {
      const offset = log.committableOffset();
      if (offset === null || this.#committed.get(partition) === offset) continue;
      offsets.push({ topic: this.#options.topic, partition, offset, leaderEpoch: -1 });
    }
    if (offsets.length === 0) return;
    try {
      await consumer.commit({ offsets });
      for (const { partition, offset } of offsets)
        if (this.#logs.has(partition)) this.#committed.set(partition, offset);
    } catch (error) {
      // A commit refused during a rebalance is made again on the next tick; at worst the next
      // owner starts a little earlier and sends some records again, never later.
      this.#options.logger?.info({ err: error }, 'committing intake offsets failed; trying again');
    }
  }
}

/** Opens the Kafka spool: its topics exist and the intake can be written; processing starts apart. */
export function openKafkaSpool(options: KafkaSpoolOptions): Promise<KafkaSpool> {
  return KafkaSpool.open(options);
}
