// Real Apache Kafka clusters for tests, the demo and `npm run kafka:up`: combined broker+controller
// KRaft nodes started from the jars Maven cached, one JVM per node, each behind a watchdog that
// kills it when its owner process dies. A cluster is described by a JSON file (cluster.json in its
// directory) so that other processes — node --test children, kafka:down — can attach to it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DevKafkaError } from './errors.ts';
import { connectPlaintextForTests } from './client.ts';
import { createAdmin, createProducer, type KafkaAdmin } from '../../src/sinks/kafka/kafka-client.ts';
import {
  LISTENERS,
  renderNodeConfig,
  type ClientListenerName,
  type ClusterUsers,
  type ListenerName,
} from './broker-config.ts';
import { generateTlsMaterial } from './certs.ts';
import { ensureKafkaJars, type ProgressListener } from './jars.ts';
import { KAFKA_VERSION, classPath, log4jConfigPath, registryDir, watchdogPath } from './paths.ts';
import { canConnect, releasePorts, reservePorts } from './ports.ts';
import { isAlive, isOurProcess, signal, terminate, waitForExit } from './processes.ts';

export type { ClientListenerName, ClusterUsers, Credentials, ListenerName } from './broker-config.ts';
export type { ProgressListener } from './jars.ts';

export interface BrokerDescriptor {
  id: number;
  dir: string;
  configPath: string;
  ports: Record<ListenerName, number>;
}

export interface ClusterTlsPaths {
  caPemPath: string;
  untrustedCaPemPath: string;
  clientCertPemPath: string;
  clientKeyPemPath: string;
}

/** The serialised form of a cluster (cluster.json). */
export interface KafkaClusterDescriptor {
  formatVersion: 1;
  kafkaVersion: string;
  clusterId: string;
  dir: string;
  /** Brokers die when this process dies; 0 when the cluster has no owner (kafka:up). */
  ownerPid: number;
  /** The directory is a temporary one that stop() removes. */
  ephemeral: boolean;
  brokers: BrokerDescriptor[];
  tls: ClusterTlsPaths;
  users: ClusterUsers;
}

export interface StartKafkaClusterOptions {
  brokers: 1 | 3;
  /** Where configs, data, logs and certificates go; a fresh temp dir (removed by stop()) when absent. */
  dir?: string;
  onProgress?: ProgressListener;
  /** Brokers are killed when this process dies; default this process, 0 for none. */
  ownerPid?: number;
  /** How long to wait for the cluster to become ready (ms). */
  readyTimeoutMs?: number;
}

export interface CreateTopicOptions {
  partitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

const DESCRIPTOR_FILE = 'cluster.json';

// Small heap, serial GC and C1-only JIT: several brokers share two cores with the tests, and
// what matters is start-up time, not peak throughput.
const BROKER_JVM_OPTIONS = [
  '-Xms128m',
  '-Xmx512m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:-UsePerfData',
  '-Xss512k',
  '-Djava.awt.headless=true',
  '-Dlog4j2.formatMsgNoLookups=true',
];
const TOOL_JVM_OPTIONS = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:-UsePerfData'];

function randomSecret(): string {
  return randomBytes(12).toString('hex');
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, not starting with '-'. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function runJava(args: string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = openSync(logFile, 'a');
    const child = spawn('java', args, { stdio: ['ignore', out, out] });
    closeSync(out);
    child.on('error', (error) =>
      reject(new DevKafkaError('cannot run java (is a JDK 17+ installed?)', { cause: error })),
    );
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new DevKafkaError(`java ${args.at(-1)} exited with ${code}:\n${tail(logFile, 20)}`)),
    );
  });
}

export class KafkaCluster {
  readonly descriptor: KafkaClusterDescriptor;
  readonly descriptorPath: string;

  constructor(descriptor: KafkaClusterDescriptor) {
    this.descriptor = descriptor;
    this.descriptorPath = path.join(descriptor.dir, DESCRIPTOR_FILE);
  }

  get brokers(): readonly BrokerDescriptor[] {
    return this.descriptor.brokers;
  }

  get users(): ClusterUsers {
    return this.descriptor.users;
  }

  get caPemPath(): string {
    return this.descriptor.tls.caPemPath;
  }

  get untrustedCaPemPath(): string {
    return this.descriptor.tls.untrustedCaPemPath;
  }

  get clientCertPemPath(): string {
    return this.descriptor.tls.clientCertPemPath;
  }

  get clientKeyPemPath(): string {
    return this.descriptor.tls.clientKeyPemPath;
  }

  /** host:port of every broker on that listener. */
  bootstrapServers(listener: ClientListenerName, brokerIds?: number[]): string[] {
    return this.descriptor.brokers
      .filter((broker) => brokerIds === undefined || brokerIds.includes(broker.id))
      .map((broker) => `127.0.0.1:${broker.ports[listener]}`);
  }

  /** '127.0.0.1:p1,127.0.0.1:p2' for that listener. */
  bootstrap(listener: ClientListenerName): string {
    return this.bootstrapServers(listener).join(',');
  }

  broker(id: number): BrokerDescriptor {
    const broker = this.descriptor.brokers.find((candidate) => candidate.id === id);
    if (broker === undefined) throw new DevKafkaError(`no broker ${id} in this cluster`);
    return broker;
  }

  /** The broker's Java pid, or undefined when it is not running. */
  brokerPid(id: number): number | undefined {
    const broker = this.broker(id);
    const pid = readPid(path.join(broker.dir, 'broker.pid'));
    return pid !== undefined && isOurProcess(pid, broker.configPath) ? pid : undefined;
  }

  isBrokerRunning(id: number): boolean {
    return this.brokerPid(id) !== undefined;
  }

  /** Java pids of all running brokers. */
  javaPids(): number[] {
    return this.descriptor.brokers.flatMap((broker) => this.brokerPid(broker.id) ?? []);
  }

  /** A plaintext admin client for test tooling; close it when done. */
  admin(): KafkaAdmin {
    return createAdmin(connectPlaintextForTests(this.bootstrapServers('PLAINTEXT', this.runningBrokerIds())), {
      clientId: 'test-cluster-admin',
      retries: 3,
      retryDelayMs: 250,
      requestTimeoutMs: 15000,
      connectTimeoutMs: 3000,
    });
  }

  runningBrokerIds(): number[] {
    return this.descriptor.brokers.filter((broker) => this.isBrokerRunning(broker.id)).map((broker) => broker.id);
  }

  /**
   * Waits until every running broker accepts connections and is registered (unfenced) with the
   * controller. Fails early, with the broker's last log lines, when a broker process has died.
   */
  async waitUntilReady(timeoutMs = 120_000, brokerIds = this.runningBrokerIds()): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const expected = new Set(brokerIds);
    for (const id of expected) {
      const broker = this.broker(id);
      while (!(await canConnect(broker.ports.PLAINTEXT))) {
        this.assertBrokerAlive(id);
        if (Date.now() > deadline) throw this.notReady(id, 'its PLAINTEXT port never opened');
        await sleep(200);
      }
    }
    for (;;) {
      const registered = await this.registeredBrokerIds().catch(() => new Set<number>());
      if ([...expected].every((id) => registered.has(id))) return;
      for (const id of expected) this.assertBrokerAlive(id);
      if (Date.now() > deadline) {
        const missing = [...expected].find((id) => !registered.has(id)) ?? brokerIds[0];
        throw this.notReady(missing, 'it never registered with the controller');
      }
      await sleep(250);
    }
  }

  /**
   * Gets an idempotent producer id once, with retries: right after start the broker answers
   * COORDINATOR_LOAD_IN_PROGRESS until it has a block of producer ids from the controller, and
   * tests should not each have to ride that out.
   */
  async warmUp(timeoutMs = 30_000): Promise<void> {
    const producer = createProducer(
      connectPlaintextForTests(this.bootstrapServers('PLAINTEXT', this.runningBrokerIds())),
      {
        clientId: 'test-cluster-warm-up',
        retries: Math.ceil(timeoutMs / 250),
        retryDelayMs: 250,
      },
    );
    try {
      await producer.initIdempotentProducer({});
    } finally {
      await producer.close(true).catch(() => {});
    }
  }

  /** Broker ids the cluster metadata lists as alive. */
  async registeredBrokerIds(): Promise<Set<number>> {
    const admin = this.admin();
    try {
      const metadata = await admin.metadata({ topics: [], forceUpdate: true });
      return new Set(metadata.brokers.keys());
    } finally {
      await admin.close();
    }
  }

  /** Creates a topic and waits until every partition has a leader. */
  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<void> {
    const partitions = options.partitions ?? 1;
    const replicas = options.replicationFactor ?? (this.descriptor.brokers.length >= 3 ? 3 : 1);
    const admin = this.admin();
    try {
      await admin.createTopics({
        topics: [name],
        partitions,
        replicas,
        configs: Object.entries(options.configs ?? {}).map(([configName, value]) => ({ name: configName, value })),
      });
      const deadline = Date.now() + 30_000;
      for (;;) {
        const metadata = await admin.metadata({ topics: [name], forceUpdate: true }).catch(() => undefined);
        const topic = metadata?.topics.get(name);
        if (
          topic !== undefined &&
          topic.partitionsCount === partitions &&
          topic.partitions.every((p) => p.leader >= 0)
        ) {
          return;
        }
        if (Date.now() > deadline) {
          throw new DevKafkaError(`topic ${name} has no leader for every partition after 30 s`);
        }
        await sleep(100);
      }
    } finally {
      await admin.close();
    }
  }

  /**
   * Deletes the topics that exist of those named (best effort: a test cleaning up after itself on a
   * shared cluster, so that the topics it made do not weigh on the brokers for the files after it).
   */
  async deleteTopics(names: readonly string[]): Promise<void> {
    const admin = this.admin();
    try {
      const existing = new Set(await admin.listTopics());
      const topics = names.filter((name) => existing.has(name));
      if (topics.length > 0) await admin.deleteTopics({ topics });
    } finally {
      await admin.close();
    }
  }

  /** Starts a broker that is not running (after stopBroker/killBroker). Does not wait for readiness. */
  async startBroker(id: number): Promise<void> {
    if (this.isBrokerRunning(id)) return;
    await spawnBroker(this.broker(id), this.descriptor.ownerPid);
  }

  /** Graceful stop (SIGTERM, controlled shutdown), SIGKILL if it takes longer than graceMs. */
  async stopBroker(id: number, graceMs = 30_000): Promise<void> {
    const pid = this.brokerPid(id);
    if (pid !== undefined) await terminate(pid, graceMs);
    await this.waitForWatchdog(id);
  }

  /** Hard crash: SIGKILL, no controlled shutdown. */
  async killBroker(id: number): Promise<void> {
    const pid = this.brokerPid(id);
    if (pid !== undefined) {
      signal(pid, 'SIGKILL');
      await waitForExit(pid, 10_000);
    }
    await this.waitForWatchdog(id);
  }

  /**
   * Freezes the broker (SIGSTOP): it keeps its sockets open but answers nothing, as a broker stuck
   * in a long GC pause or behind a network partition does. resumeBroker (SIGCONT) lets it go on.
   */
  pauseBroker(id: number): void {
    const pid = this.brokerPid(id);
    if (pid === undefined) throw new DevKafkaError(`broker ${id} is not running`);
    signal(pid, 'SIGSTOP');
  }

  resumeBroker(id: number): void {
    const pid = this.brokerPid(id);
    if (pid !== undefined) signal(pid, 'SIGCONT');
  }

  /** Stops the broker if it runs, starts it again and waits until it is registered. */
  async restartBroker(id: number, timeoutMs = 90_000): Promise<void> {
    await this.stopBroker(id);
    await this.startBroker(id);
    await this.waitUntilReady(timeoutMs, [id]);
  }

  /** Stops every broker (in parallel) and forgets the cluster; removes its directory if temporary. */
  async stop(): Promise<void> {
    await Promise.all(this.descriptor.brokers.map((broker) => this.stopBroker(broker.id, 4_000)));
    await rm(registryEntryPath(this.descriptor.clusterId), { force: true });
    if (this.descriptor.ephemeral) await rm(this.descriptor.dir, { recursive: true, force: true });
    releasePorts(this.descriptor.brokers.flatMap((broker) => Object.values(broker.ports)));
  }

  /**
   * Synchronous last-resort cleanup for process 'exit' handlers: SIGTERM to every broker. Their
   * watchdogs escalate to SIGKILL once this (owner) process is gone.
   */
  signalAllSync(name: NodeJS.Signals = 'SIGTERM'): void {
    for (const pid of this.javaPids()) signal(pid, name);
  }

  toJSON(): KafkaClusterDescriptor {
    return this.descriptor;
  }

  private async waitForWatchdog(id: number): Promise<void> {
    const pid = readPid(path.join(this.broker(id).dir, 'watchdog.pid'));
    if (pid !== undefined && isOurProcess(pid, watchdogPath)) await waitForExit(pid, 15_000);
  }

  private assertBrokerAlive(id: number): void {
    if (!this.isBrokerRunning(id)) throw this.notReady(id, 'its process exited');
  }

  private notReady(id: number, why: string): DevKafkaError {
    const broker = this.broker(id);
    // Both logs: a JVM that dies before its logging starts says why only on stdout.
    const serverLog = tail(path.join(broker.dir, 'server.log'), 15);
    const stdoutLog = tail(path.join(broker.dir, 'stdout.log'), 15);
    return new DevKafkaError(
      `broker ${id} is not ready: ${why}. Last lines of server.log:\n${serverLog}\nLast lines of stdout.log:\n${stdoutLog}`,
    );
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function registryEntryPath(clusterId: string): string {
  return path.join(registryDir, `${clusterId}.json`);
}

/** Spawns the watchdog (own process group, detached) that runs the broker JVM; resolves once Java runs. */
async function spawnBroker(broker: BrokerDescriptor, ownerPid: number): Promise<void> {
  const pidFile = path.join(broker.dir, 'broker.pid');
  await rm(pidFile, { force: true });
  const out = openSync(path.join(broker.dir, 'stdout.log'), 'a');
  const javaArgs = [
    ...BROKER_JVM_OPTIONS,
    `-Dkafka.logs.dir=${broker.dir}`,
    `-Dlog4j2.configurationFile=${log4jConfigPath}`,
    '-cp',
    classPath,
    'kafka.Kafka',
    broker.configPath,
  ];
  const child = spawn('bash', [watchdogPath, String(ownerPid), pidFile, '--', 'java', ...javaArgs], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new DevKafkaError(`cannot start broker ${broker.id}`);
  await writeFile(path.join(broker.dir, 'watchdog.pid'), `${child.pid}\n`);
  const deadline = Date.now() + 10_000;
  while (readPid(pidFile) === undefined) {
    if (Date.now() > deadline || !isAlive(child.pid)) {
      throw new DevKafkaError(`the watchdog of broker ${broker.id} did not start Java`);
    }
    await sleep(20);
  }
}

export async function startKafkaCluster(options: StartKafkaClusterOptions): Promise<KafkaCluster> {
  const progress = options.onProgress ?? (() => {});
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  await ensureKafkaJars(progress);

  const ephemeral = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), `kafka-forwarder-kafka${options.brokers}-`)));
  if (!ephemeral) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
  }
  const tlsDir = path.join(dir, 'tls');
  await mkdir(tlsDir, { recursive: true });
  progress(`Generating test certificates in ${tlsDir}…`);
  const tls = await generateTlsMaterial(tlsDir);

  const ids = Array.from({ length: options.brokers }, (_, index) => index + 1);
  const ports = await reservePorts(ids.length * LISTENERS.length, dir);
  const brokers: BrokerDescriptor[] = ids.map((id, index) => {
    const brokerDir = path.join(dir, `broker-${id}`);
    const brokerPorts = Object.fromEntries(
      LISTENERS.map((name, offset) => [name, ports[index * LISTENERS.length + offset]]),
    ) as Record<ListenerName, number>;
    return { id, dir: brokerDir, configPath: path.join(brokerDir, 'server.properties'), ports: brokerPorts };
  });
  const users: ClusterUsers = {
    plain: { username: 'plain_user', password: randomSecret() },
    scramSha256: { username: 'scram256_user', password: randomSecret() },
    scramSha512: { username: 'scram512_user', password: randomSecret() },
  };
  const descriptor: KafkaClusterDescriptor = {
    formatVersion: 1,
    kafkaVersion: KAFKA_VERSION,
    clusterId: newClusterId(),
    dir,
    ownerPid: options.ownerPid ?? process.pid,
    ephemeral,
    brokers,
    tls: {
      caPemPath: tls.caPemPath,
      untrustedCaPemPath: tls.untrustedCaPemPath,
      clientCertPemPath: tls.clientCertPemPath,
      clientKeyPemPath: tls.clientKeyPemPath,
    },
    users,
  };
  const voters = brokers.map((broker) => ({ id: broker.id, port: broker.ports.CONTROLLER }));
  for (const broker of brokers) {
    await mkdir(path.join(broker.dir, 'data'), { recursive: true });
    await writeFile(
      broker.configPath,
      renderNodeConfig({
        nodeId: broker.id,
        clusterSize: brokers.length,
        dataDir: path.join(broker.dir, 'data'),
        ports: broker.ports,
        voters,
        tls,
        users,
      }),
      { mode: 0o600 },
    );
  }

  progress(`Formatting ${brokers.length} KRaft node(s) with SCRAM users… (${elapsed()})`);
  const scramArgs = [
    '--add-scram',
    `SCRAM-SHA-256=[name=${users.scramSha256.username},password=${users.scramSha256.password}]`,
    '--add-scram',
    `SCRAM-SHA-512=[name=${users.scramSha512.username},password=${users.scramSha512.password}]`,
  ];
  await Promise.all(
    brokers.map((broker) =>
      runJava(
        [
          ...TOOL_JVM_OPTIONS,
          `-Dlog4j2.configurationFile=${log4jConfigPath}`,
          `-Dkafka.logs.dir=${broker.dir}`,
          '-cp',
          classPath,
          'kafka.tools.StorageTool',
          'format',
          '--cluster-id',
          descriptor.clusterId,
          '--config',
          broker.configPath,
          ...scramArgs,
        ],
        path.join(broker.dir, 'format.log'),
      ),
    ),
  );

  const cluster = new KafkaCluster(descriptor);
  await writeFile(cluster.descriptorPath, JSON.stringify(descriptor, null, 2) + '\n', { mode: 0o600 });
  await mkdir(registryDir, { recursive: true });
  await writeFile(registryEntryPath(descriptor.clusterId), JSON.stringify({ descriptorPath: cluster.descriptorPath }));

  progress(`Starting ${brokers.length} broker(s)… (${elapsed()})`);
  try {
    for (const broker of brokers) await spawnBroker(broker, descriptor.ownerPid);
    await cluster.waitUntilReady(options.readyTimeoutMs ?? 120_000, ids);
    await cluster.warmUp();
  } catch (error) {
    await cluster.stop().catch(() => {});
    throw error;
  }
  progress(`Kafka cluster of ${brokers.length} broker(s) ready in ${elapsed()}.`);
  return cluster;
}

/** Attaches to a cluster another process started, from its descriptor file. */
export function attachKafkaCluster(descriptorPath: string): KafkaCluster {
  const descriptor = JSON.parse(readFileSync(descriptorPath, 'utf8')) as KafkaClusterDescriptor;
  if (descriptor.formatVersion !== 1) {
    throw new DevKafkaError(`${descriptorPath} is not a cluster descriptor this version reads`);
  }
  return new KafkaCluster(descriptor);
}

/** Descriptor paths of every cluster started from this checkout that has not been stopped. */
export async function listRegisteredClusters(): Promise<string[]> {
  if (!existsSync(registryDir)) return [];
  const entries = await readdir(registryDir);
  const paths: string[] = [];
  for (const entry of entries.filter((name) => name.endsWith('.json'))) {
    try {
      const { descriptorPath } = JSON.parse(await readFile(path.join(registryDir, entry), 'utf8')) as {
        descriptorPath: string;
      };
      if (existsSync(descriptorPath)) paths.push(descriptorPath);
      else await rm(path.join(registryDir, entry), { force: true });
    } catch {
      await rm(path.join(registryDir, entry), { force: true });
    }
  }
  return paths;
}
