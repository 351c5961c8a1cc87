// The topics cluster mode keeps on the intake cluster, created at start when missing: the intake
// (replicated, partitioned), the state topic (compacted, one partition per intake partition) and
// the dead letters (compacted, one partition, so a dead letter's offset is its id).
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
  const metadata = await admin.metadata({ topics: [topics.intake], forceUpdate: true });
  const partitions = metadata.topics.get(topics.intake)?.partitionsCount ?? topics.partitions;
  await create(topics.state, partitions, [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'min.insync.replicas', value: minInsync },
  ]);
  await create(topics.deadLetters, 1, [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'min.insync.replicas', value: minInsync },
  ]);
  return partitions;
}
