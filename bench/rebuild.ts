// npm run bench:rebuild [-- --events N] [--events-per-batch N] [--padding BYTES]
//
// How long a new owner takes to take over intake partitions whose batches are all still held in
// open Send as Batch windows (the worst case of a reassignment: nothing committed yet), against a
// private 3-broker Kafka on 127.0.0.1 (replication 3, min.insync.replicas 2, SASL_SSL SCRAM):
//  1. instance A owns the 12-partition intake and takes N events, 10-minute windows, 2,000 users;
//  2. once A holds every batch it is killed (kill -9), so nothing it held was committed;
//  3. instance B starts and is assigned the 12 partitions once A's session has expired; it reads
//     each partition from the committed offset (its start) and rebuilds the windows.
// Prints the time from B's assignment to the last partition caught up (kafka_forwarder_intake_rebuild_seconds),
// the same per million held events, B's CPU-seconds for it, and B's memory once it holds them.
// Bounded by the event count and time limits; figures go to stdout.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startKafkaCluster, type KafkaCluster } from '../tools/kafka/cluster.ts';
import { spawnForwarder, type ForwarderChild } from '../test/e2e/support/child.ts';
import { OUTPUT_NAME, writeE2eConfig } from '../test/e2e/support/config.ts';
import { LoadGenerator } from '../test/e2e/support/load.ts';
import { httpGet, metricValue } from '../test/e2e/support/metrics.ts';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags.ts';
import { cpuSeconds, currentRss, mb } from './lib/process-stats.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    'events-per-batch': { type: 'string', default: '50' },
    padding: { type: 'string', default: '50' },
  },
});
const EVENTS = Number(args.events);
const EVENTS_PER_BATCH = Number(args['events-per-batch']);
const PADDING = Number(args.padding);
const INTAKE_PARTITIONS = 12;
const STEP_TIMEOUT_MS = 600_000;

const work = await mkdtemp(path.join(os.tmpdir(), 'kf-bench-rebuild-'));
let cluster: KafkaCluster | undefined;
const children: ForwarderChild[] = [];
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  cluster?.signalAllSync('SIGKILL');
});

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function metric(child: ForwarderChild, name: string, labels?: Record<string, string>): Promise<number> {
  return metricValue((await httpGet(child.adminPort, '/metrics')).body, name, labels) ?? 0;
}

/** Polls `probe` every 50 ms until it returns true; throws after the step's time limit. */
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

try {
  log(
    `bench:rebuild: ${EVENTS} events in ${EVENTS_PER_BATCH}-event batches (${PADDING}-byte padding), ` +
      `2,000 users, all held in 10-minute windows on a ${INTAKE_PARTITIONS}-partition intake`,
  );
  log('starting a 3-broker Kafka cluster…');
  cluster = await startKafkaCluster({ brokers: 3, dir: path.join(work, 'kafka') });
  await cluster.waitUntilReady();
  const topic = 'bench-rebuild-out';
  await cluster.createTopic(topic, { partitions: 6, replicationFactor: 3 });
  const apiKey = 'bench-rebuild';
  const apiSecret = `secret-${Math.random().toString(36).slice(2)}`;
  const configPath = await writeE2eConfig({
    dir: work,
    cluster,
    security: 'SCRAM-SHA-512',
    topic,
    apiKey,
    apiSecret,
    sendAsBatch: true,
    batchWindowMs: 600_000,
    logLevel: 'warn',
    intake: {
      topic: 'bench-rebuild-intake',
      group_id: 'bench-rebuild-group',
      state_topic: 'bench-rebuild-state',
      dead_letter_topic: 'bench-rebuild-dlq',
      partitions: INTAKE_PARTITIONS,
      max_buffered_bytes: 4 * 1024 ** 3,
    },
  });
  const spawn = async (): Promise<ForwarderChild> => {
    const child = await spawnForwarder(configPath, { nodeArgs: [...SERVER_NODE_FLAGS] });
    children.push(child);
    return child;
  };

  const first = await spawn();
  await until(
    'instance A to own the intake',
    async () => (await metric(first, 'kafka_forwarder_intake_assigned_partitions')) === 12,
  );
  const started = performance.now();
  let lastReport = started;
  const load = new LoadGenerator({
    port: first.port,
    apiKey,
    apiSecret,
    runId: 'rebuild',
    users: 2_000,
    concurrency: 16,
    eventsPerBatch: EVENTS_PER_BATCH,
    paddingBytes: PADDING,
    maxEvents: EVENTS,
  }).start();
  const progress = setInterval(() => {
    if (performance.now() - lastReport < 10_000) return;
    lastReport = performance.now();
    void metric(first, 'kafka_forwarder_events_accepted_total', { input: 'e2e' }).then((accepted) =>
      log(`  … ${accepted} events accepted`),
    );
  }, 1_000);
  const result = await load.finished();
  clearInterval(progress);
  const batches = result.acceptedEvents / EVENTS_PER_BATCH;
  log(
    `instance A accepted ${result.acceptedEvents} events (${JSON.stringify(result.statusCounts)}) in ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  await until(
    'instance A to hold every batch',
    async () => (await metric(first, 'kafka_forwarder_spool_records')) >= batches,
  );
  const produced = await metric(first, 'kafka_forwarder_records_produced_total', { output: OUTPUT_NAME });
  const windowsHeld = await metric(first, 'kafka_forwarder_open_windows', { connection: 'e2e' });
  log(
    `instance A holds ${await metric(first, 'kafka_forwarder_spool_records')} batches in ${windowsHeld} open windows ` +
      `(${produced} records forwarded), resident ${mb(currentRss(first.pid))}; killing it (kill -9)`,
  );
  first.kill('SIGKILL');
  await first.exited;

  const second = await spawn();
  const cpuBefore = cpuSeconds(second.pid);
  await until(
    'instance B to be assigned the intake',
    async () => (await metric(second, 'kafka_forwarder_intake_assigned_partitions')) === 12,
  );
  const assigned = performance.now();
  await until(
    'instance B to rebuild every partition',
    async () => (await metric(second, 'kafka_forwarder_intake_rebuild_seconds_count')) >= INTAKE_PARTITIONS,
  );
  const readSeconds = (performance.now() - assigned) / 1000;
  // The backlog is read; the connections rebuild the windows from it right after.
  await until(
    'instance B to reopen every window',
    async () => (await metric(second, 'kafka_forwarder_open_windows', { connection: 'e2e' })) >= windowsHeld,
  );
  const wallSeconds = (performance.now() - assigned) / 1000;
  const cpu = cpuSeconds(second.pid) - cpuBefore;
  const windows = await metric(second, 'kafka_forwarder_open_windows', { connection: 'e2e' });
  // The spool gauges are published once a second.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const held = await metric(second, 'kafka_forwarder_spool_records');
  const meanPartitionSeconds =
    (await metric(second, 'kafka_forwarder_intake_rebuild_seconds_sum')) /
    (await metric(second, 'kafka_forwarder_intake_rebuild_seconds_count'));
  const perMillion = (wallSeconds / result.acceptedEvents) * 1_000_000;
  log(
    `instance B: backlog of all ${INTAKE_PARTITIONS} partitions read ${readSeconds.toFixed(1)} s after their assignment ` +
      `(mean per partition ${meanPartitionSeconds.toFixed(1)} s), all ${windows} windows open again after ${wallSeconds.toFixed(1)} s ` +
      `(${held} batches held); ` +
      `${cpu.toFixed(1)} CPU-s; resident ${mb(currentRss(second.pid))}`,
  );
  log(`rebuild: ${perMillion.toFixed(1)} s per million held events (${EVENTS_PER_BATCH}-event batches)`);
  if (held < batches) throw new Error(`instance B holds ${held} of ${batches} batches`);
  second.kill('SIGTERM');
  await second.exited;
} finally {
  for (const child of children) child.kill('SIGKILL');
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
}
