// outputs[].key against the real broker: records keyed by the customer_id user identity (or by
// mp_deviceid), as a consumer reads them, and a batch without one gets no key. Kafka keeps order
// per key, so records with the same key land on one partition.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { basicAuth, post } from '../sources/events-api/support/forwarder.ts';
import { API_KEY, API_SECRET, consumeRecords, startKafkaTestForwarder } from '../support/forwarder.ts';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';

let cluster: KafkaCluster;
before(async () => {
  cluster = await getTestKafkaCluster(1);
});

function batch(id: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    environment: 'development',
    source_request_id: id,
    mpid: 42,
    events: [{ event_type: 'custom_event', data: { event_name: id, custom_event_type: 'other' } }],
    ...extra,
  };
}

for (const [key, settings, keyed, expected] of [
  ['customer_id', {}, { user_identities: { customer_id: 'cust-9' } }, 'cust-9'],
  [
    'mp_deviceid',
    { include_mp_device_id: true },
    { mp_deviceid: '00000000-0000-4000-8000-000000000009' },
    '00000000-0000-4000-8000-000000000009',
  ],
] as const) {
  test(`key: ${key}: records are keyed by it, and a batch without one has no key`, async () => {
    const topic = uniqueTopicName(`key-${key.replace('_', '-')}`);
    await cluster.createTopic(topic, { partitions: 3 });
    const forwarder = await startKafkaTestForwarder({
      cluster,
      topic,
      security: 'SCRAM-SHA-512',
      output: { key },
      settings: { send_as_batch: false, ...settings },
    });
    try {
      const headers = { authorization: basicAuth(API_KEY, API_SECRET) };
      for (let i = 0; i < 3; i++)
        assert.equal((await post(forwarder.url, '/v2/events', batch(`keyed-${i}`, keyed), { headers })).status, 202);
      assert.equal((await post(forwarder.url, '/v2/events', batch('unkeyed', {}), { headers })).status, 202);
      const records = await consumeRecords(cluster, topic, 4);
      const byName = new Map(
        records.map((record) => [
          (record.value.events as { data: { event_name: string } }[])[0].data.event_name,
          record,
        ]),
      );
      const keyedRecords = [0, 1, 2].map((i) => byName.get(`keyed-${i}`));
      for (const record of keyedRecords) assert.equal(record?.key, expected, 'keyed by the chosen field, not the MPID');
      assert.equal(new Set(keyedRecords.map((record) => record?.partition)).size, 1, 'one key, one partition');
      assert.deepEqual(
        keyedRecords.map((record) => record?.offset),
        [...keyedRecords.map((record) => record?.offset)].sort((a, b) => (a! < b! ? -1 : 1)),
        'in the order they were posted',
      );
      assert.equal(byName.get('unkeyed')?.key, null);
    } finally {
      await forwarder.close();
    }
  });
}
