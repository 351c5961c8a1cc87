// A real forwarder (src/main.ts) wired to the test Kafka cluster, in this process or as a child
// process (so fault tests can kill -9 it). The configuration goes through the project's own
// loader (buildConfig), as a kafka-forwarder.yaml would.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildConfig } from '../../src/config/index.ts';
import { startForwarder, type Forwarder } from '../../src/main.ts';
import type { Spool } from '../../src/spool/index.ts';
import { silentLogger, type Logger } from '../../src/telemetry/logger.ts';
import type { JsonObject } from '../../src/format/json-value.ts';
import { parseJson } from '../../src/format/lossless-json.ts';
import { startServe } from './serve-process.ts';
import { tempDirSync } from './temp-dir.ts';
import { readRecords, securitySettings, uniqueTopicName, type KafkaCluster, type TestSecurity } from './kafka.ts';
import { basicAuth as basicAuthOf } from './auth.ts';

export const API_KEY = 'kafka-e2e-key';
export const API_SECRET = 'kafka-e2e-secret';
export const INPUT = 'app';
export const OUTPUT = 'kafka';
export const CONNECTION = 'app-to-kafka';

export interface KafkaForwarderSetup {
  readonly cluster: KafkaCluster;
  readonly topic: string;
  /** How the output connects (default SCRAM-SHA-256 over SASL_SSL). */
  readonly security?: TestSecurity;
  /** snake_case connection settings (e.g. { send_as_batch: false }). */
  readonly settings?: Record<string, unknown>;
  /** snake_case output overrides (e.g. { password: 'wrong' }). */
  readonly output?: Record<string, unknown>;
  readonly server?: Record<string, unknown>;
  /** Reuse a spool (restart tests); a fresh temp dir otherwise. */
  readonly spoolDir?: string;
  /**
   * Cluster mode (spool.kind: kafka) on the same cluster and listener as the output: instances
   * given the same intake share its topics and consumer group. Local spool when absent.
   */
  readonly intake?: TestIntake;
  readonly logLevel?: string;
  /** More connections from the input to the same output, beside CONNECTION. */
  readonly extraConnections?: readonly { readonly name: string; readonly settings: Record<string, unknown> }[];
}

export interface TestIntake {
  /** Prefix of the intake, state and dead-letter topic names and of the group id. */
  readonly name: string;
  readonly partitions?: number;
  /** snake_case overrides of spool.kafka. */
  readonly settings?: Record<string, unknown>;
}

/** A fresh intake for one test: its own topics and consumer group. */
export function testIntake(partitions = 6, settings?: Record<string, unknown>): TestIntake {
  return { name: uniqueTopicName('intake'), partitions, ...(settings !== undefined && { settings }) };
}

/** spool.kafka for a test intake: the output's listener and credentials, the cluster's replication. */
export function rawIntake(cluster: KafkaCluster, intake: TestIntake, security: TestSecurity): Record<string, unknown> {
  const { name: _name, topic: _topic, linger_ms: _linger, ...connection } = rawOutput(cluster, 'unused', security);
  return {
    ...connection,
    topic: intake.name,
    state_topic: `${intake.name}-state`,
    dead_letter_topic: `${intake.name}-dead-letters`,
    group_id: `${intake.name}-group`,
    partitions: intake.partitions ?? 6,
    replication_factor: cluster.brokers.length >= 3 ? 3 : 1,
    ...intake.settings,
  };
}

/** The snake_case output settings for a test-cluster listener. */
export function rawOutput(cluster: KafkaCluster, topic: string, security: TestSecurity): Record<string, unknown> {
  const settings = securitySettings(cluster, security);
  return {
    name: OUTPUT,
    bootstrap_servers: settings.bootstrapServers.join(','),
    topic,
    ...(settings.username !== undefined && {
      authentication_method: settings.mechanism,
      username: settings.username,
      password: settings.password,
    }),
    ca_pem: settings.caPem,
    ...(settings.clientCertPem !== undefined && {
      client_cert_pem: settings.clientCertPem,
      client_key_pem: settings.clientKeyPem,
    }),
    // Quick recovery in tests; the defaults (100 ms → 30 s) suit production.
    retry_backoff_min_ms: 50,
    retry_backoff_max_ms: 1000,
    linger_ms: 2,
  };
}

/** The configuration document (snake_case, as in kafka-forwarder.yaml) for one input → one output. */
export function rawForwarderConfig(setup: KafkaForwarderSetup & { spoolDir: string }): Record<string, unknown> {
  return {
    log_level: setup.logLevel ?? 'silent',
    server: { host: '127.0.0.1', port: 0, shutdown_timeout_ms: 10_000, ...setup.server },
    admin: { host: '127.0.0.1', port: 0 },
    spool:
      setup.intake === undefined
        ? { path: setup.spoolDir }
        : {
            kind: 'kafka',
            kafka: rawIntake(setup.cluster, setup.intake, setup.security ?? 'SCRAM-SHA-256'),
          },
    inputs: [{ name: INPUT, credentials: [{ api_key: API_KEY, api_secret: API_SECRET }] }],
    outputs: [{ ...rawOutput(setup.cluster, setup.topic, setup.security ?? 'SCRAM-SHA-256'), ...setup.output }],
    connections: [
      { name: CONNECTION, input: INPUT, output: OUTPUT, settings: { ...setup.settings } },
      ...(setup.extraConnections ?? []).map(({ name, settings }) => ({ name, input: INPUT, output: OUTPUT, settings })),
    ],
  };
}

export interface KafkaTestForwarder {
  readonly forwarder: Forwarder;
  readonly url: string;
  /** The admin listener: /metrics, /healthz, /readyz. */
  readonly adminUrl: string;
  readonly spoolDir: string;
  close(): Promise<void>;
}

/** The forwarder's local spool, for tests that look inside it (spool.kind: local). */
export function localSpool(forwarder: Forwarder): Spool {
  if (forwarder.spool === undefined) throw new Error('the forwarder runs no local spool (spool.kind is kafka)');
  return forwarder.spool;
}

/** Batches the forwarder holds for the connection, not yet acknowledged, whichever the spool kind. */
export function backlogOf(forwarder: Forwarder, connection = CONNECTION): number {
  const stats = forwarder.spool?.stats() ?? forwarder.intake?.stats();
  return stats?.backlog[connection] ?? 0;
}

/** The forwarder's dead letters, whichever the spool kind (the local spool's table, or the dead-letter topic). */
export function deadLettersOf(forwarder: Forwarder): Pick<Spool, 'listDeadLetters' | 'showDeadLetter'> {
  const store = forwarder.spool ?? forwarder.intake;
  if (store === undefined) throw new Error('the forwarder has no spool');
  return store;
}

/** The spool kinds the shared suites run with: every suite that claims pipeline behaviour runs on both. */
export const SPOOL_KINDS = ['local', 'kafka'] as const;
export type SpoolKind = (typeof SPOOL_KINDS)[number];

/** The setup's intake for a spool kind: none for the local spool, a fresh one for the Kafka spool. */
export function intakeFor(kind: SpoolKind, partitions = 3): TestIntake | undefined {
  return kind === 'kafka' ? testIntake(partitions) : undefined;
}

/**
 * A wall clock a test moves on by hand: batching windows and sessions close when it says so
 * (within a second: the forwarder looks at its clock at least that often), not after real waits.
 */
export class ControlledClock {
  #now: number;

  constructor(start = Date.now()) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  advance(ms: number): void {
    this.#now += ms;
  }
}

/** Starts a forwarder in this process. */
export async function startKafkaTestForwarder(
  setup: KafkaForwarderSetup,
  options: { logger?: Logger; clock?: () => number } = {},
): Promise<KafkaTestForwarder> {
  const spoolDir = setup.spoolDir ?? tempDirSync('spool').dir;
  const config = await buildConfig(rawForwarderConfig({ ...setup, spoolDir }), { source: 'test' });
  const forwarder = await startForwarder(config, {
    logger: options.logger ?? silentLogger(),
    ...(options.clock !== undefined && { clock: options.clock }),
  });
  return {
    forwarder,
    url: `http://127.0.0.1:${forwarder.address.port}`,
    adminUrl: `http://127.0.0.1:${forwarder.adminAddress.port}`,
    spoolDir,
    close: () => forwarder.close(),
  };
}

export interface ForwarderProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  /** The admin listener: /metrics, /healthz, /readyz. */
  readonly adminUrl: string;
  readonly spoolDir: string;
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** Everything it wrote so far. */
  output(): string;
  /** SIGTERM (graceful close) and wait for the exit. */
  stop(): Promise<number | NodeJS.Signals | null>;
  /** SIGKILL (kill -9) and wait for the exit. */
  kill(): Promise<number | NodeJS.Signals | null>;
}

/**
 * Starts the real `kafka-forwarder serve` (test/support/serve-process.ts) on this setup's config and
 * waits until it is ready. Its output is kept in memory (ForwarderProcess.output()).
 */
export async function startForwarderProcess(setup: KafkaForwarderSetup): Promise<ForwarderProcess> {
  const spoolDir = setup.spoolDir ?? tempDirSync('spool').dir;
  // JSON is YAML: the CLI reads the document as it is.
  const configPath = `${spoolDir}.config.yaml`;
  writeFileSync(configPath, JSON.stringify(rawForwarderConfig({ logLevel: 'info', ...setup, spoolDir })), {
    mode: 0o600,
  });
  const served = await startServe(configPath, { waitForReady: true });
  const exited = served.exited.then(({ code, signal }) => signal ?? code);
  const signal = (name: NodeJS.Signals) => {
    served.kill(name);
    return exited;
  };
  return {
    child: served.process,
    pid: served.pid,
    url: `http://127.0.0.1:${served.port}`,
    adminUrl: `http://127.0.0.1:${served.adminPort}`,
    spoolDir,
    exited,
    output: () => served.output(),
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
  };
}

/** Basic auth with the test input's credentials unless others are given. */
export function basicAuth(key = API_KEY, secret = API_SECRET): string {
  return basicAuthOf(key, secret);
}

/** POSTs raw JSON text to /v2/events (or /v2/bulkevents) with plain fetch; returns the status. */
export async function postRaw(url: string, body: string, bulk = false): Promise<number> {
  const response = await fetch(`${url}/v2/${bulk ? 'bulkevents' : 'events'}`, {
    method: 'POST',
    headers: { authorization: basicAuth(), 'content-type': 'application/json' },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

/** GET /readyz of the admin listener at `adminUrl`. */
export async function readiness(
  adminUrl: string,
): Promise<{ status: number; body: { status: string; reason?: string; warnings?: string[] } }> {
  const response = await fetch(`${adminUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
}

/** GET /metrics of the admin listener at `adminUrl`. */
export async function metricsText(adminUrl: string): Promise<string> {
  const response = await fetch(`${adminUrl}/metrics`);
  return response.text();
}

/** Polls until check() returns a value other than undefined, or fails after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export interface ConsumedRecord {
  readonly key: string | null;
  /** The record headers, by name. */
  readonly headers: Readonly<Record<string, string>>;
  readonly partition: number;
  readonly offset: bigint;
  /** The record value exactly as Kafka holds it. */
  readonly raw: string;
  /** The value parsed losslessly (64-bit IDs as bigints). */
  readonly value: JsonObject;
}

/** Reads `count` records of the topic from the beginning over PLAINTEXT, parsed losslessly. */
export async function consumeRecords(
  cluster: KafkaCluster,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ConsumedRecord[]> {
  const records = await readRecords(cluster, topic, count, { timeoutMs });
  return records.map((record) => ({
    key: record.key === undefined || record.key === null ? null : String(record.key),
    headers: Object.fromEntries(record.headers),
    partition: record.partition,
    offset: record.offset,
    raw: record.value,
    value: parseJson(record.value) as JsonObject,
  }));
}
