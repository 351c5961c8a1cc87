// The state topic's two sides. Writing: entries are gathered and sent together (one produce for
// whatever queued up while the previous one was under way), and `idle()` says when everything
// written so far is durable, which an offset commit waits for. Reading: one partition, from its
// start to its end as of the call, outside any consumer group, to restore a partition's state
// before its new owner processes it.
import type { SpoolLogger } from '../types.ts';
import { IS_CONTROL, ListOffsetTimestamps, type IntakeConsumer, type IntakeProducer } from './client.ts';
import { PartitionDedup } from './dedup-state.ts';

interface StateWrite {
  readonly partition: number;
  readonly key: string;
  /** Null: a tombstone (the key is forgotten when the topic is compacted). */
  readonly value: Buffer | null;
}

const RETRY_DELAY_MS = 500;

export class StateTopicWriter {
  readonly #producer: IntakeProducer;
  readonly #topic: string;
  readonly #logger: SpoolLogger | undefined;
  #queue: StateWrite[] = [];
  #draining: Promise<void> | undefined;
  #closed = false;

  constructor(producer: IntakeProducer, topic: string, logger?: SpoolLogger) {
    this.#producer = producer;
    this.#topic = topic;
    this.#logger = logger;
  }

  write(partition: number, key: string, value: Buffer | null): void {
    this.#queue.push({ partition, key, value });
    this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
  }

  /** Resolves once every entry written so far is on the state topic (acks=all). */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  close(): void {
    this.#closed = true;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const writes = this.#queue;
      this.#queue = [];
      for (;;) {
        try {
          await this.#producer.send({
            messages: writes.map((write) => ({
              topic: this.#topic,
              partition: write.partition,
              key: Buffer.from(write.key, 'utf8'),
              ...(write.value !== null && { value: write.value }),
            })),
          });
          break;
        } catch (error) {
          // An entry not written must not be committed past: the commit waits, and so does this.
          if (this.#closed) return;
          this.#logger?.warn({ err: error }, 'writing the state topic failed; trying again');
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
        }
      }
    }
  }
}

/** A record as read back by readPartitionToEnd. */
export interface StoredRecord {
  readonly offset: bigint;
  readonly key: Buffer | null;
  /** Null for a tombstone. */
  readonly value: Buffer | null;
  readonly headers: ReadonlyMap<string, string>;
}

/**
 * Reads partition `partition` of `topic` from its start (or from `from`, when that is still on the
 * partition) to its end as of now, and passes each record to `apply`; returns the offset to read
 * from next time.
 */
export async function readPartitionToEnd(
  reader: IntakeConsumer,
  topic: string,
  partition: number,
  apply: (record: StoredRecord) => void,
  from?: bigint,
): Promise<bigint> {
  const partitions = { [topic]: [partition] };
  const start = (
    await reader.listOffsets({ topics: [topic], partitions, timestamp: ListOffsetTimestamps.EARLIEST })
  ).get(topic)?.[partition];
  const end = (await reader.listOffsets({ topics: [topic], partitions })).get(topic)?.[partition];
  if (start === undefined || end === undefined) throw new Error(`no offsets for ${topic} partition ${partition}`);
  let next = from !== undefined && from > start ? from : start;
  while (next < end) {
    const metadata = await reader.metadata({ topics: [topic] });
    const described = metadata.topics.get(topic);
    if (described === undefined) throw new Error(`topic ${topic} is not known`);
    const response = await reader.fetch({
      node: described.partitions[partition].leader,
      maxWaitTime: 100,
      topics: [
        {
          topicId: described.id,
          partitions: [
            { partition, fetchOffset: next, currentLeaderEpoch: -1, lastFetchedEpoch: -1, partitionMaxBytes: 8 << 20 },
          ],
        },
      ],
    });
    const found = response.responses.flatMap((topics) => topics.partitions).find((p) => p.partitionIndex === partition);
    if (found === undefined || (found.records ?? []).length === 0) break;
    for (const batch of found.records ?? []) {
      // Control batches (transaction markers) hold no state; every batch moves `next` on.
      if ((batch.attributes & IS_CONTROL) === 0) {
        for (const record of batch.records) {
          const offset = batch.firstOffset + BigInt(record.offsetDelta);
          if (offset < next) continue;
          const headers = new Map<string, string>();
          for (const [name, value] of record.headers) {
            if (name !== null) headers.set(name.toString('utf8'), value?.toString('utf8') ?? '');
          }
          apply({ offset, key: record.key, value: record.value, headers });
        }
      }
      const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
      if (last + 1n > next) next = last + 1n;
    }
  }
  return next;
}

/**
 * A partition's dedup keys as its twin on the state topic holds them, the expired ones dropped:
 * what a new owner knows before it processes any batch of the partition.
 */
export async function readDedupState(
  reader: IntakeConsumer,
  stateTopic: string,
  partition: number,
  options: { windowMs: number; now: number },
): Promise<PartitionDedup> {
  const restored = new PartitionDedup(options.windowMs);
  await readPartitionToEnd(reader, stateTopic, partition, ({ key, value }) => {
    if (key !== null) restored.restore(key.toString('utf8'), value);
  });
  restored.expire(options.now);
  return restored;
}
