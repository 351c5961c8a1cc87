// Record shaping beyond mParticle, against the real broker and read back by a consumer:
// outputs[].key (records keyed by the customer_id user identity or by mp_deviceid; a batch without
// one gets no key; Kafka keeps order per key, so one key's records land on one partition, in
// order) and outputs[].headers.
import { stringifyJson } from '../../src/format/lossless-json.ts';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { basicAuth, post } from '../sources/events-api/support/forwarder.ts';
import { API_KEY, API_SECRET, INPUT, consumeRecords, startKafkaTestForwarder, waitFor } from '../support/forwarder.ts';
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

test('headers: per-event records carry every header asked for; batch records the batch-wide ones; none by default', async () => {
  const all = ['batch_id', 'message_id', 'event_type', 'input', 'source_request_id', 'content-type'];
  const headers = { authorization: basicAuth(API_KEY, API_SECRET) };
  for (const [mode, settings, output] of [
    ['per-event', { send_as_batch: false }, { headers: all }],
    ['batch', { send_as_batch: true, batch_window_ms: 200 }, { headers: all }],
    ['default', { send_as_batch: false }, {}],
  ] as const) {
    const topic = uniqueTopicName(`headers-${mode}`);
    await cluster.createTopic(topic, { partitions: 1 });
    const forwarder = await startKafkaTestForwarder({ cluster, topic, security: 'SCRAM-SHA-512', output, settings });
    try {
      const posted = batch(`headers-${mode}`, {});
      (posted.events as unknown[]).push({ event_type: 'screen_view', data: { screen_name: 'home' } });
      assert.equal((await post(forwarder.url, '/v2/events', posted, { headers })).status, 202);
      const records = await consumeRecords(cluster, topic, mode === 'batch' ? 1 : 2);
      for (const record of records) {
        if (mode === 'default') {
          assert.deepEqual(record.headers, {}, 'none by default, as at mParticle');
          continue;
        }
        const expected: Record<string, string> = {
          batch_id:
            typeof record.value.batch_id === 'string'
              ? record.value.batch_id
              : stringifyJson(record.value.batch_id ?? null),
          input: INPUT,
          source_request_id: `headers-${mode}`,
          'content-type': 'application/json',
        };
        if (mode === 'per-event') {
          const [event] = record.value.events as { event_type: string; message_id: string }[];
          expected.message_id = event.message_id;
          expected.event_type = event.event_type;
        }
        assert.deepEqual(record.headers, expected, `${mode} record headers`);
      }
      if (mode === 'per-event')
        assert.deepEqual(
          records.map((record) => record.headers.event_type),
          ['custom_event', 'screen_view'],
        );
    } finally {
      await forwarder.close();
    }
  }
});

test('topic_by_event_type: per-event records of a routed type go to its topic, the rest to topic; a missing routed topic pauses the output at start', async () => {
  const topic = uniqueTopicName('routes-default');
  const screens = uniqueTopicName('routes-screens');
  await cluster.createTopic(topic, { partitions: 1 });
  await cluster.createTopic(screens, { partitions: 1 });
  const headers = { authorization: basicAuth(API_KEY, API_SECRET) };
  const forwarder = await startKafkaTestForwarder({
    cluster,
    topic,
    security: 'SCRAM-SHA-512',
    output: { topic_by_event_type: { screen_view: screens } },
    settings: { send_as_batch: false },
  });
  try {
    const posted = batch('routed', {});
    (posted.events as unknown[]).push({ event_type: 'screen_view', data: { screen_name: 'home' } });
    assert.equal((await post(forwarder.url, '/v2/events', posted, { headers })).status, 202);
    const [other] = await consumeRecords(cluster, topic, 1);
    const [screen] = await consumeRecords(cluster, screens, 1);
    assert.deepEqual(
      (other.value.events as { event_type: string }[]).map((event) => event.event_type),
      ['custom_event'],
    );
    assert.deepEqual(
      (screen.value.events as { event_type: string }[]).map((event) => event.event_type),
      ['screen_view'],
    );
    assert.equal(screen.key, '42', 'keyed as on the default topic');
  } finally {
    await forwarder.close();
  }

  const broken = await startKafkaTestForwarder({
    cluster,
    topic,
    security: 'SCRAM-SHA-512',
    output: { topic_by_event_type: { screen_view: uniqueTopicName('routes-missing') } },
    settings: { send_as_batch: false },
  });
  try {
    const status = await waitFor('the start-up check to pause the output', () => {
      const [output] = broken.forwarder.outputs();
      return output.state === 'paused' ? output : undefined;
    });
    assert.equal(status.code, 'UNKNOWN_TOPIC');
  } finally {
    await broken.close();
  }
});
