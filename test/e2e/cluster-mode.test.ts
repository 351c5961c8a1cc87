// Cluster mode (spool.kind: kafka) on the real broker: accepted batches go to the intake topic
// before the 202, the instance's share of the intake partitions runs the connections, and every
// batch reaches the output in each user's order, with a batch_id taken from its intake coordinates.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { intakeBatchId } from '../../src/spool/index.ts';
import {
  CONNECTION,
  consumeRecords,
  metricsText,
  postRaw,
  readiness,
  startKafkaTestForwarder,
  testIntake,
  waitFor,
  type KafkaTestForwarder,
} from '../support/forwarder.ts';
import { getTestKafkaCluster, readRecords, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';

let cluster: KafkaCluster;
const running: KafkaTestForwarder[] = [];

before(async () => {
  cluster = await getTestKafkaCluster(1);
});
after(async () => {
  await Promise.all(running.map((forwarder) => forwarder.close()));
});

/** A device id (a UUID) per user, so that a user's batches also share a device window. */
function deviceOf(mpid: string): string {
  return `00000000-0000-4000-8000-${mpid.replace('-', '').padStart(12, '0').slice(-12)}`;
}

function batch(mpid: string, index: number, extra = ''): string {
  return `{"environment":"production","mpid":${mpid},"mp_deviceid":"${deviceOf(mpid)}"${extra},"events":[{"event_type":"custom_event","data":{"event_name":"e${index}","custom_event_type":"other"}}]}`;
}

test('one instance: every batch is written to the intake before the 202 and forwarded in each user’s order', async () => {
  const topic = uniqueTopicName('cluster-out');
  await cluster.createTopic(topic, { partitions: 3 });
  const intake = testIntake(4);
  const forwarder = await startKafkaTestForwarder({ cluster, topic, intake, settings: { send_as_batch: false } });
  running.push(forwarder);
  await waitFor('readiness', async () => ((await readiness(forwarder.url)).status === 200 ? true : undefined));

  const users = ['11', '22', '33', '44', '9223372036854775807'];
  const perUser = 15;
  for (let i = 0; i < perUser; i++) {
    const statuses = await Promise.all(users.map((mpid) => postRaw(forwarder.url, batch(mpid, i))));
    assert.deepEqual(
      statuses,
      users.map(() => 202),
    );
  }
  const total = users.length * perUser;

  // The intake holds every accepted batch, keyed by MPID, with the connections it is bound to.
  const intakeRecords = await readRecords(cluster, intake.name, total);
  assert.equal(intakeRecords.length, total);
  assert.ok(intakeRecords.every((record) => users.includes(String(record.key))));

  const records = await consumeRecords(cluster, topic, total);
  const seen = new Map<string, number[]>();
  for (const record of records) {
    const events = record.value.events as { data: { event_name: string } }[];
    const list = seen.get(String(record.key)) ?? [];
    list.push(Number(events[0].data.event_name.slice(1)));
    seen.set(String(record.key), list);
  }
  for (const mpid of users) {
    assert.deepEqual(
      seen.get(mpid),
      Array.from({ length: perUser }, (_, i) => i),
      `user ${mpid} in order, once each`,
    );
  }
  // batch_id is the intake coordinates: the same whichever instance processes the record.
  const coordinates = new Set(intakeRecords.map((record) => String(intakeBatchId(record.partition, record.offset))));
  for (const record of records) {
    const id = record.value.batch_id;
    assert.ok(typeof id === 'bigint' || typeof id === 'number', 'batch_id is an integer');
    assert.ok(coordinates.has(String(id)), `batch_id ${String(id)} comes from the intake coordinates`);
  }

  const metrics = await metricsText(forwarder.url);
  assert.match(metrics, /^kf_intake_assigned_partitions 4$/m);
  assert.match(metrics, /^kf_intake_rebuild_seconds_count 4$/m, 'each partition taken over once');
  // Lag per partition and connection, down to 0 once everything is acknowledged.
  const lags = await waitFor('the intake lag to be reported as 0', async () => {
    const found = [...(await metricsText(forwarder.url)).matchAll(/^kf_intake_lag_records\{(.*)\} (\d+)$/gm)];
    return found.length === 4 && found.every((match) => match[2] === '0') ? found : undefined;
  });
  assert.ok(lags.every((match) => match[1].includes(`connection="${CONNECTION}"`)));
});

test('an intake cluster that cannot be reached at start fails the start (it does not hang)', async () => {
  const topic = uniqueTopicName('cluster-unreachable');
  const started = startKafkaTestForwarder({
    cluster,
    topic,
    intake: testIntake(1, { bootstrap_servers: '127.0.0.1:1', connect_timeout_ms: 1000 }),
  });
  await assert.rejects(started);
});
