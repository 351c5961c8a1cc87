// Against the real three-broker cluster: a produce request the leader wrote but never answered is
// resent on the same producer id and sequence numbers, so the broker recognises it and Kafka holds
// it once. The followers are frozen (SIGSTOP) so that the leader appends the records and then waits
// for replicas that never come: every attempt times out at the client while the records sit in the
// leader's log. When the followers go on, those records are committed; a resend on a fresh producer
// id (what the sink used to do after a few failed attempts) would be committed beside them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaOutputSettings } from '../../../src/sinks/kafka/config.ts';
import type { OutgoingRecord } from '../../../src/sinks/kafka/request-builder.ts';
import { KafkaService } from '../../../src/sinks/kafka/service.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { Metrics } from '../../../src/telemetry/metrics.ts';
import {
  getTestKafkaCluster,
  readRecords,
  testOutputSettings,
  uniqueTopicName,
  type KafkaCluster,
} from '../../support/kafka.ts';

let cluster: KafkaCluster;
const paused = new Set<number>();

before(async () => {
  cluster = await getTestKafkaCluster(3);
});

after(() => {
  for (const id of paused) cluster.resumeBroker(id);
});

/** A record whose value is the text as it is (the service never looks inside a value). */
function rawRecord(text: string): OutgoingRecord {
  return { key: '1', value: Buffer.from(text), events: [], batches: [1n] };
}

function settingsFor(topic: string): KafkaOutputSettings {
  return testOutputSettings(cluster, topic, {
    output: 'resend-test',
    client: { clientId: 'resend-test', connectTimeoutMs: 3000, requestTimeoutMs: 700, retryDelayMs: 100 },
    retryBackoffMinMs: 100,
    retryBackoffMaxMs: 300,
  });
}

test(
  'a request the leader wrote but never answered is written once, however often it is resent',
  { timeout: 120_000 },
  async (t) => {
    const topic = uniqueTopicName('service-resend');
    await cluster.createTopic(topic, { partitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } });
    const admin = cluster.admin();
    let leader: number;
    let followers: number[];
    try {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      const partition = metadata.topics.get(topic)!.partitions[0];
      leader = partition.leader;
      followers = partition.replicas.filter((id) => id !== leader);
    } finally {
      await admin.close();
    }
    assert.equal(followers.length, 2);

    const metrics = new Metrics();
    const service = new KafkaService({ settings: settingsFor(topic), metrics, logger: silentLogger() });
    const signal = new AbortController().signal;
    try {
      // Producer id, connections and metadata in place before the fault.
      const warm = await service.produce([rawRecord('warm-up')], signal);
      assert.deepEqual(warm, [{ status: 'acked' }]);

      for (const id of followers) {
        cluster.pauseBroker(id);
        paused.add(id);
      }
      const sending = service.produce([rawRecord('exactly-once')], signal);
      // Several attempts time out (700 ms each) while the records wait in the leader's log.
      await sleep(3_000);
      assert.equal(service.state, 'retrying', 'the output reports itself retrying meanwhile');
      for (const id of followers) {
        cluster.resumeBroker(id);
        paused.delete(id);
      }
      const outcome = await sending;
      assert.deepEqual(outcome, [{ status: 'acked' }]);
      assert.equal(service.state, 'ok');
    } finally {
      for (const id of paused) cluster.resumeBroker(id);
      paused.clear();
      await service.close();
    }

    // An idempotent, non-transactional producer writes no control records: the end offset counts records.
    const offsets = cluster.admin();
    let written: number;
    try {
      const [listed] = await offsets.listOffsets({
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
      });
      written = Number(listed.partitions[0].offset);
    } finally {
      await offsets.close();
    }
    const records = await readRecords(cluster, topic, written, { timeoutMs: 20_000 });
    t.diagnostic(`leader ${leader}, followers ${followers.join(',')} frozen; records written: ${written}`);
    assert.deepEqual(
      records.map((record) => record.value),
      ['warm-up', 'exactly-once'],
      'Kafka holds the resent record once',
    );
  },
);
