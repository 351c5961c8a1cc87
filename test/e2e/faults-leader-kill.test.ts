// Fault: on the shared three-broker cluster (RF 3, min.insync.replicas 2), the broker that leads
// the most of the topic's partitions is killed (SIGKILL) under load, five times, each time started
// again once the partitions have new leaders. The forwarder never crashes, so Kafka must hold every
// accepted event exactly once: its retries go to the new leader on the same producer id and
// sequence numbers, and the broker recognises what the dead leader had already written. A consumer
// counts each message_id; any duplicate fails the test and is printed.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';
import { killForwarder, spawnForwarder, type ForwarderChild } from './support/child.ts';
import { writeE2eConfig } from './support/config.ts';
import { LoadGenerator } from './support/load.ts';
import { credentials, newRunId, sleep, tempDir, waitUntil } from './support/scenario.ts';
import { checkDedupedOrder, describeReport, verifyDelivery } from './support/verify.ts';

const KILLS = 5;

let cluster: KafkaCluster | undefined;
let forwarder: ForwarderChild | undefined;
let temp: Awaited<ReturnType<typeof tempDir>> | undefined;

after(async () => {
  await killForwarder(forwarder);
  // The cluster is shared: whatever happened, give it every broker back.
  if (cluster !== undefined) {
    const stopped = cluster.descriptor.brokers.map((broker) => broker.id).filter((id) => !cluster!.isBrokerRunning(id));
    for (const id of stopped) await cluster.startBroker(id);
    if (stopped.length > 0) await cluster.waitUntilReady(90_000, stopped);
  }
  await temp?.remove();
});

interface PartitionState {
  readonly leader: number;
  readonly isr: readonly number[];
}

async function partitionStates(kafka: KafkaCluster, topic: string): Promise<PartitionState[]> {
  const admin = kafka.admin();
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    return (metadata.topics.get(topic)?.partitions ?? []).map((partition) => ({
      leader: partition.leader,
      isr: partition.isr,
    }));
  } finally {
    await admin.close();
  }
}

/** The broker leading the most partitions (the lowest id on a tie). */
function busiestLeader(states: readonly PartitionState[]): number {
  const counts = new Map<number, number>();
  for (const { leader } of states) if (leader >= 0) counts.set(leader, (counts.get(leader) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
}

test(
  'killing the partition leader five times under load writes every event exactly once, in per-key order',
  { timeout: 420_000 },
  async (t) => {
    cluster = await getTestKafkaCluster(3);
    const kafka = cluster;
    temp = await tempDir('leader-kill');
    const topic = uniqueTopicName('faults-leader-kill');
    await kafka.createTopic(topic, { partitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } });
    const { apiKey, apiSecret } = credentials();
    const configPath = await writeE2eConfig({
      dir: temp.dir,
      cluster: kafka,
      security: 'PLAIN',
      topic,
      apiKey,
      apiSecret,
      logLevel: 'info',
    });
    forwarder = await spawnForwarder(configPath);
    const runId = newRunId();
    const load = new LoadGenerator({
      port: forwarder.port,
      apiKey,
      apiSecret,
      runId,
      // Enough load that a produce request is nearly always waiting for its replicas when the
      // leader dies: the case where the dead leader wrote a request it never answered.
      users: 60,
      concurrency: 6,
      eventsPerBatch: 4,
      pauseMs: 0,
      maxEvents: 1_000_000,
    }).start();

    const kills: string[] = [];
    let acceptedWhileDown = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      await sleep(2_000);
      const before = await partitionStates(kafka, topic);
      const victim = busiestLeader(before);
      const acceptedBefore = load.acceptedEvents;
      await kafka.killBroker(victim);
      await waitUntil(
        `the topic has new leaders after kill ${kill}`,
        async () =>
          (await partitionStates(kafka, topic).catch(() => [])).every(
            (state) => state.leader >= 0 && state.leader !== victim,
          ),
        30_000,
      );
      await sleep(2_000);
      acceptedWhileDown += load.acceptedEvents - acceptedBefore;
      await kafka.startBroker(victim);
      await kafka.waitUntilReady(90_000, [victim]);
      // Back in every partition's ISR before the next kill, so min.insync.replicas still holds after it.
      await waitUntil(
        `broker ${victim} rejoins the ISR`,
        async () => (await partitionStates(kafka, topic).catch(() => [])).every((state) => state.isr.length === 3),
        60_000,
      );
      kills.push(`${victim} (leaders ${before.map((state) => state.leader).join(',')})`);
    }
    const result = await load.stop();

    const report = await verifyDelivery(kafka, {
      topic,
      runId,
      accepted: result.accepted,
      timeoutMs: 90_000,
      quietMs: 3_000,
    });
    t.diagnostic(describeReport(`${KILLS} leader kills: ${kills.join('; ')}`, result.acceptedEvents, report));
    t.diagnostic(
      `accepted while a leader was down: ${acceptedWhileDown}; answers ${JSON.stringify(result.statusCounts)}`,
    );
    if (report.duplicateMessageIds.length > 0) {
      t.diagnostic(`message_ids written more than once: ${report.duplicateMessageIds.slice(0, 50).join(' ')}`);
    }

    assert.ok(acceptedWhileDown > 0, 'load continued while the leaders were down');
    assert.deepEqual(report.missing, [], 'every accepted event arrived');
    assert.deepEqual(report.duplicateMessageIds, [], 'no message_id was written twice');
    assert.deepEqual(report.duplicates, [], 'no event was written twice');
    assert.deepEqual(report.orderViolations, [], "a key's sequence numbers never go backwards");
    assert.deepEqual(report.keysOnSeveralPartitions, [], 'each key stays on one partition');
    assert.equal(report.keyMismatches, 0, 'every record is keyed by its MPID');
    assert.deepEqual(checkDedupedOrder(report, result.accepted), [], 'each key increases strictly with none missing');
  },
);
