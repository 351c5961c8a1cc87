// Against a real broker: KafkaService reads Kafka's per-partition answer, so a request that one
// partition refuses does not write the other partitions' records twice, and a merged record the
// topic refuses as too large is split by events instead of being refused whole.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { isJsonObject } from '../../../src/format/json-value.ts';
import type { KafkaOutputSettings } from '../../../src/sinks/kafka/config.ts';
import { buildRecords, type OutgoingRecord } from '../../../src/sinks/kafka/request-builder.ts';
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
before(async () => {
  cluster = await getTestKafkaCluster(1);
});

function settingsFor(topic: string): KafkaOutputSettings {
  return testOutputSettings(cluster, topic);
}

/** Records in the topic, over all partitions (an idempotent, non-transactional producer writes no markers). */
async function recordCount(topic: string, partitions: number): Promise<number> {
  const admin = cluster.admin();
  try {
    const [listed] = await admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })),
        },
      ],
    });
    return listed.partitions.reduce((sum, partition) => sum + Number(partition.offset), 0);
  } finally {
    await admin.close();
  }
}

function batchOf(name: string, events: number, eventBytes: number, mpid?: number) {
  return {
    batch_id: name,
    ...(mpid !== undefined && { mpid }),
    events: Array.from({ length: events }, (_, index) => ({
      event_type: 'custom_event',
      data: { event_name: `${name}-${index}`, padding: 'x'.repeat(eventBytes) },
      message_id: `${name}-${index}`,
    })),
  };
}

/** The batch as one record, made by the request builder (which the pipeline uses too). */
function recordOf(batch: ReturnType<typeof batchOf>): OutgoingRecord {
  const { records } = buildRecords(batch, { seqs: [1n] }, { maxRecordBytes: 1_000_000 });
  assert.equal(records.length, 1);
  return records[0];
}

function batchRecord(name: string, events: number, eventBytes: number): OutgoingRecord {
  // Null keys: the service spreads such records round-robin, so two in one request land on both partitions.
  return recordOf(batchOf(name, events, eventBytes));
}

test('a request one partition refuses: the other partition’s record is acked and written once', async () => {
  const topic = uniqueTopicName('service-partial');
  await cluster.createTopic(topic, { partitions: 2, configs: { 'max.message.bytes': '3000' } });
  const service = new KafkaService({ settings: settingsFor(topic), metrics: new Metrics(), logger: silentLogger() });
  try {
    const small = batchRecord('small', 1, 10);
    const big = batchRecord('big', 1, 5000);
    const outcomes = await service.produce([small, big], new AbortController().signal);
    assert.equal(outcomes[0].status, 'acked');
    assert.equal(outcomes[1].status, 'rejected');
    assert.equal(outcomes[1].status === 'rejected' && outcomes[1].code, 'RECORD_TOO_LARGE');
    const [record] = await readRecords(cluster, topic, 1);
    assert.equal(record.value, small.value.toString('utf8'));
    assert.equal(await recordCount(topic, 2), 1, 'the good record was written exactly once');
  } finally {
    await service.close();
  }
});

test('a merged record the topic refuses as too large is split by events; only an event too large alone is rejected', async () => {
  const topic = uniqueTopicName('service-split');
  await cluster.createTopic(topic, { partitions: 1, configs: { 'max.message.bytes': '3000' } });
  const service = new KafkaService({ settings: settingsFor(topic), metrics: new Metrics(), logger: silentLogger() });
  try {
    const batch = batchOf('win', 8, 600, 42);
    batch.events[5].data.padding = 'y'.repeat(5000); // this one cannot go even alone
    const merged = recordOf(batch);
    const [outcome] = await service.produce([merged], new AbortController().signal);
    assert.equal(outcome.status, 'rejected');
    assert.deepEqual(
      outcome.status === 'rejected' && outcome.refusedEvents?.map((event) => [event.messageId, event.seq]),
      [['win-5', 1n]],
    );
    const written = await readRecords(cluster, topic, 1);
    const count = await recordCount(topic, 1);
    const records = count > 1 ? await readRecords(cluster, topic, count) : written;
    const names = records.flatMap((record) => {
      const batch: unknown = JSON.parse(record.value);
      assert.ok(isJsonObject(batch) && Array.isArray(batch.events));
      assert.equal(record.key, '42');
      return batch.events.map((event) => (event as { message_id: string }).message_id);
    });
    // Every other event arrived, once, in order.
    assert.deepEqual(names, ['win-0', 'win-1', 'win-2', 'win-3', 'win-4', 'win-6', 'win-7']);
  } finally {
    await service.close();
  }
});
