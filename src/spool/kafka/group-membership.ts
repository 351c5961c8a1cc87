// Group membership (Kafka Streams' StreamThread, in part): the consumer's life in the intake's
// consumer group. It joins, streams the intake topic from the committed offsets, pauses and
// resumes reading for memory, and, when the stream fails for good, restarts: it first lets the
// owner of the work commit through the old consumer (which is still a member and can still
// commit), then gives everything up and joins again. It decides nothing about partitions: it
// reports each assignment and each message to its owner.
import type { SpoolLogger } from '../types.ts';
import {
  consumeIntake,
  createGroupConsumer,
  type IntakeConnection,
  type IntakeConsumer,
  type IntakeMessage,
  type IntakeStream,
} from './client.ts';

export interface GroupMembershipOptions {
  readonly connection: IntakeConnection;
  readonly topic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly logger?: SpoolLogger;
  /** How long a failed join waits before the next try. */
  readonly retryDelayMs: number;
}

/** What the membership tells its owner. */
export interface MembershipListener {
  /** Awaited before each JoinGroup: partitions already given up can be finished and committed. */
  beforeJoin(consumer: IntakeConsumer): Promise<void>;
  /** The group gave this member these partitions of the intake (an empty list when it left). */
  assigned(generationId: number, partitions: ReadonlySet<number>): void;
  message(message: IntakeMessage): void;
  /**
   * The stream failed and the member will join again: commit what was promised through this
   * consumer (still a member), then give up every partition. Awaited before the consumer closes.
   */
  beforeRestart(consumer: IntakeConsumer): Promise<void>;
}

export class GroupMembership {
  readonly #options: GroupMembershipOptions;
  readonly #listener: MembershipListener;
  #consumer: IntakeConsumer | undefined;
  #stream: IntakeStream | undefined;
  #joined = false;
  #paused = false;
  #closing = false;
  #restarts = 0;

  constructor(options: GroupMembershipOptions, listener: MembershipListener) {
    this.#options = options;
    this.#listener = listener;
  }

  /** The current member, or undefined while it restarts. */
  get consumer(): IntakeConsumer | undefined {
    return this.#consumer;
  }

  get stream(): IntakeStream | undefined {
    return this.#stream;
  }

  /** Whether the group has given this member its partitions at least once since the last (re)start. */
  get joined(): boolean {
    return this.#joined;
  }

  /** Restarts after a failed stream, since start. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Where reading of a partition has got to (the next offset to fetch), if it is being read. */
  position(partition: number): bigint | undefined {
    return this.#stream?.offsetsToFetch.get(`${this.#options.topic}:${partition}`);
  }

  /** Messages fetched and not yet handed over. */
  get buffered(): number {
    return this.#stream?.readableLength ?? 0;
  }

  async join(): Promise<void> {
    const { connection, groupId, sessionTimeoutMs, heartbeatIntervalMs, topic } = this.#options;
    const consumer = createGroupConsumer(connection, {
      groupId,
      sessionTimeoutMs,
      heartbeatIntervalMs: Math.min(heartbeatIntervalMs, Math.floor(sessionTimeoutMs / 3)),
      rebalanceTimeoutMs: 3 * sessionTimeoutMs,
      beforeJoin: () => this.#listener.beforeJoin(consumer),
    });
    this.#consumer = consumer;
    const report = (generationId: number, assignments: readonly { topic: string; partitions: number[] }[] | null) => {
      if (this.#closing || this.#consumer !== consumer) return;
      this.#joined = true;
      const partitions = new Set<number>();
      for (const assignment of assignments ?? [])
        if (assignment.topic === topic) for (const partition of assignment.partitions) partitions.add(partition);
      this.#listener.assigned(generationId, partitions);
    };
    consumer.on('consumer:group:join', ({ generationId, assignments }) =>
      report(generationId ?? consumer.generationId, assignments ?? consumer.assignments),
    );
    consumer.on('consumer:group:leave', () => report(consumer.generationId, []));
    // The client emits 'error' when a rejoin it started by itself (after a failed heartbeat) fails,
    // as when the coordinator moves in a rolling restart. An 'error' event nobody hears ends the
    // process; heard, the member is taken to be out of the group and joins again afresh.
    consumer.on('error', (error: Error) => {
      if (this.#closing || this.#consumer !== consumer) return;
      this.#options.logger?.warn({ err: error }, 'the consumer could not rejoin the group; joining again');
      void this.restart(consumer);
    });
    const stream = await consumeIntake(consumer, topic);
    this.#stream = stream;
    if (this.#paused) stream.pause();
    stream.on('data', (message: IntakeMessage) => this.#listener.message(message));
    stream.on('error', (error: Error) => {
      if (this.#closing) return;
      this.#options.logger?.warn({ err: error }, 'reading the intake topic failed; rejoining the group');
      void this.restart(consumer);
    });
  }

  /**
   * Joins again with the same member id, which makes the coordinator rebalance the group: the
   * leader then assigns from fresh metadata (partitions added to the topic are taken at once).
   */
  async rejoin(): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined || this.#closing) return;
    await consumer.joinGroup({});
  }

  /** Stops reading (memory is full); reading goes on at resume. */
  pause(): void {
    this.#paused = true;
    this.#stream?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#stream?.resume();
  }

  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Leaves with this consumer and joins again. The listener commits through the old consumer
   * before it closes: clearing it first would leave the commit nothing to go through, and the
   * next owner would send the tail again.
   */
  async restart(old: IntakeConsumer | undefined = this.#consumer): Promise<void> {
    if (old === undefined || this.#consumer !== old || this.#closing) return;
    this.#restarts++;
    try {
      await this.#listener.beforeRestart(old);
    } catch (error) {
      this.#options.logger?.warn({ err: error }, 'committing before rejoining the group failed');
    }
    this.#consumer = undefined;
    this.#stream = undefined;
    this.#joined = false;
    await old.close(true).catch(() => undefined);
    while (!this.#closing) {
      await new Promise((resolve) => setTimeout(resolve, this.#options.retryDelayMs));
      if (this.#closing) return;
      try {
        await this.join();
        return;
      } catch (error) {
        this.#options.logger?.warn({ err: error }, 'joining the consumer group failed; trying again');
      }
    }
  }

  /** Leaves the group (its partitions go to the other members at once), each step bounded. */
  async close(bounded: (step: Promise<unknown>) => Promise<void>): Promise<void> {
    this.#closing = true;
    await bounded(this.#stream?.close() ?? Promise.resolve());
    await bounded(this.#consumer?.close() ?? Promise.resolve());
  }
}
