// 64-bit IDs, byte-exact from the HTTP request to the Kafka record: raw JSON with values at and
// near ±2^63 (which a JavaScript number cannot hold) is posted with plain fetch, and the consumed
// record's text must carry the very same digits.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { consumeRecords, postRaw, startKafkaTestForwarder } from '../support/forwarder.ts';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';

let cluster: KafkaCluster;
before(async () => {
  cluster = await getTestKafkaCluster(1);
});

const IDS = {
  mpid: '-9223372036854775808',
  eventId: '9223372036854775807',
  sessionId: '-9223372036854775807',
  otherEventId: '9223372036854775806',
  sourceMessage: '-7636538281262557000',
};

for (const mode of ['per-event', 'window'] as const) {
  test(`${mode}: every digit of every 64-bit ID arrives`, async () => {
    const topic = uniqueTopicName(`int64-${mode}`);
    await cluster.createTopic(topic, { partitions: 3 });
    const settings = mode === 'per-event' ? { send_as_batch: false } : { batch_window_ms: 200 };
    const forwarder = await startKafkaTestForwarder({ cluster, topic, settings });
    try {
      const body =
        `{"environment":"production","mpid":${IDS.mpid},"batch_id":${IDS.sourceMessage},"events":[` +
        `{"event_type":"custom_event","data":{"event_id":${IDS.eventId},"session_id":${IDS.sessionId},"event_name":"big","custom_event_type":"other","custom_attributes":{"n":"${IDS.sourceMessage}"}}},` +
        `{"event_type":"screen_view","data":{"event_id":${IDS.otherEventId},"session_id":${IDS.sessionId},"screen_name":"s"}}]}`;
      assert.equal(await postRaw(forwarder.url, body), 202);
      const records = await consumeRecords(cluster, topic, mode === 'per-event' ? 2 : 1);
      const raw = records.map((record) => record.raw).join('\n');
      assert.ok(records.every((record) => record.key === IDS.mpid));
      assert.ok(records.every((record) => record.raw.includes(`"mpid":${IDS.mpid},`)));
      assert.ok(raw.includes(`"event_id":${IDS.eventId},`));
      assert.ok(raw.includes(`"event_id":${IDS.otherEventId},`));
      assert.equal(raw.split(`"session_id":${IDS.sessionId},`).length - 1, 2);
      assert.ok(raw.includes(`"n":"${IDS.sourceMessage}"`));
      // batch_id is the spool's own (stable) id, replacing the inbound one, and written as digits.
      assert.ok(records.every((record) => /"batch_id":-?\d+,/.test(record.raw)));
    } finally {
      await forwarder.close();
    }
  });
}
