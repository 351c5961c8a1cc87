// npm run bench:cluster [-- --events N] [--counts 1,2,3] [--rate EVENTS_PER_S] [--profile DIR]
//
// Cluster mode against a private 3-broker Kafka on 127.0.0.1 (replication 3, min.insync.replicas
// 2), SASL_SSL with SCRAM-SHA-512, per-event forwarding (Send as Batch off), 300-byte events:
//  - the local spool, one process, as the reference;
//  - spool.kind kafka with 1, 2 and 3 instances behind a round-robin balancer (the load generator
//    takes the instances in turn), sharing a 12-partition intake.
// Each runs two phases on the same processes:
//  - saturated: 16 clients as fast as the forwarder answers; events/s accepted (until the last
//    202) and delivered (until Kafka acknowledged the last record), p99 ingest-to-ack (all
//    instances' histograms merged), CPU-seconds per million events (user + system of the
//    forwarder processes, from /proc), and how the partitions and the forwarding spread;
//  - paced: the same offered rate for every instance count (--rate, below what three instances
//    take on this machine), and its CPU-seconds per million events. On a 2-core machine more
//    instances cannot add throughput, and saturated processes slow each other down (they share
//    the cores with the brokers), so the paced figure is the one that shows whether the cost per
//    event stays flat as instances are added.
// Broker CPU-seconds per million events are reported beside the forwarder's (cluster mode writes each
// batch to Kafka twice: to the intake, then to the output).
// --profile DIR writes a V8 CPU profile of every forwarder process there (per run).
// Bounded by counts and time limits; figures go to stdout.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startKafkaCluster, type KafkaCluster } from '../tools/kafka/cluster.ts';
import { spawnForwarder, type ForwarderChild } from '../test/e2e/support/child.ts';
import { OUTPUT_NAME, writeE2eConfig } from '../test/e2e/support/config.ts';
import { LoadGenerator } from '../test/e2e/support/load.ts';
import { histogramQuantile, httpGet, metricValue } from '../test/e2e/support/metrics.ts';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags.ts';
import { cpuSeconds } from './lib/process-stats.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '30000' },
    counts: { type: 'string', default: '1,2,3' },
    padding: { type: 'string', default: '300' },
    rate: { type: 'string', default: '1000' },
    'paced-events': { type: 'string', default: '15000' },
    profile: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const COUNTS = args.counts.split(',').map(Number);
const PADDING = Number(args.padding);
const RATE = Number(args.rate);
const PACED_EVENTS = Number(args['paced-events']);
const INTAKE_PARTITIONS = 12;
const PHASE_TIMEOUT_MS = 180_000;

const work = await mkdtemp(path.join(os.tmpdir(), 'kf-bench-cluster-'));
let cluster: KafkaCluster | undefined;
const children: ForwarderChild[] = [];
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  cluster?.signalAllSync('SIGKILL');
});

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function metricsOf(instances: readonly ForwarderChild[]): Promise<string[]> {
  return Promise.all(instances.map(async (child) => (await httpGet(child.adminPort, '/metrics')).body));
}

interface Result {
  readonly label: string;
  readonly accepted: number;
  readonly acceptSeconds: number;
  readonly deliverSeconds: number;
  readonly p99Ms: number | undefined;
  readonly cpuPerMillion: number;
  readonly pacedCpuPerMillion: number;
  /** CPU-seconds of the three brokers per million events, saturated and paced. */
  readonly brokerCpuPerMillion: number;
  readonly pacedBrokerCpuPerMillion: number;
  readonly spread: string;
}

interface Phase {
  readonly accepted: number;
  readonly statusCounts: Record<string, number>;
  readonly acceptSeconds: number;
  readonly deliverSeconds: number;
  readonly cpuPerMillion: number;
  readonly brokerCpuPerMillion: number;
  readonly texts: string[];
}

/** Runs one load phase over the instances and waits until Kafka acknowledged everything accepted. */
async function phase(
  instances: readonly ForwarderChild[],
  auth: { apiKey: string; apiSecret: string; runId: string },
  options: { events: number; concurrency: number; eventsPerSecond?: number },
): Promise<Phase> {
  const producedOf = (texts: string[]): number =>
    texts.reduce(
      (sum, text) => sum + (metricValue(text, 'kafka_forwarder_records_produced_total', { output: OUTPUT_NAME }) ?? 0),
      0,
    );
  const producedBefore = producedOf(await metricsOf(instances));
  const cpuBefore = instances.map((child) => cpuSeconds(child.pid));
  // The brokers' CPU too: cluster mode writes each batch twice (intake, then output), and the
  // intake's transactions, state topic and commits are work on the brokers, not on the forwarder.
  const brokerPids = cluster?.javaPids() ?? [];
  const brokerCpuBefore = brokerPids.map((pid) => cpuSeconds(pid));
  const started = performance.now();
  const load = new LoadGenerator({
    port: instances[0].port,
    ports: instances.map((child) => child.port),
    ...auth,
    users: 2_000,
    concurrency: options.concurrency,
    eventsPerBatch: 10,
    paddingBytes: PADDING,
    maxEvents: options.events,
    ...(options.eventsPerSecond !== undefined && { eventsPerSecond: options.eventsPerSecond }),
  }).start();
  const result = await load.finished();
  const acceptSeconds = (performance.now() - started) / 1000;
  let texts: string[] = [];
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  for (;;) {
    texts = await metricsOf(instances);
    if (producedOf(texts) - producedBefore >= result.acceptedEvents || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const deliverSeconds = (performance.now() - started) / 1000;
  const cpu = instances.reduce((sum, child, i) => sum + cpuSeconds(child.pid) - cpuBefore[i], 0);
  const brokerCpu = brokerPids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - brokerCpuBefore[i], 0);
  return {
    accepted: result.acceptedEvents,
    statusCounts: result.statusCounts,
    acceptSeconds,
    deliverSeconds,
    cpuPerMillion: (cpu / Math.max(1, result.acceptedEvents)) * 1_000_000,
    brokerCpuPerMillion: (brokerCpu / Math.max(1, result.acceptedEvents)) * 1_000_000,
    texts,
  };
}

async function run(kind: 'local' | 'kafka', count: number): Promise<Result> {
  if (cluster === undefined) throw new Error('no cluster');
  const label = kind === 'local' ? 'local spool, 1 process' : `kafka spool, ${count} instance(s)`;
  const name = kind === 'local' ? 'local' : `kafka${count}`;
  const dir = await mkdtemp(path.join(work, `${name}-`));
  const topic = `bench-cluster-${name}`;
  await cluster.createTopic(topic, { partitions: 6, replicationFactor: 3 });
  const apiKey = `bench-${name}`;
  const apiSecret = `secret-${Math.random().toString(36).slice(2)}`;
  const intake = `bench-intake-${name}`;
  const configPath = await writeE2eConfig({
    dir,
    cluster,
    security: 'SCRAM-SHA-512',
    topic,
    apiKey,
    apiSecret,
    sendAsBatch: false,
    logLevel: 'warn',
    output: { retry_backoff_max_ms: 1000 },
    ...(kind === 'kafka' && {
      intake: {
        topic: intake,
        group_id: `${intake}-group`,
        state_topic: `${intake}-state`,
        dead_letter_topic: `${intake}-dlq`,
        partitions: INTAKE_PARTITIONS,
      },
    }),
  });
  const instances: ForwarderChild[] = [];
  for (let i = 0; i < count; i++) {
    const profile = args.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(args.profile, name)}`];
    const child = await spawnForwarder(configPath, { nodeArgs: [...SERVER_NODE_FLAGS, ...profile] });
    children.push(child);
    instances.push(child);
  }
  if (kind === 'kafka') {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const texts = await metricsOf(instances);
      const owned = texts.map((text) => metricValue(text, 'kafka_forwarder_intake_assigned_partitions') ?? 0);
      if (owned.every((n) => n > 0) && owned.reduce((a, b) => a + b, 0) === INTAKE_PARTITIONS) break;
      if (Date.now() > deadline) throw new Error(`the partitions were not shared: ${owned.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const auth = { apiKey, apiSecret, runId: name };
  const saturated = await phase(instances, auth, { events: EVENTS, concurrency: 16 });
  const { texts, acceptSeconds, deliverSeconds } = saturated;
  const paced = await phase(
    instances,
    { ...auth, runId: `${name}-paced` },
    {
      events: PACED_EVENTS,
      concurrency: 8,
      eventsPerSecond: RATE,
    },
  );
  const p99 = histogramQuantile(texts.join('\n'), 'kafka_forwarder_ingest_to_ack_seconds', 0.99, {
    output: OUTPUT_NAME,
  });
  const spread = texts
    .map((text) => {
      const partitions = kind === 'kafka' ? metricValue(text, 'kafka_forwarder_intake_assigned_partitions') : undefined;
      const records = metricValue(text, 'kafka_forwarder_records_produced_total', { output: OUTPUT_NAME }) ?? 0;
      return `${partitions === undefined ? '' : `${partitions} partitions, `}${records} events`;
    })
    .join(' | ');
  for (const child of instances) child.kill('SIGTERM');
  await Promise.all(instances.map((child) => child.exited));
  const line: Result = {
    label,
    accepted: saturated.accepted,
    acceptSeconds,
    deliverSeconds,
    p99Ms: p99 === undefined ? undefined : p99 * 1000,
    cpuPerMillion: saturated.cpuPerMillion,
    pacedCpuPerMillion: paced.cpuPerMillion,
    brokerCpuPerMillion: saturated.brokerCpuPerMillion,
    pacedBrokerCpuPerMillion: paced.brokerCpuPerMillion,
    spread,
  };
  log(
    `${label}: ${line.accepted} events (${JSON.stringify(saturated.statusCounts)}); ` +
      `accepted ${(line.accepted / acceptSeconds).toFixed(0)} events/s, delivered ${(line.accepted / deliverSeconds).toFixed(0)} events/s; ` +
      `ingest-to-ack p99 ${line.p99Ms === undefined ? 'n/a' : `${line.p99Ms.toFixed(0)} ms`}; ` +
      `forwarder ${line.cpuPerMillion.toFixed(0)} and brokers ${line.brokerCpuPerMillion.toFixed(0)} CPU-s per million events; per instance: ${spread}; ` +
      `paced at ${RATE} events/s: ${paced.accepted} events (${JSON.stringify(paced.statusCounts)}), forwarder ${line.pacedCpuPerMillion.toFixed(0)} and brokers ${line.pacedBrokerCpuPerMillion.toFixed(0)} CPU-s per million events`,
  );
  return line;
}

try {
  log(
    `bench:cluster: ${EVENTS} events per run saturated (16 clients) and ${PACED_EVENTS} paced at ${RATE} events/s (8 clients); ` +
      `10 per batch, ${PADDING}-byte padding, 2,000 users`,
  );
  log('starting a 3-broker Kafka cluster…');
  cluster = await startKafkaCluster({ brokers: 3, dir: path.join(work, 'kafka') });
  await cluster.waitUntilReady();
  const results = [await run('local', 1)];
  for (const count of COUNTS) results.push(await run('kafka', count));
  const reference = results[0];
  log('');
  log('relative to the local spool (same run, same cluster):');
  for (const result of results.slice(1)) {
    log(
      `  ${result.label}: delivered ${((result.accepted / result.deliverSeconds / (reference.accepted / reference.deliverSeconds)) * 100).toFixed(0)}% of the local rate; ` +
        `forwarder CPU per event ×${(result.cpuPerMillion / reference.cpuPerMillion).toFixed(2)} saturated, ` +
        `×${(result.pacedCpuPerMillion / reference.pacedCpuPerMillion).toFixed(2)} paced; ` +
        `broker CPU per event ×${(result.brokerCpuPerMillion / reference.brokerCpuPerMillion).toFixed(2)} saturated, ` +
        `×${(result.pacedBrokerCpuPerMillion / reference.pacedBrokerCpuPerMillion).toFixed(2)} paced (the intake is a second write)`,
    );
  }
} finally {
  for (const child of children) child.kill('SIGKILL');
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
}
