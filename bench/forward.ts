// npm run bench:forward [-- --events N] [--memory-events N] [--skip-memory | --memory-only] [--cpu-prof]
//
// End-to-end forwarding throughput, from HTTP request to Kafka acknowledgement, over SASL_SSL
// with SCRAM-SHA-512 and acks=all, against a private 1-broker Kafka on 127.0.0.1:
//  1. per-event mode (Send as Batch off): records/s and MB/s;
//  2. batch mode (Send as Batch on, 1 s window);
//  3. Kafka's own ProducerPerformance, same broker, security, acks and record size: our ratio to it;
//     and the per-event run again at log_level debug: the cost of debug logging;
//  4. half of the per-event rate, paced: p99 ingest-to-ack latency (kafka_forwarder_ingest_to_ack_seconds);
//  5. memory: 10-minute windows holding --memory-events events (default 1,000,000) from 100,000
//     devices; the forwarder's peak RSS (VmHWM).
// The forwarder runs as its own process (the load generator would distort its RSS and CPU
// otherwise). Everything is bounded by counts and time limits. Figures go to stdout.
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startKafkaCluster, type KafkaCluster } from '../tools/kafka/cluster.ts';
import { classPath } from '../tools/kafka/paths.ts';
import { spawnForwarder, type ForwarderChild } from '../test/e2e/support/child.ts';
import { OUTPUT_NAME, writeE2eConfig } from '../test/e2e/support/config.ts';
import { basicAuth, LoadGenerator, postBatch } from '../test/e2e/support/load.ts';
import { histogramQuantile, httpGet, metricValue } from '../test/e2e/support/metrics.ts';
import { mb, peakRss } from './lib/process-stats.ts';
import { runProducerPerformance } from './forward-lib/producer-performance.ts';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '30000' },
    'memory-events': { type: 'string', default: '1000000' },
    'memory-devices': { type: 'string', default: '100000' },
    'skip-memory': { type: 'boolean', default: false },
    'memory-only': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    padding: { type: 'string', default: '300' },
  },
});
const EVENTS = Number(args.events);
const PADDING = Number(args.padding);
const MECHANISM = 'SCRAM-SHA-512';
const PHASE_TIMEOUT_MS = 120_000;

const work = await mkdtemp(path.join(os.tmpdir(), 'kf-bench-forward-'));
let cluster: KafkaCluster | undefined;
const children: ForwarderChild[] = [];
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  cluster?.signalAllSync('SIGKILL');
});

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function metrics(port: number): Promise<string> {
  return (await httpGet(port, '/metrics')).body;
}

interface Phase {
  forwarder: ForwarderChild;
  apiKey: string;
  apiSecret: string;
  topic: string;
}

async function startPhase(
  name: string,
  options: { sendAsBatch: boolean; batchWindowMs: number; spoolMaxBytes?: number; logLevel?: 'info' | 'debug' },
): Promise<Phase> {
  if (cluster === undefined) throw new Error('no cluster');
  const dir = await mkdtemp(path.join(work, `${name}-`));
  const topic = `bench-${name}`;
  await cluster.createTopic(topic, { partitions: 3, configs: { 'max.message.bytes': '1048588' } });
  const apiKey = `bench-${name}`;
  const apiSecret = `secret-${Math.random().toString(36).slice(2)}`;
  const configPath = await writeE2eConfig({
    dir,
    cluster,
    security: MECHANISM,
    topic,
    apiKey,
    apiSecret,
    sendAsBatch: options.sendAsBatch,
    batchWindowMs: options.batchWindowMs,
    // info, the default: what users run. The debug run measures what turning on debug costs.
    logLevel: options.logLevel ?? 'info',
    output: { retry_backoff_max_ms: 1000 },
    ...(options.spoolMaxBytes !== undefined && { spool: { max_bytes: options.spoolMaxBytes } }),
  });
  const nodeArgs = args['cpu-prof']
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${path.join(process.cwd(), 'bench', 'profiles')}`,
        `--cpu-prof-name=forward-${name}.cpuprofile`,
      ]
    : [];
  const forwarder = await spawnForwarder(configPath, { nodeArgs: [...SERVER_NODE_FLAGS, ...nodeArgs] });
  children.push(forwarder);
  return { forwarder, apiKey, apiSecret, topic };
}

async function stopPhase(phase: Phase): Promise<void> {
  phase.forwarder.kill('SIGTERM');
  await phase.forwarder.exited;
}

/** Waits until kafka_forwarder_records_produced_total reaches `records`, or until produced events stop growing for 10 s. */
async function waitProduced(port: number, predicate: (text: string) => boolean, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await metrics(port);
    if (predicate(text) || Date.now() > deadline) return text;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Throughput {
  events: number;
  records: number;
  bytes: number;
  seconds: number;
  recordSize: number;
}

async function throughputRun(
  name: string,
  sendAsBatch: boolean,
  logLevel: 'info' | 'debug' = 'info',
): Promise<Throughput> {
  const phase = await startPhase(name, { sendAsBatch, batchWindowMs: 1_000, logLevel });
  const { port, adminPort } = phase.forwarder;
  const started = performance.now();
  const load = new LoadGenerator({
    port,
    apiKey: phase.apiKey,
    apiSecret: phase.apiSecret,
    runId: name,
    users: 2_000,
    concurrency: 16,
    eventsPerBatch: 10,
    paddingBytes: PADDING,
    maxEvents: EVENTS,
  }).start();
  const result = await load.finished();
  const accepted = result.acceptedEvents;
  const ingestSeconds = (performance.now() - started) / 1000;
  // Per event: one record per event. Batched: every accepted event is in an acknowledged record once
  // the backlog is empty.
  const text = await waitProduced(
    adminPort,
    (body) =>
      sendAsBatch
        ? metricValue(body, 'kafka_forwarder_spool_backlog_records') === 0
        : (metricValue(body, 'kafka_forwarder_records_produced_total', { output: OUTPUT_NAME }) ?? 0) >= accepted,
    PHASE_TIMEOUT_MS,
  );
  const seconds = (performance.now() - started) / 1000;
  const records = metricValue(text, 'kafka_forwarder_records_produced_total', { output: OUTPUT_NAME }) ?? 0;
  const bytes = metricValue(text, 'kafka_forwarder_produced_bytes_total', { output: OUTPUT_NAME }) ?? 0;
  await stopPhase(phase);
  log(
    `${name}: ${accepted} events accepted (${JSON.stringify(result.statusCounts)}) in ${ingestSeconds.toFixed(1)} s; ` +
      `${records} records, ${mb(bytes)} acknowledged after ${seconds.toFixed(1)} s → ` +
      `${(accepted / seconds).toFixed(0)} events/s, ${(records / seconds).toFixed(0)} records/s, ${(bytes / seconds / 1024 / 1024).toFixed(2)} MB/s` +
      (sendAsBatch ? ` (window 1 s; ${(records === 0 ? 0 : accepted / records).toFixed(1)} events/record)` : ''),
  );
  return { events: accepted, records, bytes, seconds, recordSize: records === 0 ? 0 : Math.round(bytes / records) };
}

async function latencyRun(eventsPerSecond: number): Promise<void> {
  const phase = await startPhase('latency', { sendAsBatch: false, batchWindowMs: 1_000 });
  const durationMs = 10_000;
  const load = new LoadGenerator({
    port: phase.forwarder.port,
    apiKey: phase.apiKey,
    apiSecret: phase.apiSecret,
    runId: 'latency',
    users: 2_000,
    concurrency: 16,
    eventsPerBatch: 10,
    paddingBytes: PADDING,
    eventsPerSecond,
    maxEvents: Math.ceil((eventsPerSecond * durationMs) / 1000),
  }).start();
  const result = await load.finished();
  const text = await waitProduced(
    phase.forwarder.adminPort,
    (body) =>
      (metricValue(body, 'kafka_forwarder_records_produced_total', { output: OUTPUT_NAME }) ?? 0) >=
      result.acceptedEvents,
    30_000,
  );
  const labels = { output: OUTPUT_NAME };
  const p50 = histogramQuantile(text, 'kafka_forwarder_ingest_to_ack_seconds', 0.5, labels);
  const p99 = histogramQuantile(text, 'kafka_forwarder_ingest_to_ack_seconds', 0.99, labels);
  const count = metricValue(text, 'kafka_forwarder_ingest_to_ack_seconds_count', labels) ?? 0;
  const within = metricValue(text, 'kafka_forwarder_ingest_to_ack_seconds_bucket', { ...labels, le: '0.25' }) ?? 0;
  const ingestP99 = histogramQuantile(text, 'kafka_forwarder_ingest_request_duration_seconds', 0.99, { status: '202' });
  const produceP99 = histogramQuantile(text, 'kafka_forwarder_produce_latency_seconds', 0.99, labels);
  await stopPhase(phase);
  const ms = (seconds: number | undefined): string =>
    seconds === undefined ? 'n/a' : `${(seconds * 1000).toFixed(0)} ms`;
  log(
    `half load: ${result.acceptedEvents} events at ${eventsPerSecond.toFixed(0)} events/s for ${durationMs / 1000} s; ` +
      `ingest-to-ack p50 ${ms(p50)}, p99 ${ms(p99)} (interpolated in histogram buckets); ` +
      `${((within / Math.max(count, 1)) * 100).toFixed(2)}% of ${count} batches acknowledged within 250 ms; ` +
      `HTTP 202 p99 ${ms(ingestP99)}, produce p99 ${ms(produceP99)}; target p99 ≤ 250 ms: ${p99 !== undefined && p99 <= 0.25 ? 'MET' : 'NOT MET'}`,
  );
}

async function memoryRun(totalEvents: number, devices: number): Promise<void> {
  const phase = await startPhase('memory', { sendAsBatch: true, batchWindowMs: 600_000, spoolMaxBytes: 8 * 1024 ** 3 });
  const { port, adminPort, pid } = phase.forwarder;
  const eventsPerBatch = Math.max(1, Math.round(totalEvents / devices));
  const batchesPerBulk = 50;
  const auth = basicAuth(phase.apiKey, phase.apiSecret);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const started = performance.now();
  let next = 0;
  let sent = 0;
  const statuses: Record<string, number> = {};
  const deadline = Date.now() + 240_000;
  const worker = async (): Promise<void> => {
    while (next < devices && Date.now() < deadline) {
      const first = next;
      next += batchesPerBulk;
      const batches = [];
      for (let device = first; device < Math.min(first + batchesPerBulk, devices); device++) {
        batches.push({
          environment: 'production',
          mpid: 5_000_000 + device,
          mp_deviceid: `00000000-0000-4000-8000-${device.toString(16).padStart(12, '0')}`,
          events: Array.from({ length: eventsPerBatch }, (_, index) => ({
            event_type: 'custom_event',
            data: {
              event_name: 'memory',
              custom_event_type: 'other',
              timestamp_unixtime_ms: Date.now(),
              custom_attributes: { seq: String(index), page: '/products/12345' },
            },
          })),
        });
      }
      const status = await postBatch(port, auth, JSON.stringify(batches), agent, '/v2/bulkevents');
      statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
      if (status === 202) sent += batches.length * eventsPerBatch;
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  agent.destroy();
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const text = await metrics(adminPort);
  const windows = metricValue(text, 'kafka_forwarder_open_windows') ?? 0;
  const spoolBytes = metricValue(text, 'kafka_forwarder_spool_bytes') ?? 0;
  const heap = metricValue(text, 'nodejs_heap_size_used_bytes');
  const peak = peakRss(pid);
  if (sent === 0)
    log(`memory: no batch was accepted (${JSON.stringify(statuses)}); the figures below are not meaningful`);
  await stopPhase(phase);
  log(
    `memory: ${sent} events from ${devices} devices accepted in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(0)} events/s, ` +
      `${JSON.stringify(statuses)}); open windows ${windows}; spool ${mb(spoolBytes)}; heap used ${mb(heap)}; ` +
      `peak RSS (VmHWM) ${mb(peak)}; target ≤ 300 MB: ${peak !== undefined && peak <= 300 * 1024 * 1024 ? 'MET' : 'NOT MET'}`,
  );
}

try {
  log(
    `bench:forward — ${EVENTS} events per throughput run, padding ${PADDING} B/event, SASL_SSL ${MECHANISM}, acks=all, 1 broker on 127.0.0.1, ${os.cpus().length} CPUs`,
  );
  cluster = await startKafkaCluster({ brokers: 1 });
  if (args['memory-only']) await memoryRun(Number(args['memory-events']), Number(args['memory-devices']));
  else await allRuns();
} finally {
  for (const child of children) child.kill('SIGKILL');
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
}

async function allRuns(): Promise<void> {
  if (cluster === undefined) return;
  const perEvent = await throughputRun('per-event', false);
  await throughputRun('batch', true);
  // Debug logging's cost: the same per-event run with log_level debug (a line per produce
  // request, connection and window); at info those lines cost one branch each.
  const debug = await throughputRun('per-event-debug', false, 'debug');
  const debugRatio = debug.records / debug.seconds / (perEvent.records / perEvent.seconds);
  log(`ratio per-event at debug / at info: ${debugRatio.toFixed(2)} (the cost of log_level: debug)`);

  const user = cluster.users.scramSha512;
  await cluster.createTopic('bench-producer-performance', {
    partitions: 3,
    configs: { 'max.message.bytes': '1048588' },
  });
  const pp = await runProducerPerformance({
    classPath,
    topic: 'bench-producer-performance',
    // At least 200,000 records so that the JVM's warm-up does not dominate its figure.
    records: Math.max(perEvent.records, 200_000),
    recordSize: perEvent.recordSize,
    bootstrap: cluster.bootstrap('SASL_SSL'),
    mechanism: MECHANISM,
    username: user.username,
    password: user.password,
    caPemPath: cluster.caPemPath,
    workDir: work,
    timeoutMs: PHASE_TIMEOUT_MS,
  });
  log(`ProducerPerformance (${pp.records} records of ${perEvent.recordSize} B, same broker and security): ${pp.line}`);
  const ours = perEvent.records / perEvent.seconds;
  const ratio = ours / pp.recordsPerSecond;
  log(
    `ratio per-event/ProducerPerformance: ${ratio.toFixed(2)} (${ours.toFixed(0)} / ${pp.recordsPerSecond.toFixed(0)} records/s); target ≥ 0.5: ${ratio >= 0.5 ? 'MET' : 'NOT MET'}`,
  );

  await latencyRun(ours / 2);
  if (!args['skip-memory']) await memoryRun(Number(args['memory-events']), Number(args['memory-devices']));
}
