// The topics cluster mode keeps on the intake cluster, created at start when missing: the intake
// (replicated, partitioned), the state topic (compacted, one partition per intake partition) and
// the dead letters (compacted, one partition, so a dead letter's offset is its id).
//
// The state topic follows the intake: when the intake has more partitions than the state topic
// (an operator added some), the state topic is grown to match, at start and whenever a running
// instance sees the intake grow. Instances race to do both; the losers' TOPIC_ALREADY_EXISTS and
// INVALID_PARTITIONS (already that many) are success.
import { hasKafkaProtocolError, type IntakeAdmin } from './client.ts';

export interface IntakeTopics {
  readonly intake: string;
  readonly state: string;
  readonly deadLetters: string;
  readonly partitions: number;
  readonly replicationFactor: number;
}

/** Creates whichever of the topics is missing; returns the intake topic's partition count. */
export async function ensureIntakeTopics(admin: IntakeAdmin, topics: IntakeTopics): Promise<number> {
  const replicas = topics.replicationFactor;
  // With more than one replica, a write must reach two before it is acknowledged, so one broker's loss loses nothing.
  const minInsync = String(Math.min(2, replicas));
  const existing = new Set(await admin.listTopics());
  const create = async (topic: string, partitions: number, configs: { name: string; value: string }[]) => {
    if (existing.has(topic)) return;
    try {
      await admin.createTopics({ topics: [topic], partitions, replicas, configs });
    } catch (error) {
      // Another instance starting at the same time created it first.
      if (!hasKafkaProtocolError(error, 'TOPIC_ALREADY_EXISTS')) throw error;
    }
  };
  await create(topics.intake, topics.partitions, [{ name: 'min.insync.replicas', value: minInsync }]);
  const partitions = (await partitionCounts(admin, [topics.intake])).get(topics.intake) ?? topics.partitions;
  await create(topics.state, partitions, [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'min.insync.replicas', value: minInsync },
  ]);
  await create(topics.deadLetters, 1, [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'min.insync.replicas', value: minInsync },
  ]);
  await growToMatch(admin, topics.state, partitions);
  return partitions;
}

/** Each topic's partition count, fresh from the cluster (absent: not known to it). */
export async function partitionCounts(admin: IntakeAdmin, topics: readonly string[]): Promise<Map<string, number>> {
  const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
  const counts = new Map<string, number>();
  for (const topic of topics) {
    const count = metadata.topics.get(topic)?.partitionsCount;
    if (count !== undefined) counts.set(topic, count);
  }
  return counts;
}

/**
 * Gives the topic at least `partitions` partitions. Returns true when it had fewer: this call (or
 * another instance's at the same moment) added them.
 */
export async function growToMatch(admin: IntakeAdmin, topic: string, partitions: number): Promise<boolean> {
  const current = (await partitionCounts(admin, [topic])).get(topic);
  if (current === undefined || current >= partitions) return false;
  try {
    await admin.createPartitions({ topics: [{ name: topic, count: partitions }] });
  } catch (error) {
    // Another instance grew it first (to this count: every instance follows the same intake).
    if (!hasKafkaProtocolError(error, 'INVALID_PARTITIONS')) throw error;
  }
  return true;
}
