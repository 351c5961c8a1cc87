// Fault: on the shared three-broker cluster (RF 3, min.insync.replicas 2), the leader of the
// topic's partitions is killed (SIGKILL) under load and later restarted. Nothing accepted may be
// lost and each user's events must keep their order: consumed per key the sequence numbers never
// go backwards, and with duplicates removed they increase strictly with none missing.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';
import { killForwarder, spawnForwarder, type ForwarderChild } from './support/child.ts';
import { writeE2eConfig } from './support/config.ts';
import { LoadGenerator } from './support/load.ts';
import { credentials, newRunId, sleep, tempDir, waitUntil } from './support/scenario.ts';
import { checkDedupedOrder, describeReport, verifyDelivery } from './support/verify.ts';

let cluster: KafkaCluster | undefined;
let forwarder: ForwarderChild | undefined;
let killed: number | undefined;
let temp: Awaited<ReturnType<typeof tempDir>> | undefined;

after(async () => {
  await killForwarder(forwarder);
  // The cluster is shared: whatever happened, give it its broker back.
  if (cluster !== undefined && killed !== undefined && !cluster.isBrokerRunning(killed)) {
    await cluster.startBroker(killed);
    await cluster.waitUntilReady(90_000, [killed]);
  }
  await temp?.remove();
});

async function leaders(kafka: KafkaCluster, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    return metadata.topics.get(topic)?.partitions.map((partition) => partition.leader) ?? [];
  } finally {
    await admin.close();
  }
}

test(
  'killing the partition leader under load loses nothing and keeps per-key order',
  { timeout: 240_000 },
  async (t) => {
    cluster = await getTestKafkaCluster(3);
    const kafka = cluster;
    temp = await tempDir('leader-kill');
    const topic = uniqueTopicName('faults-leader-kill');
    await kafka.createTopic(topic, { partitions: 2, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } });
    const { apiKey, apiSecret } = credentials();
    const configPath = await writeE2eConfig({
      dir: temp.dir,
      cluster: kafka,
      security: 'PLAIN',
      topic,
      apiKey,
      apiSecret,
    });
    forwarder = await spawnForwarder(configPath);
    const runId = newRunId();
    const load = new LoadGenerator({
      port: forwarder.port,
      apiKey,
      apiSecret,
      runId,
      users: 30,
      concurrency: 3,
      eventsPerBatch: 4,
      pauseMs: 20,
      maxEvents: 40_000,
    }).start();

    await sleep(3_000);
    const before = await leaders(kafka, topic);
    // The broker that leads partition 0 (and perhaps the other one too).
    const victim = before[0];
    assert.ok(victim !== undefined && victim >= 0, 'partition 0 has a leader');
    killed = victim;
    const acceptedBeforeKill = load.acceptedEvents;
    await kafka.killBroker(victim);
    await waitUntil(
      'the topic has new leaders',
      async () =>
        (await leaders(kafka, topic).catch(() => [victim])).every((leader) => leader >= 0 && leader !== victim),
      30_000,
    );
    await sleep(8_000);
    const acceptedWhileDown = load.acceptedEvents - acceptedBeforeKill;
    await kafka.startBroker(victim);
    await kafka.waitUntilReady(90_000, [victim]);
    await sleep(3_000);
    const result = await load.stop();

    const report = await verifyDelivery(kafka, { topic, runId, accepted: result.accepted, timeoutMs: 90_000 });
    t.diagnostic(
      describeReport(
        `leader kill (broker ${victim}, leaders before ${before.join(',')})`,
        result.acceptedEvents,
        report,
      ),
    );
    t.diagnostic(
      `accepted while the leader was down: ${acceptedWhileDown}; answers ${JSON.stringify(result.statusCounts)}`,
    );

    assert.ok(acceptedWhileDown > 0, 'load continued while the leader was down');
    assert.deepEqual(report.missing, [], 'every accepted event arrived');
    assert.deepEqual(report.orderViolations, [], "a key's sequence numbers never go backwards");
    assert.deepEqual(report.keysOnSeveralPartitions, [], 'each key stays on one partition');
    assert.equal(report.keyMismatches, 0, 'every record is keyed by its MPID');
    assert.deepEqual(
      checkDedupedOrder(report, result.accepted),
      [],
      'deduplicated, each key increases strictly with none missing',
    );
  },
);
