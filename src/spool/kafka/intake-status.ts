// What the intake holds that has not been acknowledged, per partition and per connection: `spool
// status` in cluster mode. Read from Kafka alone (the group's committed offsets, each connection's
// progress group, and the partitions' ends), so it works from anywhere, with the instances running
// or not. As fresh as the owners' last commit (once a second).
import { createIntakeAdmin, createReader, type IntakeAdmin, type IntakeConnection } from './client.ts';
import { connectionProgressGroup } from './connection-progress.ts';

export interface IntakePartitionStatus {
  readonly partition: number;
  /** The group's committed offset; null before the first commit. */
  readonly committed: bigint | null;
  /** The partition's end (last stable offset). */
  readonly end: bigint;
  /** Records from the committed offset (or the start) to the end: what the slowest connection still needs. */
  readonly backlog: number;
}

export interface IntakeConnectionStatus {
  readonly connection: string;
  /** Records from the connection's progress (or the group's offset) to the end, over all partitions. */
  readonly backlog: number;
  /** False when no owner has committed the connection's progress yet: the backlog is then the group's. */
  readonly reported: boolean;
}

export interface IntakeStatus {
  readonly partitions: IntakePartitionStatus[];
  readonly connections: IntakeConnectionStatus[];
}

/** Committed offsets per partition of the topic, per group. */
async function committedOffsets(
  admin: IntakeAdmin,
  groups: readonly string[],
  topic: string,
): Promise<Map<string, Map<number, bigint>>> {
  const found = new Map<string, Map<number, bigint>>(groups.map((group) => [group, new Map()]));
  for (const group of await admin.listConsumerGroupOffsets({ groups: [...groups] }))
    for (const listed of group.topics)
      if (listed.name === topic)
        for (const partition of listed.partitions)
          if (partition.committedOffset >= 0n)
            found.get(group.groupId)?.set(partition.partitionIndex, partition.committedOffset);
  return found;
}

export async function readIntakeStatus(
  connection: IntakeConnection,
  options: { topic: string; groupId: string; connections: readonly string[] },
): Promise<IntakeStatus> {
  const admin = createIntakeAdmin(connection);
  const reader = createReader(connection, 'status');
  try {
    const progressGroups = options.connections.map((name) => connectionProgressGroup(options.groupId, name));
    const [groups, ends, starts] = await Promise.all([
      committedOffsets(admin, [options.groupId, ...progressGroups], options.topic),
      reader.listOffsets({ topics: [options.topic] }),
      reader.listOffsets({ topics: [options.topic], timestamp: -2n }),
    ]);
    const committed = groups.get(options.groupId) ?? new Map<number, bigint>();
    const endOffsets = ends.get(options.topic) ?? [];
    const startOffsets = starts.get(options.topic) ?? [];
    const fromOf = (partition: number): bigint => committed.get(partition) ?? startOffsets[partition] ?? 0n;
    const partitions = endOffsets.map((end, partition) => ({
      partition,
      committed: committed.get(partition) ?? null,
      end,
      backlog: Math.max(0, Number(end - fromOf(partition))),
    }));
    const connections = options.connections.map((name, i) => {
      const progress = groups.get(progressGroups[i]) ?? new Map<number, bigint>();
      let backlog = 0;
      endOffsets.forEach((end, partition) => {
        // No connection is behind the group's offset: that is the slowest connection's.
        const own = progress.get(partition);
        const from = own !== undefined && own > fromOf(partition) ? own : fromOf(partition);
        backlog += Math.max(0, Number(end - from));
      });
      return { connection: name, backlog, reported: progress.size > 0 };
    });
    return { partitions, connections };
  } finally {
    await Promise.all([admin.close().catch(() => undefined), reader.close(true).catch(() => undefined)]);
  }
}
