// Fault: the only broker stops for 30 s under load. Every event answered 202 must reach Kafka
// once it returns (zero loss), and the spool's backlog must drain. Runs its own 1-broker cluster,
// since stopping the shared one would break other tests.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startKafkaCluster, type KafkaCluster } from '../../tools/kafka/cluster.ts';
import { uniqueTopicName } from '../support/kafka.ts';
import { killForwarder, spawnForwarder, type ForwarderChild } from './support/child.ts';
import { CONNECTION_NAME, writeE2eConfig } from './support/config.ts';
import { basicAuth, buildBatch, LoadGenerator } from './support/load.ts';
import { waitForMetric } from './support/metrics.ts';
import { credentials, newRunId, sleep, tempDir, waitUntil } from './support/scenario.ts';
import { describeReport, verifyDelivery } from './support/verify.ts';

const OUTAGE_MS = 30_000;

let cluster: KafkaCluster | undefined;
let forwarder: ForwarderChild | undefined;
let temp: Awaited<ReturnType<typeof tempDir>> | undefined;

before(async () => {
  cluster = await startKafkaCluster({ brokers: 1 });
  process.once('exit', () => cluster?.signalAllSync('SIGKILL'));
});

after(async () => {
  await killForwarder(forwarder);
  await cluster?.stop();
  await temp?.remove();
});

test(
  'stopping the only broker for 30 s under load loses nothing and the backlog drains',
  { timeout: 240_000 },
  async (t) => {
    assert.ok(cluster);
    temp = await tempDir('broker-stop');
    const topic = uniqueTopicName('faults-broker-stop');
    await cluster.createTopic(topic, { partitions: 3, replicationFactor: 1 });
    const { apiKey, apiSecret } = credentials();
    const configPath = await writeE2eConfig({
      dir: temp.dir,
      cluster,
      security: 'SCRAM-SHA-256',
      topic,
      apiKey,
      apiSecret,
    });
    forwarder = await spawnForwarder(configPath);
    const runId = newRunId();
    const load = new LoadGenerator({
      port: forwarder.port,
      apiKey,
      apiSecret,
      runId,
      users: 40,
      concurrency: 2,
      eventsPerBatch: 5,
      pauseMs: 25,
      maxEvents: 40_000,
    }).start();

    await sleep(3_000);
    const beforeOutage = load.acceptedEvents;
    await cluster.stopBroker(1);
    await sleep(OUTAGE_MS);
    const duringOutage = load.acceptedEvents - beforeOutage;
    await cluster.startBroker(1);
    await cluster.waitUntilReady(90_000);
    await sleep(3_000);
    const result = await load.stop();

    const report = await verifyDelivery(cluster, { topic, runId, accepted: result.accepted, timeoutMs: 120_000 });
    t.diagnostic(describeReport('broker stop', result.acceptedEvents, report));
    t.diagnostic(
      `accepted before the outage ${beforeOutage}, during it ${duringOutage}; answers ${JSON.stringify(result.statusCounts)}`,
    );

    assert.ok(beforeOutage > 0, 'load reached Kafka before the outage');
    assert.ok(duringOutage > 0, 'the forwarder kept accepting (into the spool) while Kafka was down');
    assert.deepEqual(report.missing, [], 'every accepted event arrived');
    assert.deepEqual(report.orderViolations, [], "each user's events stay in order");
    const backlog = await waitForMetric(
      forwarder.adminPort,
      'kafka_forwarder_spool_backlog_records',
      (value) => value === 0,
      {
        labels: { connection: CONNECTION_NAME },
        timeoutMs: 30_000,
      },
    );
    assert.equal(backlog, 0, 'the spool backlog drains once every record is acknowledged');
  },
);

test(
  'cluster mode, intake cluster down: ingest answers 503 with Retry-After and never 202, and resumes by itself',
  { timeout: 240_000 },
  async (t) => {
    assert.ok(cluster);
    const dir = await tempDir('intake-down');
    const topic = uniqueTopicName('intake-down-out');
    const intake = uniqueTopicName('intake-down');
    await cluster.createTopic(topic, { partitions: 3, replicationFactor: 1 });
    const { apiKey, apiSecret } = credentials();
    const configPath = await writeE2eConfig({
      dir: dir.dir,
      cluster,
      security: 'SCRAM-SHA-256',
      topic,
      apiKey,
      apiSecret,
      intake: {
        topic: intake,
        group_id: `${intake}-group`,
        state_topic: `${intake}-state`,
        dead_letter_topic: `${intake}-dlq`,
        partitions: 3,
      },
    });
    const instance = await spawnForwarder(configPath);
    const loads: LoadGenerator[] = [];
    try {
      const runId = newRunId();
      const load = new LoadGenerator({
        port: instance.port,
        apiKey,
        apiSecret,
        runId,
        users: 10,
        concurrency: 2,
        eventsPerBatch: 2,
        pauseMs: 20,
      }).start();
      loads.push(load);
      await sleep(2_000);
      const before = load.statusCounts;
      await cluster.stopBroker(1);
      // Requests whose transaction committed before the broker went are answered 202 just after.
      await sleep(1_500);
      const down = load.statusCounts;
      await sleep(7_000);
      const stillDown = load.statusCounts;
      const probe = await fetch(`http://127.0.0.1:${instance.port}/v2/events`, {
        method: 'POST',
        headers: { authorization: basicAuth(apiKey, apiSecret), 'content-type': 'application/json' },
        body: JSON.stringify(buildBatch({ mpid: '77', runId: 'probe', seqs: [1] })),
      });
      const ready = await fetch(`http://127.0.0.1:${instance.adminPort}/readyz`);
      await cluster.startBroker(1);
      await cluster.waitUntilReady(90_000);
      await waitUntil(
        'ingest to accept again',
        () => (load.statusCounts['202'] ?? 0) > (stillDown['202'] ?? 0) + 20,
        60_000,
      );
      const result = await load.stop();
      t.diagnostic(
        `answers before ${JSON.stringify(before)}, at the outage ${JSON.stringify(down)}, 8 s into it ${JSON.stringify(stillDown)}, at the end ${JSON.stringify(result.statusCounts)}`,
      );
      assert.ok((before['202'] ?? 0) > 0, 'accepted before the outage');
      assert.equal(stillDown['202'], down['202'], 'no 202 while the intake cluster is down');
      assert.ok((stillDown['503'] ?? 0) > (down['503'] ?? 0), 'answered 503 meanwhile');
      assert.equal(probe.status, 503);
      assert.ok(Number(probe.headers.get('retry-after')) > 0, 'with Retry-After');
      assert.equal(((await probe.json()) as { errors: { reason: string }[] }).errors[0].reason, 'SPOOL_UNAVAILABLE');
      assert.equal(ready.status, 503, '/readyz says not ready while the intake cannot be written');
      const report = await verifyDelivery(cluster, { topic, runId, accepted: result.accepted, timeoutMs: 120_000 });
      t.diagnostic(describeReport('intake down', result.acceptedEvents, report));
      assert.deepEqual(report.missing, [], 'every accepted event arrived');
    } finally {
      // A failed check must not leave the load running (it would keep the test process alive).
      await Promise.all(loads.map((running) => running.stop()));
      await killForwarder(instance);
      await dir.remove();
    }
  },
);
