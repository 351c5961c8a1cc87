// Fault: the only broker stops for 30 s under load. Every event answered 202 must reach Kafka
// once it returns (zero loss), and the spool's backlog must drain. Runs its own 1-broker cluster,
// since stopping the shared one would break other tests.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startKafkaCluster, type KafkaCluster } from '../../tools/kafka/cluster.ts';
import { uniqueTopicName } from '../support/kafka.ts';
import { killForwarder, spawnForwarder, type ForwarderChild } from './support/child.ts';
import { CONNECTION_NAME, writeE2eConfig } from './support/config.ts';
import { LoadGenerator } from './support/load.ts';
import { waitForMetric } from './support/metrics.ts';
import { credentials, newRunId, sleep, tempDir } from './support/scenario.ts';
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
    const backlog = await waitForMetric(forwarder.port, 'kf_spool_backlog_records', (value) => value === 0, {
      labels: { connection: CONNECTION_NAME },
      timeoutMs: 30_000,
    });
    assert.equal(backlog, 0, 'the spool backlog drains once every record is acknowledged');
  },
);
