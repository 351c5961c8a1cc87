// Every way the sink can authenticate, against the real broker: SSL, mutual TLS, and SASL_SSL with
// PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. And a wrong password: the output pauses (metrics and
// readiness say so), every batch is kept, and a restart with the right password delivers them.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { isJsonObject } from '../../src/format/json-value.ts';
import { sdkBatch, sdkClient } from '../sources/events-api/support/sdk.ts';
import {
  API_KEY,
  API_SECRET,
  CONNECTION,
  consumeRecords,
  metricsText,
  readiness,
  startKafkaTestForwarder,
  waitFor,
  localSpool,
} from '../support/forwarder.ts';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster, type TestSecurity } from '../support/kafka.ts';

let cluster: KafkaCluster;
before(async () => {
  cluster = await getTestKafkaCluster(1);
});

const variants: TestSecurity[] = ['SSL', 'MTLS', 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
for (const security of variants) {
  test(`${security}: batches reach the topic`, async () => {
    const topic = uniqueTopicName(`auth-${security.toLowerCase()}`);
    await cluster.createTopic(topic, { partitions: 1 });
    const forwarder = await startKafkaTestForwarder({ cluster, topic, security, settings: { send_as_batch: false } });
    try {
      const sdk = sdkClient(forwarder.url, API_KEY, API_SECRET);
      assert.equal((await sdk.uploadEvents(sdkBatch(`auth-${security}`, ['custom_event']))).status, 202);
      const [record] = await consumeRecords(cluster, topic, 1);
      assert.equal(record.value.source_request_id, `auth-${security}`);
      assert.deepEqual(forwarder.forwarder.outputs(), [{ output: 'kafka', state: 'ok', degraded: false }]);
    } finally {
      await forwarder.close();
    }
  });
}

test('a wrong password pauses the output, keeps every batch, and the right one delivers them', async () => {
  const topic = uniqueTopicName('auth-paused');
  await cluster.createTopic(topic, { partitions: 1 });
  const setup = { cluster, topic, security: 'SCRAM-SHA-512' as const, settings: { send_as_batch: false } };
  const wrong = await startKafkaTestForwarder({ ...setup, output: { password: 'not-the-password' } });
  const sdk = sdkClient(wrong.url, API_KEY, API_SECRET);
  for (let i = 0; i < 3; i++)
    assert.equal((await sdk.uploadEvents(sdkBatch(`paused-${i}`, ['screen_view']))).status, 202);

  const status = await waitFor('the output to pause', () => {
    const [output] = wrong.forwarder.outputs();
    return output.state === 'paused' ? output : undefined;
  });
  assert.equal(status.code, 'SASL_AUTHENTICATION_FAILED');
  assert.match(status.fix ?? '', /username\/password/);

  // Still ready (batches are accepted and kept), but degraded, naming the output and the fix.
  const ready = await readiness(wrong.adminUrl);
  assert.equal(ready.status, 200);
  assert.equal(ready.body.status, 'degraded');
  const warnings = (ready.body.warnings ?? []).join('\n');
  assert.match(warnings, /output kafka is paused: .*SASL_AUTHENTICATION_FAILED/);
  assert.doesNotMatch(warnings, /not-the-password/);

  const metrics = await metricsText(wrong.adminUrl);
  assert.match(
    metrics,
    /kafka_forwarder_output_state\{output="kafka",state="paused",reason="SASL_AUTHENTICATION_FAILED"\} 1/,
  );
  assert.match(metrics, /kafka_forwarder_retries_total\{output="kafka",class="configuration"\} [1-9]/);
  assert.equal(localSpool(wrong.forwarder).stats().backlog[CONNECTION], 3);
  await wrong.close();

  const right = await startKafkaTestForwarder({ ...setup, spoolDir: wrong.spoolDir });
  try {
    const records = await consumeRecords(cluster, topic, 3);
    assert.deepEqual(
      records.map((record) => record.value.source_request_id),
      ['paused-0', 'paused-1', 'paused-2'],
    );
    assert.ok(records.every((record) => isJsonObject(record.value)));
    await waitFor(
      'the backlog to drain',
      () => (localSpool(right.forwarder).stats().backlog[CONNECTION] ?? 0) === 0 || undefined,
    );
    assert.equal((await readiness(right.adminUrl)).status, 200);
  } finally {
    await right.close();
  }
});

test('start-up truth: a topic the cluster lacks pauses the output before any batch, degraded on /readyz', async () => {
  const topic = uniqueTopicName('auth-no-topic'); // never created
  const forwarder = await startKafkaTestForwarder({ cluster, topic, security: 'SCRAM-SHA-512' });
  try {
    const status = await waitFor('the start-up check to pause the output', () => {
      const [output] = forwarder.forwarder.outputs();
      return output.state === 'paused' ? output : undefined;
    });
    assert.equal(status.code, 'UNKNOWN_TOPIC');
    assert.equal(status.degraded, true);
    const ready = await readiness(forwarder.adminUrl);
    assert.equal(ready.status, 200);
    assert.match((ready.body.warnings ?? []).join('\n'), /output kafka is paused: .*UNKNOWN_TOPIC/);
  } finally {
    await forwarder.close();
  }
});

test('start-up truth: the right settings are checked at once, and the client’s producer metrics join ours', async () => {
  const topic = uniqueTopicName('auth-checked');
  await cluster.createTopic(topic, { partitions: 2 });
  const forwarder = await startKafkaTestForwarder({ cluster, topic, security: 'SCRAM-SHA-512' });
  try {
    // No batch posted: the start-up check alone creates the producer and asks for the topic.
    await waitFor('the producer metrics', async () => {
      const text = await metricsText(forwarder.adminUrl);
      return /^kafka_producers\{output="kafka"\} 1$/m.test(text) ? text : undefined;
    });
    assert.deepEqual(forwarder.forwarder.outputs(), [{ output: 'kafka', state: 'ok', degraded: false }]);
  } finally {
    await forwarder.close();
  }
});
