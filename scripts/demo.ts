// `npm run demo`: the whole product in one run, on a fresh machine.
//   1. starts a local Kafka (1 broker, KRaft; jars from Maven Central on first use);
//   2. creates a topic and writes a demo config: SASL_SSL with SCRAM-SHA-512, trusting the local CA;
//   3. diagnoses the output (what `kafka-forwarder test-connection` prints) and starts the server;
//   4. sends sessions holding every supported event type through the official mParticle Node SDK;
//   5. consumes the topic and prints each record's key, partition and a summary, and one in full;
//   6. stops everything. Ctrl-C at any point stops the server and Kafka too (no Java left behind).
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prettyJson } from '../src/cli/pretty-json.ts';
import { summarizeRecord } from './lib/record-summary.ts';
import { buildSampleBatches } from '../src/cli/sample-batches.ts';
import { sendBatch } from '../src/cli/send-batches.ts';
import { loadConfig } from '../src/config/index.ts';
import { parseJson } from '../src/format/lossless-json.ts';
import { startForwarder, type Forwarder } from '../src/main.ts';
import { diagnoseKafkaOutput, STAGES } from '../src/sinks/kafka/index.ts';
import {
  connectPlaintextForTests,
  createConsumer,
  MessagesStreamModes,
  type ConsumedMessage,
} from '../tools/kafka/client.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { startKafkaCluster, type KafkaCluster } from '../tools/kafka/cluster.ts';
import { outputSecurity } from '../src/sinks/kafka/config.ts';

const TOPIC = 'mparticle-events';
const PARTITIONS = 3;
const SESSIONS = 3;
const CONSUME_TIMEOUT_MS = 60_000;

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const say = (line = ''): void => void process.stdout.write(`${line}\n`);
const step = (n: number, title: string): void => say(`\n== ${n}/6 ${title} (${elapsed()})`);

let cluster: KafkaCluster | undefined;
let forwarder: Forwarder | undefined;
let workDir: string | undefined;
let stopping: Promise<void> | undefined;

/** Stops the server, then Kafka, then removes the demo directory; safe to call more than once. */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    await forwarder?.close().catch(() => {});
    await cluster?.stop().catch(() => {});
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true }).catch(() => {});
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`\n${signal}: stopping the server and Kafka…`);
    void stopAll().finally(() => process.exit(130));
  });
}
// Last resort if the process ends some other way: the brokers' watchdogs also kill them once we are gone.
process.once('exit', () => cluster?.signalAllSync('SIGKILL'));

async function main(): Promise<number> {
  say('kafka-forwarder demo: mParticle SDK → kafka-forwarder → Kafka (SASL_SSL, SCRAM-SHA-512) → consumer');

  // One directory for everything (Kafka's data and certificates, config, spool), removed at the end.
  workDir = await mkdtemp(path.join(os.tmpdir(), 'kafka-forwarder-demo-'));

  step(1, 'Starting a local Kafka (1 broker)');
  cluster = await startKafkaCluster({
    brokers: 1,
    dir: path.join(workDir, 'kafka'),
    onProgress: (message) => say(`   ${message}`),
  });

  step(2, `Creating topic "${TOPIC}" and writing the demo configuration`);
  await cluster.createTopic(TOPIC, { partitions: PARTITIONS });
  say(`   topic "${TOPIC}": ${PARTITIONS} partitions`);
  const configFile = path.join(workDir, 'kafka-forwarder.yaml');
  const passwordFile = path.join(workDir, 'kafka-password');
  const user = cluster.users.scramSha512;
  await writeFile(passwordFile, user.password, { mode: 0o600 });
  await chmod(passwordFile, 0o600);
  const apiKey = 'demo-api-key';
  const apiSecret = 'demo-api-secret';
  const yaml = `# Written by npm run demo. Secrets stay out of this file: the API secret comes from the
# environment (\${DEMO_API_SECRET}) and the Kafka password from a file (password_file).
log_level: warn
server:
  host: 127.0.0.1
  port: 0 # any free port
admin:
  host: 127.0.0.1
  port: 0 # any free port: /metrics, /healthz, /readyz
spool:
  path: ${path.join(workDir, 'spool')}
  max_bytes: 104857600
inputs:
  - name: demo-app
    credentials:
      - api_key: ${apiKey}
        api_secret: \${DEMO_API_SECRET}
outputs:
  - name: local-kafka
    bootstrap_servers: ${cluster.bootstrap('SASL_SSL')}
    topic: ${TOPIC}
    authentication_method: SCRAM-SHA-512
    username: ${user.username}
    password_file: ${passwordFile}
    ca_file: ${cluster.caPemPath} # the local test CA that signed the broker certificate
connections:
  - name: demo-app-to-kafka
    input: demo-app
    output: local-kafka
    settings:
      # Send as Batch off: one record per event, forwarded at once (on: one record per device
      # every batch_window_ms, roughly 10 minutes at mParticle).
      send_as_batch: false
      # Off by default at mParticle; on here so that every supported event type reaches Kafka.
      include_user_attribute_change_events: true
      include_user_identity_change_events: true
`;
  await writeFile(configFile, yaml);
  say(`   ${configFile}:`);
  for (const line of yaml.trimEnd().split('\n')) say(`     ${line}`);
  const config = await loadConfig({ path: configFile, env: { ...process.env, DEMO_API_SECRET: apiSecret } });

  step(3, 'Checking the connection (kafka-forwarder test-connection) and starting the server');
  const output = config.outputs[0];
  const diagnosis = await diagnoseKafkaOutput({
    security: outputSecurity(output),
    topic: output.topic,
    maxMessageBytes: output.maxMessageBytes,
    onStage: (result) => {
      const index = STAGES.findIndex((stage) => stage.name === result.stage);
      say(
        `   [${index + 1}/6] ${STAGES[index].label.padEnd(8)} ${result.status.toUpperCase().padEnd(4)}  ${result.summary}`,
      );
      if (result.fix !== undefined) say(`                          fix: ${result.fix}`);
    },
  });
  if (!diagnosis.ok) {
    say('   The connection check failed; see above.');
    return 1;
  }
  forwarder = await startForwarder(config, { logger: createLogger({ level: 'warn' }) });
  const url = `http://127.0.0.1:${forwarder.address.port}`;
  say(`   server listening on ${url} (POST /v2/events, /v2/bulkevents)`);
  say(`   admin listener on http://127.0.0.1:${forwarder.adminAddress.port} (GET /metrics, /healthz, /readyz)`);

  step(4, `Sending ${SESSIONS} sessions with the official mParticle Node SDK`);
  const samples = buildSampleBatches(SESSIONS);
  let expected = 0;
  for (const [index, sample] of samples.entries()) {
    const result = await sendBatch({ url, apiKey, apiSecret }, sample);
    say(
      `   session ${index + 1}: mpid ${sample.mpid}, ${sample.eventTypes.length} events → HTTP ${result.status ?? 'no answer'}` +
        (result.error !== undefined ? ` ${result.error}` : ''),
    );
    if (result.status !== 202) return 1;
    expected += sample.eventTypes.length;
  }
  say(`   event types in each session: ${samples[0].eventTypes.join(', ')}`);

  step(5, `Consuming "${TOPIC}" (expecting ${expected} records, one per event)`);
  const records = await consume(cluster, expected);
  say(`   ${'key'.padEnd(18)} part  summary`);
  for (const record of records) {
    say(
      `   ${String(record.key).padEnd(18)} ${String(record.partition).padEnd(4)}  ${summarizeRecord(parseJson(record.value))}`,
    );
  }
  const partitions = new Set(records.map((record) => record.partition));
  say(
    `   ${records.length} records on ${partitions.size} partition(s); each user's records share a partition (key = MPID).`,
  );
  const showcase = records.find((record) => record.value.includes('"commerce_event"')) ?? records[0];
  if (showcase !== undefined) {
    say(`\n   One record in full (partition ${showcase.partition}, offset ${showcase.offset}):`);
    for (const line of prettyJson(parseJson(showcase.value)).split('\n')) say(`     ${line}`);
  }
  if (records.length < expected) {
    say(`   Only ${records.length} of ${expected} records arrived within ${CONSUME_TIMEOUT_MS / 1000} s.`);
    return 1;
  }

  step(6, 'Stopping the server and Kafka');
  await stopAll();
  say(`   done in ${elapsed()}. Next: README.md, "Quick start against your own cluster".`);
  return 0;
}

/** Reads the topic from the beginning over the PLAINTEXT listener until `count` records arrived. */
async function consume(kafka: KafkaCluster, count: number): Promise<ConsumedMessage[]> {
  const consumer = createConsumer(connectPlaintextForTests(kafka.bootstrapServers('PLAINTEXT')), {
    groupId: `demo-reader-${Date.now()}`,
    clientId: 'demo-reader',
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
  });
  const records: ConsumedMessage[] = [];
  try {
    const stream = await consumer.consume({
      topics: [TOPIC],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
      maxWaitTime: 200,
    });
    const timer = setTimeout(() => void stream.close().catch(() => {}), CONSUME_TIMEOUT_MS);
    try {
      for await (const message of stream) {
        records.push(message);
        if (records.length >= count) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => {});
    }
  } finally {
    await consumer.close(true).catch(() => {});
  }
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
}

let code = 1;
try {
  code = await main();
} catch (error) {
  say(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await stopAll();
}
process.exit(code);
