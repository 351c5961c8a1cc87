// Fault: the spool's disk fills up while Kafka is down. The spool lives on a small tmpfs that the
// test mounts itself (tests run as root), and the real `kafka-forwarder serve` runs on it:
//   1. Kafka stopped, load until the disk's reserve (spool.min_free_disk_bytes) is reached: the
//      forwarder answers 429 SPOOL_FULL with Retry-After, never a 503 for a failed write, and
//      readiness says why.
//   2. Kafka back: every accepted event is delivered once, the spool trims itself, and the forwarder
//      answers 202 and is ready again by itself: no restart, nobody frees space.
//   3. Kafka stopped again and the disk filled again: SIGTERM still stops it cleanly (exit 0) within
//      the deadline; after a restart with Kafka back, everything accepted arrives once.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startKafkaCluster, type KafkaCluster } from '../../tools/kafka/cluster.ts';
import { uniqueTopicName } from '../support/kafka.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { writeE2eConfig } from './support/config.ts';
import { basicAuth, LoadGenerator, type LoadResult } from './support/load.ts';
import { httpGet, metricValue } from './support/metrics.ts';
import { credentials, newRunId, sleep, tempDir, waitUntil } from './support/scenario.ts';
import { describeReport, verifyDelivery, type DeliveryReport } from './support/verify.ts';

const FILESYSTEM_BYTES = 48 * 1024 * 1024;
const RESERVE_BYTES = 12 * 1024 * 1024;
const SHUTDOWN_TIMEOUT_MS = 5_000;

let cluster: KafkaCluster | undefined;
let forwarder: ServeProcess | undefined;
let temp: Awaited<ReturnType<typeof tempDir>> | undefined;
let mountPoint: string | undefined;
let mountProblem: string | undefined;

before(async () => {
  temp = await tempDir('disk-full');
  mountPoint = path.join(temp.dir, 'fs');
  mkdirSync(mountPoint);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FILESYSTEM_BYTES}`, 'kf-spool-test', mountPoint], {
      stdio: 'pipe',
    });
  } catch (error) {
    mountProblem = `cannot mount a tmpfs here (needs root): ${(error as Error).message.split('\n')[0]}`;
    mountPoint = undefined;
    return;
  }
  cluster = await startKafkaCluster({ brokers: 1 });
  process.once('exit', () => cluster?.signalAllSync('SIGKILL'));
});

after(async () => {
  forwarder?.kill('SIGKILL');
  await forwarder?.exited;
  await cluster?.stop();
  if (mountPoint !== undefined) execFileSync('umount', ['-l', mountPoint]);
  await temp?.remove();
});

async function readyz(port: number): Promise<{ status: number; reason?: string }> {
  const answer = await httpGet(port, '/readyz');
  return { status: answer.status, reason: (JSON.parse(answer.body) as { reason?: string }).reason };
}

async function spoolRecords(port: number): Promise<number | undefined> {
  return metricValue((await httpGet(port, '/metrics')).body, 'kafka_forwarder_spool_records');
}

/** Load with events of ~2 KB until the forwarder has refused with 429 for a while. */
async function fillDisk(port: number, adminPort: number, auth: { apiKey: string; apiSecret: string }, runId: string) {
  const load = new LoadGenerator({
    port,
    ...auth,
    runId,
    users: 40,
    concurrency: 4,
    eventsPerBatch: 5,
    paddingBytes: 2_000,
    maxEvents: 200_000,
  }).start();
  try {
    await waitUntil('the forwarder refuses for want of disk', () => (load.statusCounts['429'] ?? 0) >= 20, 90_000);
    const refusing = await readyz(adminPort);
    // Keep pushing against the full disk: no write may fail, and nothing more may be taken.
    await sleep(3_000);
    return { load, refusing };
  } catch (error) {
    const result = await load.stop();
    throw new Error(`${(error as Error).message}; answers ${JSON.stringify(result.statusCounts)}`);
  }
}

/** One small batch by plain fetch, to read the answer's status, headers and body. */
function postEmptyBatch(port: number, auth: { apiKey: string; apiSecret: string }): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/v2/events`, {
    method: 'POST',
    headers: { authorization: basicAuth(auth.apiKey, auth.apiSecret), 'content-type': 'application/json' },
    body: JSON.stringify({ environment: 'development', mpid: 1, events: [] }),
  });
}

function assertDelivered(report: DeliveryReport, label: string): void {
  assert.deepEqual(report.missing, [], `${label}: every accepted event arrived`);
  assert.deepEqual(report.duplicates, [], `${label}: no event arrived twice`);
  assert.deepEqual(report.orderViolations, [], `${label}: per-key order held`);
}

test(
  'a full disk refuses with 429 and recovers by itself once Kafka has the batches; SIGTERM while full exits cleanly',
  { timeout: 420_000 },
  async (t) => {
    if (mountProblem !== undefined) {
      t.skip(mountProblem);
      return;
    }
    assert.ok(cluster && temp && mountPoint);
    const kafka = cluster;
    const topic = uniqueTopicName('faults-disk-full');
    await kafka.createTopic(topic, { partitions: 3, replicationFactor: 1 });
    const auth = credentials();
    const configPath = await writeE2eConfig({
      dir: temp.dir,
      cluster: kafka,
      security: 'SCRAM-SHA-256',
      topic,
      ...auth,
      logLevel: 'info',
      shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
      spool: {
        path: path.join(mountPoint, 'spool'),
        max_bytes: 1024 * 1024 * 1024,
        min_free_disk_bytes: RESERVE_BYTES,
      },
    });
    forwarder = await startServe(configPath);
    const port = forwarder.port;
    const adminPort = forwarder.adminPort;
    await waitUntil('the forwarder is ready', async () => (await readyz(adminPort)).status === 200, 30_000);

    // --- 1. Kafka down, the disk fills up to its reserve --------------------------------------
    await kafka.stopBroker(1);
    const runA = newRunId();
    const phaseA = await fillDisk(port, adminPort, auth, runA);
    const resultA: LoadResult = await phaseA.load.stop();
    t.diagnostic(`fill 1: answers ${JSON.stringify(resultA.statusCounts)}; accepted ${resultA.acceptedEvents} events`);
    assert.ok(resultA.acceptedEvents > 0);
    assert.equal(resultA.statusCounts['503'] ?? 0, 0, 'no write failed: the reserve kept the disk from filling');
    assert.deepEqual(phaseA.refusing, {
      status: 503,
      reason: "the spool's disk has less free space than spool.min_free_disk_bytes",
    });
    const refused = await postEmptyBatch(port, auth);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '5');
    const refusal = (await refused.json()) as { errors: { reason: string; message: string }[] };
    assert.equal(refusal.errors[0].reason, 'SPOOL_FULL');
    assert.match(refusal.errors[0].message, /its disk has less than spool\.min_free_disk_bytes/);

    // --- 2. Kafka back: delivered, trimmed, 202 and ready again, with no restart ----------------
    const kafkaBackAt = Date.now();
    await kafka.startBroker(1);
    await kafka.waitUntilReady(90_000);
    await waitUntil(
      'the spool is trimmed and the forwarder is ready again',
      async () => (await spoolRecords(adminPort)) === 0 && (await readyz(adminPort)).status === 200,
      120_000,
    );
    const recoveredInMs = Date.now() - kafkaBackAt;
    const after202 = await postEmptyBatch(port, auth);
    assert.equal(after202.status, 202, 'new batches are accepted again');
    const reportA = await verifyDelivery(kafka, { topic, runId: runA, accepted: resultA.accepted, timeoutMs: 60_000 });
    t.diagnostic(describeReport('after the disk filled', resultA.acceptedEvents, reportA));
    t.diagnostic(`recovered by itself ${(recoveredInMs / 1000).toFixed(1)} s after Kafka was started again`);
    assertDelivered(reportA, 'fill 1');
    assert.doesNotMatch(forwarder.output(), /will be sent again/, 'no acknowledgement was given up on');

    // --- 3. Full again with Kafka down: SIGTERM exits cleanly; a restart delivers the rest --------
    await kafka.stopBroker(1);
    const runB = newRunId();
    const phaseB = await fillDisk(port, adminPort, auth, runB);
    const resultB = await phaseB.load.stop();
    t.diagnostic(`fill 2: answers ${JSON.stringify(resultB.statusCounts)}; accepted ${resultB.acceptedEvents} events`);
    const signalledAt = Date.now();
    forwarder.kill('SIGTERM');
    const exit = await forwarder.exited;
    const stopMs = Date.now() - signalledAt;
    t.diagnostic(`SIGTERM with the disk full: exit ${exit.code ?? exit.signal} after ${stopMs} ms`);
    assert.equal(exit.code, 0, `a clean exit:\n${forwarder.output().slice(-3000)}`);
    assert.ok(stopMs < SHUTDOWN_TIMEOUT_MS + 10_000, `stopped within the deadline (${stopMs} ms)`);

    await kafka.startBroker(1);
    await kafka.waitUntilReady(90_000);
    forwarder = await startServe(configPath);
    const restartedAdminPort = forwarder.adminPort;
    await waitUntil(
      'the restarted forwarder drains the spool',
      async () => (await spoolRecords(restartedAdminPort)) === 0,
      120_000,
    );
    const reportB = await verifyDelivery(kafka, { topic, runId: runB, accepted: resultB.accepted, timeoutMs: 60_000 });
    t.diagnostic(describeReport('after SIGTERM and restart', resultB.acceptedEvents, reportB));
    assertDelivered(reportB, 'fill 2');
    const reportAagain = await verifyDelivery(kafka, {
      topic,
      runId: runA,
      accepted: resultA.accepted,
      timeoutMs: 10_000,
    });
    assert.deepEqual(reportAagain.duplicates, [], 'the restart sent nothing of the first fill again');
  },
);
