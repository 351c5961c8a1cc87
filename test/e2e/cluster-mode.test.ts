// Cluster mode (spool.kind: kafka) on the real broker: accepted batches go to the intake topic
// before the 202, the instance's share of the intake partitions runs the connections, and every
// batch reaches the output in each user's order, with a batch_id taken from its intake coordinates.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { intakeBatchId } from '../../src/spool/index.ts';
import {
  backlogOf,
  CONNECTION,
  consumeRecords,
  metricsText,
  postRaw,
  rawForwarderConfig,
  readiness,
  startKafkaTestForwarder,
  testIntake,
  waitFor,
  type KafkaTestForwarder,
} from '../support/forwarder.ts';
import {
  getTestKafkaCluster,
  plaintextConnection,
  readRecords,
  uniqueTopicName,
  type KafkaCluster,
} from '../support/kafka.ts';
import { createConsumer } from '../../tools/kafka/client.ts';
import { cli } from '../cli/support.ts';
import { tempDir } from '../support/temp-dir.ts';

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
  await waitFor('readiness', async () => ((await readiness(forwarder.adminUrl)).status === 200 ? true : undefined));

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

  const metrics = await metricsText(forwarder.adminUrl);
  assert.match(metrics, /^kafka_forwarder_intake_assigned_partitions 4$/m);
  assert.match(metrics, /^kafka_forwarder_intake_rebuild_seconds_count 4$/m, 'each partition taken over once');
  // Lag per partition and connection, down to 0 once everything is acknowledged.
  const lags = await waitFor('the intake lag to be reported as 0', async () => {
    const found = [
      ...(await metricsText(forwarder.adminUrl)).matchAll(/^kafka_forwarder_intake_lag_records\{(.*)\} (\d+)$/gm),
    ];
    return found.length === 4 && found.every((match) => match[2] === '0') ? found : undefined;
  });
  assert.ok(lags.every((match) => match[1].includes(`connection="${CONNECTION}"`)));
});

test('a request whose batches share a partition is written without a transaction; one spread over partitions in one transaction', async () => {
  const topic = uniqueTopicName('cluster-txn');
  await cluster.createTopic(topic, { partitions: 1 });
  const intake = testIntake(4);
  const forwarder = await startKafkaTestForwarder({ cluster, topic, intake, settings: { send_as_batch: false } });
  running.push(forwarder);
  await waitFor('readiness', async () => ((await readiness(forwarder.adminUrl)).status === 200 ? true : undefined));

  const singles = 5;
  for (let i = 0; i < singles; i++) assert.equal(await postRaw(forwarder.url, batch('11', i)), 202);
  const bulkUsers = ['11', '22', '33', '44', '55', '66'];
  const bulk = `[${bulkUsers.map((mpid) => batch(mpid, 100)).join(',')}]`;
  assert.equal(await postRaw(forwarder.url, bulk, true), 202);

  const records = await readRecords(cluster, intake.name, singles + bulkUsers.length);
  const singleRecords = records.filter((record) => {
    const value = JSON.parse(String(record.value)) as { events: { data: { event_name: string } }[] };
    return value.events[0].data.event_name !== 'e100';
  });
  // One partition's records from one idempotent producer, no transaction markers between them.
  assert.deepEqual(
    singleRecords.map((record) => record.offset),
    Array.from({ length: singles }, (_, i) => BigInt(i)),
  );
  const bulkPartitions = new Set(records.filter((r) => !singleRecords.includes(r)).map((r) => r.partition));
  assert.ok(bulkPartitions.size > 1, 'the bulk request spans several partitions (test precondition)');

  // Each partition the bulk request wrote to ends with its transaction's commit marker: one
  // offset more than it has records. The others have no marker.
  const reader = createConsumer(plaintextConnection(cluster), {
    groupId: uniqueTopicName('test-offsets'),
    clientId: 'test-offsets',
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
  });
  try {
    const ends = (await reader.listOffsets({ topics: [intake.name] })).get(intake.name) ?? [];
    for (let partition = 0; partition < 4; partition++) {
      const held = records.filter((record) => record.partition === partition).length;
      const markers = bulkPartitions.has(partition) ? 1n : 0n;
      assert.equal(ends[partition], BigInt(held) + markers, `partition ${partition}: records and markers`);
    }
  } finally {
    await reader.close(true);
  }
});

test('spool status gives each connection its own backlog, not only the slowest one’s', async () => {
  const topic = uniqueTopicName('cluster-status');
  await cluster.createTopic(topic, { partitions: 1 });
  const intake = testIntake(2);
  const setup = {
    cluster,
    topic,
    intake,
    settings: { send_as_batch: false },
    // Holds every batch in a 10-minute window, so its progress (and the group's offset) stays put.
    extraConnections: [{ name: 'held', settings: { send_as_batch: true, batch_window_ms: 600_000 } }],
  };
  const forwarder = await startKafkaTestForwarder(setup);
  running.push(forwarder);
  const { dir } = await tempDir('cluster-status');
  const configPath = path.join(dir, 'kafka-forwarder.yaml');
  await writeFile(configPath, JSON.stringify(rawForwarderConfig({ ...setup, spoolDir: path.join(dir, 'spool') })));
  await waitFor('readiness', async () => ((await readiness(forwarder.adminUrl)).status === 200 ? true : undefined));

  const users = ['11', '22', '33', '44'];
  for (const [i, mpid] of users.entries()) assert.equal(await postRaw(forwarder.url, batch(mpid, i)), 202);
  await waitFor('the per-event connection to drain and the window to hold', () =>
    backlogOf(forwarder.forwarder) === 0 && backlogOf(forwarder.forwarder, 'held') === users.length ? true : undefined,
  );
  await forwarder.forwarder.intake?.commit();

  const status = await cli(['spool', 'status', '-c', configPath]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^ {2}backlog: {6}${users.length} batch`, 'm'));
  assert.match(status.stdout, new RegExp(`^ {2}${CONNECTION} +kafka +0$`, 'm'));
  assert.match(status.stdout, new RegExp(`^ {2}held +kafka +${users.length}$`, 'm'));
  assert.doesNotMatch(status.stdout, /≤/);
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
