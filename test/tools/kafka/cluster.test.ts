// The cluster API the fault tests rely on, against the shared 3-broker cluster: replication
// settings, stopping, killing and restarting brokers, and attaching from a descriptor.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { attachKafkaCluster } from '../../../tools/kafka/cluster.ts';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../../support/kafka.ts';

let cluster: KafkaCluster;

before(async () => {
  cluster = await getTestKafkaCluster(3);
});

async function waitForRegistered(expected: number[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const registered = [...(await cluster.registeredBrokerIds().catch(() => new Set<number>()))].sort();
    if (JSON.stringify(registered) === JSON.stringify(expected)) return;
    if (Date.now() > deadline)
      assert.fail(`registered brokers ${registered.join(',')}, expected ${expected.join(',')}`);
    await sleep(250);
  }
}

void test('three brokers, each with its own port per listener', () => {
  assert.deepEqual(
    cluster.brokers.map((broker) => broker.id),
    [1, 2, 3],
  );
  const ports = cluster.brokers.flatMap((broker) => Object.values(broker.ports));
  assert.equal(new Set(ports).size, ports.length);
  assert.equal(cluster.bootstrap('SASL_SSL').split(',').length, 3);
  assert.match(cluster.bootstrap('SSL'), /^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
});

void test('topics default to replication factor 3', async () => {
  const topic = uniqueTopicName('cluster-rf');
  await cluster.createTopic(topic, { partitions: 2 });
  const admin = cluster.admin();
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    for (const partition of metadata.topics.get(topic)?.partitions ?? []) {
      assert.equal(partition.replicas.length, 3);
    }
    assert.equal(metadata.topics.get(topic)?.partitionsCount, 2);
  } finally {
    await admin.close();
  }
});

void test('a killed broker drops out of the cluster and comes back after restart', async () => {
  await cluster.killBroker(2);
  assert.equal(cluster.isBrokerRunning(2), false);
  await waitForRegistered([1, 3]);
  await cluster.restartBroker(2);
  assert.equal(cluster.isBrokerRunning(2), true);
  await waitForRegistered([1, 2, 3]);
});

void test('a gracefully stopped broker leaves at once and restarts', async () => {
  await cluster.stopBroker(3);
  assert.equal(cluster.isBrokerRunning(3), false);
  await waitForRegistered([1, 2]);
  await cluster.restartBroker(3);
  await waitForRegistered([1, 2, 3]);
});

void test('another process can attach through the descriptor file', () => {
  const attached = attachKafkaCluster(cluster.descriptorPath);
  assert.equal(attached.bootstrap('MTLS'), cluster.bootstrap('MTLS'));
  assert.deepEqual(attached.users, cluster.users);
  assert.deepEqual(attached.javaPids().sort(), cluster.javaPids().sort());
});
