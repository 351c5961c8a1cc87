// The Kafka spool (spool.kind: kafka): the intake topic in place of the local disk.
//
//   ingest      append() writes the request's batches to the intake topic, all or none
//               (intake-writer.ts), and resolves once Kafka has them: then ingest answers 202.
//   processing  every instance is a member of one consumer group on the intake topic. For each
//               partition it is given, it holds a PartitionLog (partition-log.ts), which the
//               pipeline's connection runners read as they read the local spool; the owner of a
//               partition is the only one processing it, in offset order.
//   offsets     committed every commitIntervalMs, per partition up to the oldest record some
//               connection still needs, so that the next owner, after a rebalance or a crash,
//               starts there and rebuilds the same windows. Each connection's own progress goes
//               to a consumer group of its own beside it (connection-progress.ts), for reports.
//   memory      reading stops while the records held reach maxBufferedBytes, and goes on once Kafka
//               has acknowledged some: a backlog shows as consumer lag, not as memory.
import type {
  AppendItem,
  AppendResult,
  DeadLetter,
  DeadLetterSummary,
  PartitionListener,
  SpoolLogger,
  SpoolRecord,
  Store,
} from '../types.ts';
import {
  createIntakeAdmin,
  createReader,
  createStateProducer,
  type IntakeAdmin,
  type IntakeConnection,
  type IntakeConsumer,
  type IntakeMessage,
  type IntakeProducer,
} from './client.ts';
import { ConnectionProgress } from './connection-progress.ts';
import { DeadLetterCount, DeadLetterStore, DeadLetterTopic } from './dead-letter-topic.ts';
import { encodeDedupEntry, PartitionDedup } from './dedup-state.ts';
import { inputOfDedupKey } from '../dedup-key.ts';
import { GroupMembership } from './group-membership.ts';
import { decodeIntakeRecord } from './intake-record.ts';
import { IntakeWriter } from './intake-writer.ts';
import { PartitionLog } from './partition-log.ts';
import { readDedupState, StateTopicWriter } from './state-topic.ts';
import { ensureIntakeTopics, growToMatch, partitionCounts } from './topics.ts';

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
  /** How long a source_request_id makes later batches with it duplicates (spool.dedup_window_ms). */
  readonly dedupWindowMs: number;
  /** Connection names this instance forwards to; records bound to others are not held. */
  readonly destinations: readonly string[];
  readonly logger?: SpoolLogger;
  readonly clock?: () => number;
  /** spool.kafka.session_timeout_ms: how long a silent member keeps its partitions. */
  readonly sessionTimeoutMs: number;
  /** Group membership tuning below the settings (not user settings). */
  readonly heartbeatIntervalMs?: number;
  readonly commitIntervalMs?: number;
  /** Hears of each partition taken over, the moment its backlog is read (for the rebuild-time metric). */
  readonly onRebuilt?: (rebuild: PartitionRebuild) => void;
}

export interface KafkaSpoolStats {
  readonly assignedPartitions: readonly number[];
  readonly heldRecords: number;
  readonly heldBytes: number;
  readonly rebalances: number;
  /** Per input, batches found to be duplicates (source_request_id seen within the window), since start. */
  readonly duplicates: ReadonlyMap<string, number>;
  /** Records held per connection, not yet acknowledged. */
  readonly backlog: Record<string, number>;
  /** Per partition: the committed offset, as last committed by this instance. */
  readonly committed: ReadonlyMap<number, bigint>;
  /** Per owned partition and connection: records from the oldest the connection still needs to the partition's end. */
  readonly lag: readonly { partition: number; connection: string; records: number }[];
  /** Dead letters on the dead-letter topic (every instance's), as of the last count. */
  readonly deadLetters: number;
  /** Owned partitions whose state is not restored yet: their batches wait, unprocessed. */
  readonly restoringPartitions: readonly number[];
}

/** A partition this instance owns, and where it is in taking the partition over. */
interface OwnedPartition {
  readonly log: PartitionLog;
  /** Messages fetched in an earlier generation belong to an earlier ownership: ignored. */
  readonly sinceGeneration: number;
  readonly dedup: PartitionDedup;
  readonly assignedAtMs: number;
  /** Until the state is restored, messages wait here, in order (their bytes count as held). */
  waiting: IntakeMessage[] | undefined;
  waitingBytes: number;
  /** Set while restoring the state fails: since when, how often, and the latest reason. */
  restoreFailure: { sinceMs: number; attempts: number; reason: string; loggedAtMs: number } | undefined;
  /** The partition's end (last stable offset) when it was assigned: the backlog to rebuild. */
  backlogEnd: bigint | undefined;
}

/** One finished takeover of a partition: the backlog read back and the windows rebuilt. */
export interface PartitionRebuild {
  readonly partition: number;
  readonly ms: number;
  readonly records: number;
  readonly dedupKeys: number;
}

const DEFAULTS = {
  heartbeatIntervalMs: 1_000,
  commitIntervalMs: 1_000,
  /** Reading goes on once the records held fall below this share of maxBufferedBytes. */
  resumeRatio: 0.8,
  restartDelayMs: 1_000,
  /** How often dedup keys past the window are forgotten (and tombstoned on the state topic). */
  dedupExpiryIntervalMs: 60_000,
  /** How often a partition being taken over is checked for having read its backlog. */
  catchUpCheckMs: 100,
  /** How often the ends of the owned partitions and the dead letters are read, for the metrics. */
  reportIntervalMs: 5_000,
  /** Longest a handover waits for the connections of the partitions leaving to settle. */
  handOverMs: 10_000,
  /** While restoring a partition keeps failing, a line says so at most this often. */
  restoreLogEveryMs: 30_000,
} as const;

export class KafkaSpool implements Store {
  readonly kind = 'kafka';
  readonly #options: KafkaSpoolOptions;
  readonly #writer: IntakeWriter;
  readonly #stateProducer: IntakeProducer;
  readonly #deadLetters: DeadLetterTopic;
  readonly #destinations: Set<string>;
  readonly #logs = new Map<number, OwnedPartition>();
  readonly #committed = new Map<number, bigint>();
  #membership: GroupMembership | undefined;
  #listener: PartitionListener | undefined;
  #heldBytes = 0;
  #rebalances = 0;
  #closing = false;
  #handingOver = false;
  #commitTimer: NodeJS.Timeout | undefined;
  #committing: Promise<void> = Promise.resolve();
  readonly #unknownDestinations = new Set<string>();
  readonly #state: StateTopicWriter;
  readonly #reader: IntakeConsumer;
  readonly #deadLetterStore: DeadLetterStore;
  readonly #clock: () => number;
  #expiryTimer: NodeJS.Timeout | undefined;
  #catchUpTimer: NodeJS.Timeout | undefined;
  readonly #duplicates = new Map<string, number>();
  readonly #ends = new Map<number, bigint>();
  #reportTimer: NodeJS.Timeout | undefined;
  readonly #progressAdmin: IntakeAdmin;
  readonly #progress: ConnectionProgress;
  readonly #deadLetterCount: DeadLetterCount;

  #intakePartitions: number;
  #followingPartitions = false;

  private constructor(
    options: KafkaSpoolOptions,
    writer: IntakeWriter,
    stateProducer: IntakeProducer,
    intakePartitions: number,
  ) {
    this.#options = options;
    this.#intakePartitions = intakePartitions;
    this.#writer = writer;
    this.#stateProducer = stateProducer;
    this.#deadLetters = new DeadLetterTopic(stateProducer, options.deadLetterTopic, options.clock);
    this.#destinations = new Set(options.destinations);
    this.#state = new StateTopicWriter(stateProducer, options.stateTopic, options.logger);
    this.#reader = createReader(options.connection, 'restore');
    this.#deadLetterStore = new DeadLetterStore(
      this.#reader,
      this.#deadLetters,
      options.deadLetterTopic,
      (items, ids) => this.#writer.append(items, ids),
    );
    this.#clock = options.clock ?? Date.now;
    this.#deadLetterCount = new DeadLetterCount(this.#reader, options.deadLetterTopic);
    this.#progressAdmin = createIntakeAdmin(options.connection);
    this.#progress = new ConnectionProgress(this.#progressAdmin, {
      topic: options.topic,
      groupId: options.groupId,
      ...(options.logger !== undefined && { logger: options.logger }),
    });
  }

  /** Creates the topics that are missing and checks that the intake can be written. */
  static async open(options: KafkaSpoolOptions): Promise<KafkaSpool> {
    const admin = createIntakeAdmin(options.connection);
    let intakePartitions: number;
    try {
      intakePartitions = await ensureIntakeTopics(admin, {
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
    return new KafkaSpool(options, writer, createStateProducer(options.connection), intakePartitions);
  }

  append(items: readonly AppendItem[]): Promise<AppendResult[]> {
    return this.#writer.append(items);
  }

  /** Why this instance should not take requests now, or null. */
  notReadyReason(): string | null {
    if (this.#closing) return 'the spool is closing';
    if (this.#writer.lastError !== undefined)
      return `the intake topic cannot be written (${this.#writer.lastError.message})`;
    return null;
  }

  /**
   * Why processing lags behind what ingest takes, or null: batches are still accepted (readiness
   * holds), but they wait on the intake topic until this clears.
   */
  degradedReasons(): string[] {
    if (this.#closing || this.#membership === undefined) return [];
    if (!this.#membership.joined) return ['spool.kafka: joining the consumer group of the intake topic'];
    const reasons: string[] = [];
    const now = this.#clock();
    for (const [partition, owned] of this.#logs) {
      const failure = owned.restoreFailure;
      if (failure === undefined) continue;
      reasons.push(
        `spool.kafka: intake partition ${partition} cannot be taken over: restoring its state from ${this.#options.stateTopic} has failed ${failure.attempts} time(s) for ${Math.round((now - failure.sinceMs) / 1000)} s (${failure.reason}); its batches wait on the intake topic`,
      );
    }
    return reasons;
  }

  /** Joins the group and starts reading; the listener hears of every partition this instance gets. */
  async startProcessing(listener: PartitionListener): Promise<void> {
    this.#listener = listener;
    this.#membership = new GroupMembership(
      {
        connection: this.#options.connection,
        topic: this.#options.topic,
        groupId: this.#options.groupId,
        sessionTimeoutMs: this.#options.sessionTimeoutMs,
        heartbeatIntervalMs: this.#options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
        retryDelayMs: DEFAULTS.restartDelayMs,
        ...(this.#options.logger !== undefined && { logger: this.#options.logger }),
      },
      {
        beforeJoin: (consumer) => this.#handOver(consumer),
        assigned: (generationId, partitions) => this.#onAssignments(generationId, partitions),
        message: (message) => this.#take(message),
        beforeRestart: async (consumer) => {
          // The stream is gone: every partition is given up (its connections stop, its windows
          // are rebuilt by whoever gets it next, this instance included), after committing what
          // was acknowledged through the consumer that is still the group's member.
          await this.#commitThrough(consumer, true);
          for (const partition of [...this.#logs.keys()]) this.#revoke(partition);
        },
      },
    );
    await this.#membership.join();
    const interval = this.#options.commitIntervalMs ?? DEFAULTS.commitIntervalMs;
    this.#commitTimer = setInterval(() => void this.commit(false), interval);
    this.#commitTimer.unref();
    this.#expiryTimer = setInterval(() => this.#expireDedupKeys(), DEFAULTS.dedupExpiryIntervalMs);
    this.#expiryTimer.unref();
    this.#catchUpTimer = setInterval(() => this.#checkCaughtUp(), DEFAULTS.catchUpCheckMs);
    this.#catchUpTimer.unref();
    void this.#refreshReports();
    this.#reportTimer = setInterval(() => void this.#refreshReports(), DEFAULTS.reportIntervalMs);
    this.#reportTimer.unref();
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
      duplicates: new Map(this.#duplicates),
      backlog,
      committed: new Map(this.#committed),
      lag: this.#lag(),
      deadLetters: this.#deadLetterCount.count,
      restoringPartitions: [...this.#logs]
        .filter(([, owned]) => owned.waiting !== undefined)
        .map(([partition]) => partition)
        .sort((a, b) => a - b),
    };
  }

  /** The dead-letter topic: list, show, replay, delete, as the local spool's dead letters. */
  get deadLetters(): DeadLetterStore {
    return this.#deadLetterStore;
  }

  listDeadLetters(destination?: string, limit?: number, afterId?: number): Promise<DeadLetterSummary[]> {
    return this.#deadLetterStore.listDeadLetters(destination, limit, afterId);
  }

  showDeadLetter(id: number): Promise<DeadLetter | null> {
    return this.#deadLetterStore.showDeadLetter(id);
  }

  /**
   * Commits each partition's offset up to the oldest record some connection still needs. The
   * periodic commit skips a tick while the member is rejoining: a commit refused then makes the
   * client join again, and commits on a timer would keep the group rebalancing. A handover or a
   * close commits regardless (`always`).
   */
  commit(always = true): Promise<void> {
    const consumer = this.#membership?.consumer;
    if (consumer === undefined) return this.#committing;
    return this.#commitThrough(consumer, always);
  }

  /** Queues a commit through this consumer, after any under way (commits never overlap). */
  #commitThrough(consumer: IntakeConsumer, always: boolean): Promise<void> {
    // A commit that failed has been logged; the next one must still run.
    this.#committing = this.#committing.catch(() => undefined).then(() => this.#commitNow(consumer, always));
    return this.#committing;
  }

  /**
   * Graceful stop, after the connections have settled: commits what was acknowledged, leaves the
   * group (its partitions go to the other instances at once), and closes the clients.
   */
  async close(deadlineMs = 10_000): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#commitTimer);
    clearInterval(this.#expiryTimer);
    clearInterval(this.#catchUpTimer);
    clearInterval(this.#reportTimer);
    // Each step is bounded: a stop must not hang on a cluster that went away. What is not
    // committed is read again by the partitions' next owners.
    const bounded = (step: Promise<unknown>) => within(step, deadlineMs);
    await bounded(this.commit());
    await this.#membership?.close(bounded);
    for (const partition of [...this.#logs.keys()]) this.#revoke(partition);
    await bounded(this.#writer.close());
    await bounded(this.#state.idle());
    this.#state.close();
    await bounded(this.#stateProducer.close());
    await bounded(this.#reader.close(true));
    await bounded(this.#progressAdmin.close());
  }

  /**
   * Before each JoinGroup: the partitions the library has already given up (the first round of a
   * cooperative rebalance drops them from its assignments) are released by their connections and
   * their offsets committed, while the group waits for this member, so the next owner neither
   * loses nor repeats their records. An eager rebalance (after a lost session) skips this: its
   * partitions are revoked on the next join, and their uncommitted tail is sent again.
   */
  async #handOver(consumer: IntakeConsumer): Promise<void> {
    if (this.#handingOver || this.#closing || consumer.assignments == null) return;
    const owned = new Set<number>();
    for (const assignment of consumer.assignments) {
      if (assignment.topic === this.#options.topic) for (const partition of assignment.partitions) owned.add(partition);
    }
    const leaving = [...this.#logs.keys()].filter((partition) => !owned.has(partition));
    if (leaving.length === 0) return;
    this.#handingOver = true;
    try {
      const deadlineMs = Math.min(DEFAULTS.handOverMs, this.#options.sessionTimeoutMs);
      await Promise.all(
        leaving.map((partition) => {
          const log = this.#logs.get(partition)?.log;
          return log === undefined
            ? Promise.resolve()
            : (this.#listener?.release(log, deadlineMs) ?? Promise.resolve());
        }),
      );
      // Straight to the coordinator, not queued behind the periodic commit: that one may be the
      // call whose refusal made the client rejoin and so run this hook.
      const offsets = this.#offsetsToCommit(leaving);
      await this.#state.idle();
      if (offsets.length > 0) await consumer.commit({ offsets });
      await this.#progress.commit(this.#connectionOffsets(leaving));
      for (const partition of leaving) this.#revoke(partition);
      this.#options.logger?.info({ partitions: leaving }, 'intake partitions handed over');
    } catch (error) {
      this.#options.logger?.warn({ err: error }, 'handing over intake partitions failed');
    } finally {
      this.#handingOver = false;
    }
  }

  #onAssignments(generationId: number, now: ReadonlySet<number>): void {
    if (this.#closing) return;
    this.#rebalances++;
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
      const owned: OwnedPartition = {
        log,
        sinceGeneration: generationId,
        dedup: new PartitionDedup(this.#options.dedupWindowMs),
        assignedAtMs: this.#clock(),
        waiting: [],
        waitingBytes: 0,
        restoreFailure: undefined,
        backlogEnd: undefined,
      };
      this.#logs.set(partition, owned);
      added.push(partition);
      this.#listener?.assigned(log);
      void this.#takeOver(partition, owned);
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
    this.#progress.forget(partition);
    if (entry.waitingBytes > 0) this.#onHeldBytes(-entry.waitingBytes);
    entry.waitingBytes = 0;
    entry.log.revoke();
    this.#listener?.revoked(entry.log);
  }

  #take(message: IntakeMessage): void {
    const owned = this.#logs.get(message.partition);
    if (owned === undefined) return;
    const generation = (message.metadata.consumer as { generationId?: number } | undefined)?.generationId ?? 0;
    if (generation < owned.sinceGeneration) return;
    if (owned.waiting !== undefined) {
      owned.waiting.push(message);
      const bytes = message.value?.length ?? 0;
      owned.waitingBytes += bytes;
      this.#onHeldBytes(bytes);
    } else {
      this.#process(owned, message);
    }
  }

  /**
   * Restores the partition's dedup state from the state topic and notes its end, then lets the
   * messages that waited meanwhile through. Tried again until it works or the partition leaves.
   */
  async #takeOver(partition: number, owned: OwnedPartition): Promise<void> {
    while (!this.#closing && this.#logs.get(partition) === owned) {
      try {
        const restored = await readDedupState(this.#reader, this.#options.stateTopic, partition, {
          windowMs: this.#options.dedupWindowMs,
          now: this.#clock(),
        });
        const ends = await this.#reader.listOffsets({
          topics: [this.#options.topic],
          partitions: { [this.#options.topic]: [partition] },
        });
        if (this.#logs.get(partition) !== owned) return;
        owned.dedup.adopt(restored);
        owned.backlogEnd = ends.get(this.#options.topic)?.[partition] ?? 0n;
        this.#ends.set(partition, owned.backlogEnd);
        const waiting = owned.waiting ?? [];
        owned.waiting = undefined;
        // The log counts them again as it takes them.
        this.#onHeldBytes(-owned.waitingBytes);
        owned.waitingBytes = 0;
        if (owned.restoreFailure !== undefined) {
          this.#options.logger?.info(
            { partition, attempts: owned.restoreFailure.attempts },
            'restoring the state of an intake partition works again',
          );
          owned.restoreFailure = undefined;
        }
        for (const message of waiting) this.#process(owned, message);
        this.#checkCaughtUp();
        return;
      } catch (error) {
        this.#restoreFailed(partition, owned, error as Error);
        await new Promise((resolve) => setTimeout(resolve, DEFAULTS.restartDelayMs));
      }
    }
  }

  /**
   * Notes a failed restore, which readiness reports as degraded; says so in the log at once and
   * then at most every restoreLogEveryMs, however often it is tried.
   */
  #restoreFailed(partition: number, owned: OwnedPartition, error: Error): void {
    const now = this.#clock();
    const failure = (owned.restoreFailure ??= { sinceMs: now, attempts: 0, reason: '', loggedAtMs: -Infinity });
    failure.attempts++;
    failure.reason = error.message;
    if (now - failure.loggedAtMs < DEFAULTS.restoreLogEveryMs) return;
    failure.loggedAtMs = now;
    this.#options.logger?.warn(
      {
        err: error,
        partition,
        attempts: failure.attempts,
        failingForMs: now - failure.sinceMs,
        waitingRecords: owned.waiting?.length ?? 0,
      },
      'restoring the state of an intake partition failed; its batches wait, trying again every second',
    );
  }

  /**
   * When the intake topic has grown (an operator added partitions), the state topic grows to match
   * and this member rejoins the group, so that the new partitions are assigned now rather than at
   * the next rebalance. Every instance sees it; the first to act does the work, the others find it
   * done.
   */
  async #followPartitionCount(): Promise<void> {
    const membership = this.#membership;
    if (this.#followingPartitions || this.#closing || membership === undefined) return;
    this.#followingPartitions = true;
    try {
      const count = (await partitionCounts(this.#progressAdmin, [this.#options.topic])).get(this.#options.topic);
      if (count === undefined || count <= this.#intakePartitions) return;
      this.#options.logger?.info(
        { topic: this.#options.topic, partitions: count, was: this.#intakePartitions },
        'the intake topic has more partitions: growing the state topic to match and rebalancing the group',
      );
      await growToMatch(this.#progressAdmin, this.#options.stateTopic, count);
      this.#intakePartitions = count;
      await membership.rejoin();
    } catch (error) {
      this.#options.logger?.warn(
        { err: error },
        'following the intake topic to its new partition count failed; trying again',
      );
    } finally {
      this.#followingPartitions = false;
    }
  }

  /** A partition being taken over has read its backlog once its fetch position passed the end noted. */
  #checkCaughtUp(): void {
    const membership = this.#membership;
    for (const [partition, owned] of this.#logs) {
      if (!owned.log.catchingUp || owned.backlogEnd === undefined) continue;
      const position = membership?.position(partition) ?? -1n;
      const read = owned.log.nextOffset ?? position;
      if (read < owned.backlogEnd && (position < owned.backlogEnd || (membership?.buffered ?? 0) > 0)) continue;
      owned.log.caughtUp();
      const rebuild = {
        partition,
        ms: this.#clock() - owned.assignedAtMs,
        records: owned.log.records,
        dedupKeys: owned.dedup.size,
      };
      this.#options.onRebuilt?.(rebuild);
      this.#options.logger?.info(rebuild, 'intake partition taken over: backlog read, windows rebuilt');
    }
  }

  #process(owned: OwnedPartition, message: IntakeMessage): void {
    const header = decodeIntakeRecord(message.headers, message.partition, message.offset, Number(message.timestamp));
    let destinations = header.destinations.filter((destination) => {
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
    // Already taken in (the consumer re-reads from the committed offset after each rebalance).
    if (owned.log.nextOffset !== null && message.offset < owned.log.nextOffset) return;
    if (header.dedupKey !== undefined) {
      const decision = owned.dedup.check(header.dedupKey, message.offset, header.receivedAtMs);
      if (decision.duplicate) {
        destinations = [];
        const input = inputOfDedupKey(header.dedupKey);
        this.#duplicates.set(input, (this.#duplicates.get(input) ?? 0) + 1);
      } else if (decision.fresh) {
        this.#state.write(message.partition, header.dedupKey, encodeDedupEntry(decision.entry));
      }
    }
    const record: SpoolRecord = {
      seq: message.offset,
      batchId: header.batchId,
      receivedAtMs: header.receivedAtMs,
      payload: message.value ?? Buffer.alloc(0),
    };
    if (owned.log.add(record, destinations)) this.#listener?.received(owned.log);
  }

  #lag(): { partition: number; connection: string; records: number }[] {
    const lag = [];
    for (const [partition, owned] of this.#logs) {
      const end = this.#ends.get(partition);
      // Where reading has got to: the fetch position moves past transaction markers, which
      // hold offsets but no batch; the log's next offset is known only once it took a record.
      const position = this.#membership?.position(partition);
      const read = position ?? owned.log.nextOffset;
      if (end === undefined || read === null || owned.waiting !== undefined) continue;
      for (const connection of this.#destinations) {
        const from = owned.log.oldestPending(connection) ?? read;
        lag.push({ partition, connection, records: Math.max(0, Number(end - from)) });
      }
    }
    return lag;
  }

  /** Notes the end of each owned partition (for the lag) and counts the dead letters. */
  async #refreshReports(): Promise<void> {
    if (this.#closing) return;
    await this.#followPartitionCount();
    await this.#deadLetterCount.refresh().catch((error: unknown) => {
      this.#options.logger?.info({ err: error }, 'counting the dead letters failed');
    });
    const partitions = [...this.#logs.keys()];
    if (partitions.length === 0 || this.#closing) return;
    try {
      const ends = await this.#reader.listOffsets({
        topics: [this.#options.topic],
        partitions: { [this.#options.topic]: partitions },
      });
      const list = ends.get(this.#options.topic) ?? [];
      this.#ends.clear();
      for (const partition of partitions) {
        const end = list[partition];
        if (end !== undefined) this.#ends.set(partition, end);
      }
    } catch (error) {
      this.#options.logger?.info({ err: error }, 'reading the ends of the intake partitions failed');
    }
  }

  #expireDedupKeys(): void {
    const now = this.#clock();
    for (const [partition, owned] of this.#logs) {
      for (const key of owned.dedup.expire(now)) this.#state.write(partition, key, null);
    }
  }

  #onHeldBytes(delta: number): void {
    this.#heldBytes += delta;
    const membership = this.#membership;
    if (membership === undefined) return;
    if (!membership.paused && this.#heldBytes >= this.#options.maxBufferedBytes) {
      membership.pause();
      // A backlog larger than the memory bound cannot be held whole: windows close by the clock
      // again (a window whose batches lie beyond the bound may be forwarded in two records).
      for (const { log } of this.#logs.values()) if (log.catchingUp) log.caughtUp();
    } else if (membership.paused && this.#heldBytes < this.#options.maxBufferedBytes * DEFAULTS.resumeRatio) {
      membership.resume();
    }
  }

  /**
   * The offset the partition may be committed to: that of the oldest record some connection still
   * needs. With nothing held and nothing fetched waiting to be taken in, it may go up to the fetch
   * position: past the transaction markers that follow the last batch, which would otherwise count
   * as a backlog of one. Null before anything was read, or while the partition is being restored.
   */
  #committableOffset(partition: number, owned: OwnedPartition): bigint | null {
    if (owned.waiting !== undefined) return null;
    const offset = owned.log.committableOffset();
    const position = this.#membership?.position(partition);
    if (
      owned.log.records === 0 &&
      position !== undefined &&
      (offset === null || position > offset) &&
      this.#membership?.buffered === 0
    ) {
      return position;
    }
    return offset;
  }

  /** The partitions' committable offsets that differ from what was last committed. */
  #offsetsToCommit(partitions: readonly number[] = [...this.#logs.keys()]) {
    const offsets = [];
    for (const partition of partitions) {
      const owned = this.#logs.get(partition);
      if (owned === undefined) continue;
      const offset = this.#committableOffset(partition, owned);
      if (offset === null || this.#committed.get(partition) === offset) continue;
      offsets.push({ topic: this.#options.topic, partition, offset, leaderEpoch: -1 });
    }
    return offsets;
  }

  /** Per connection, per owned partition: the oldest offset the connection still needs. */
  #connectionOffsets(partitions: readonly number[] = [...this.#logs.keys()]): Map<string, Map<number, bigint>> {
    const offsets = new Map<string, Map<number, bigint>>();
    for (const connection of this.#destinations) offsets.set(connection, new Map());
    for (const partition of partitions) {
      const owned = this.#logs.get(partition);
      if (owned === undefined) continue;
      const committable = this.#committableOffset(partition, owned);
      if (committable === null) continue;
      const caughtUp = owned.log.records === 0 ? committable : (owned.log.nextOffset ?? committable);
      for (const [connection, partitions] of offsets)
        partitions.set(partition, owned.log.oldestPending(connection) ?? caughtUp);
    }
    return offsets;
  }

  async #commitNow(consumer: IntakeConsumer, always: boolean): Promise<void> {
    if (!always && !consumer.isActive()) return;
    const offsets = this.#offsetsToCommit();
    if (offsets.length > 0) {
      // The dedup keys of the records committed past must be on the state topic first, or the
      // next owner would not know them.
      await this.#state.idle();
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
    await this.#progress.commit(this.#connectionOffsets());
  }
}

/** Resolves when the step settles (either way) or after ms, whichever comes first. */
async function within(step: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    step.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** Opens the Kafka spool: its topics exist and the intake can be written; processing starts apart. */
export function openKafkaSpool(options: KafkaSpoolOptions): Promise<KafkaSpool> {
  return KafkaSpool.open(options);
}
