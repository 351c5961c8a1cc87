// Our producer must put a key on the same partition as the Java client does, or records of one
// user (keyed by MPID) would be spread differently than by mParticle's own Kafka integration.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, test } from 'node:test';
import { createProducer } from '../../../src/sinks/kafka/kafka-client.ts';
import { produceWithJavaConsoleProducer } from '../../../tools/kafka/java-tools.ts';
import {
  getTestKafkaCluster,
  plaintextConnection,
  readRecords,
  uniqueTopicName,
  type KafkaCluster,
} from '../../support/kafka.ts';

let cluster: KafkaCluster;

before(async () => {
  cluster = await getTestKafkaCluster(1);
});

/** MPID-like keys (signed 64-bit decimals, both signs) plus a few other shapes of string. */
function sampleKeys(): string[] {
  const keys = new Set<string>(['-7636538281262557000', '0', '1', '-1', '9223372036854775807', '-9223372036854775808']);
  while (keys.size < 280) keys.add(randomBytes(8).readBigInt64BE().toString());
  for (const extra of ['user@example.com', 'ünïcödé', '日本語のキー', 'a b c', 'x'.repeat(300), 'das_id:123']) {
    keys.add(extra);
  }
  return [...keys];
}

void test('keys land on the same partitions as with the Java producer', async () => {
  // 7 partitions: with a power of two, a sign bug in the hash (>>> 0 instead of & 0x7fffffff)
  // would go unnoticed, because both give the same low bits.
  const topic = uniqueTopicName('partitioner');
  await cluster.createTopic(topic, { partitions: 7 });
  const keys = sampleKeys();

  await produceWithJavaConsoleProducer(
    cluster.bootstrap('PLAINTEXT'),
    topic,
    keys.map((key) => ({ key, value: 'java' })),
  );
  const producer = createProducer(plaintextConnection(cluster), { clientId: 'partitioner-test' });
  try {
    await producer.send({ messages: keys.map((key) => ({ topic, key, value: 'node' })) });
  } finally {
    await producer.close();
  }

  const records = await readRecords(cluster, topic, keys.length * 2, { timeoutMs: 60_000 });
  const partitionOf = { java: new Map<string, number>(), node: new Map<string, number>() };
  for (const record of records) {
    assert.ok(record.value === 'java' || record.value === 'node', `unexpected value ${record.value}`);
    partitionOf[record.value].set(record.key, record.partition);
  }
  assert.equal(partitionOf.java.size, keys.length);
  assert.equal(partitionOf.node.size, keys.length);
  const mismatches = keys.filter((key) => partitionOf.java.get(key) !== partitionOf.node.get(key));
  assert.deepEqual(mismatches, []);
  // The keys spread over every partition, so the comparison covered all of them.
  assert.equal(new Set(partitionOf.java.values()).size, 7);
});
