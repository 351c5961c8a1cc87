// What the intake holds that the group has not committed past, per partition: `spool status` in
// cluster mode. Read from Kafka alone (the group's committed offsets and the partitions' ends), so
// it works from anywhere, with the instances running or not.
import { createIntakeAdmin, createReader, type IntakeConnection } from './client.ts';

export interface IntakePartitionStatus {
  readonly partition: number;
  /** The group's committed offset; null before the first commit. */
  readonly committed: bigint | null;
  /** The partition's end (last stable offset). */
  readonly end: bigint;
  /** Records from the committed offset (or the start) to the end: at most what is still to forward. */
  readonly backlog: number;
}

export async function readIntakeStatus(
  connection: IntakeConnection,
  options: { topic: string; groupId: string },
): Promise<IntakePartitionStatus[]> {
  const admin = createIntakeAdmin(connection);
  const reader = createReader(connection, 'status');
  try {
    const [groups, ends, starts] = await Promise.all([
      admin.listConsumerGroupOffsets({ groups: [options.groupId] }),
      reader.listOffsets({ topics: [options.topic] }),
      reader.listOffsets({ topics: [options.topic], timestamp: -2n }),
    ]);
    const committed = new Map<number, bigint>();
    for (const group of groups)
      for (const topic of group.topics)
        if (topic.name === options.topic)
          for (const partition of topic.partitions)
            if (partition.committedOffset >= 0n) committed.set(partition.partitionIndex, partition.committedOffset);
    const endOffsets = ends.get(options.topic) ?? [];
    const startOffsets = starts.get(options.topic) ?? [];
    return endOffsets.map((end, partition) => {
      const from = committed.get(partition) ?? startOffsets[partition] ?? 0n;
      return {
        partition,
        committed: committed.get(partition) ?? null,
        end,
        backlog: Math.max(0, Number(end - from)),
      };
    });
  } finally {
    await Promise.all([admin.close().catch(() => undefined), reader.close(true).catch(() => undefined)]);
  }
}
