// A staged diagnosis of one Kafka output, for `kafka-forwarder test-connection`: each stage tests
// one layer (DNS, TCP, TLS, SASL, metadata, topic) and says what it found, so that the first
// failing stage names the layer at fault and the fix. Stages run in order and stop at the first
// failure, because every later layer depends on the earlier ones.
//
// TLS is probed with node:tls directly, not through the Kafka client, so that the peer certificate
// (subject, names, issuer, chain) can be shown when verification fails; the trust settings are
// the ones the Kafka client uses (from kafkaConnection), so both judge a certificate alike.
// Nothing here prints a secret: passwords and private keys are only handed to the TLS stack and
// the Kafka client.
import { lookup } from 'node:dns/promises';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { classifyKafkaError, type KafkaErrorClassification } from './error-table.ts';
import {
  createAdmin,
  createProducer,
  kafkaConnection,
  lastConnectionError,
  type ClusterMetadata,
  type KafkaSecuritySettings,
} from './kafka-client.ts';

export type StageName = 'dns' | 'tcp' | 'tls' | 'sasl' | 'metadata' | 'topic';
export type StageStatus = 'pass' | 'warn' | 'fail' | 'skip';

export const STAGES: readonly { name: StageName; label: string }[] = [
  { name: 'dns', label: 'DNS' },
  { name: 'tcp', label: 'TCP' },
  { name: 'tls', label: 'TLS' },
  { name: 'sasl', label: 'SASL' },
  { name: 'metadata', label: 'Metadata' },
  { name: 'topic', label: 'Topic' },
];

export interface StageResult {
  stage: StageName;
  status: StageStatus;
  /** One line: what was found. */
  summary: string;
  /** Further facts, one per line (per broker, per partition…). */
  details: string[];
  /** What to change, when the stage failed or warned. */
  fix?: string;
}

export interface DiagnoseOptions {
  /** The output's connection settings, bootstrap servers included. */
  security: KafkaSecuritySettings;
  topic: string;
  clientId?: string;
  /** Limit for each connection attempt and request (ms). Default 10 s. */
  timeoutMs?: number;
  /** The output's max_message_bytes, compared with the topic's max.message.bytes. */
  maxMessageBytes?: number;
  /** Also produce one marked test record to the topic (off by default: consumers would see it). */
  writeTest?: boolean;
  /** Called as each stage finishes, to print progress. */
  onStage?: (result: StageResult) => void;
}

export interface Diagnosis {
  ok: boolean;
  stages: StageResult[];
  /** The stage that failed, if any. */
  failed?: StageName;
}

interface HostPort {
  host: string;
  port: number;
  /** As written: host:port ([v6]:port). */
  text: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export function parseHostPort(entry: string): HostPort {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(entry);
  if (bracketed !== null) return { host: bracketed[1], port: Number(bracketed[2]), text: entry };
  const colon = entry.lastIndexOf(':');
  return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)), text: entry };
}

/** Runs the stages in order, stopping at the first failure. */
export async function diagnoseKafkaOutput(options: DiagnoseOptions): Promise<Diagnosis> {
  const stages: StageResult[] = [];
  const context = new DiagnosisContext(options);
  const steps: (() => Promise<StageResult>)[] = [
    () => context.dns(),
    () => context.tcp(),
    () => context.tls(),
    () => context.sasl(),
    () => context.metadata(),
    () => context.topicStage(),
  ];
  try {
    for (const step of steps) {
      const result = await step();
      stages.push(result);
      options.onStage?.(result);
      if (result.status === 'fail') return { ok: false, stages, failed: result.stage };
    }
    return { ok: true, stages };
  } finally {
    await context.close();
  }
}

class DiagnosisContext {
  readonly #options: DiagnoseOptions;
  readonly #timeoutMs: number;
  readonly #servers: HostPort[];
  /** Bootstrap servers that passed DNS, then TCP: later stages use only these. */
  #usable: HostPort[];
  #clusterMetadata: ClusterMetadata | undefined;
  readonly #closers: (() => Promise<unknown>)[] = [];

  constructor(options: DiagnoseOptions) {
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#servers = options.security.bootstrapServers.map(parseHostPort);
    this.#usable = this.#servers;
  }

  async close(): Promise<void> {
    await Promise.all(this.#closers.map((close) => close().catch(() => {})));
  }

  // --- 1. DNS ---------------------------------------------------------------------------------

  async dns(): Promise<StageResult> {
    const results = await Promise.all(this.#servers.map((server) => resolveHost(server.host, this.#timeoutMs)));
    const details = this.#servers.map((server, i) => {
      const result = results[i];
      if (result.literal) return `${server.text}: an IP address, no lookup needed`;
      if (result.error !== undefined) return `${server.text}: ${dnsErrorText(server.host, result.error)}`;
      return `${server.text}: ${server.host} → ${result.addresses.join(', ')}`;
    });
    const failed = this.#servers.filter((_, i) => results[i].error !== undefined);
    this.#usable = this.#servers.filter((_, i) => results[i].error === undefined);
    if (failed.length > 0) {
      return {
        stage: 'dns',
        status: 'fail',
        summary: `cannot resolve ${failed.map((server) => server.host).join(', ')}`,
        details,
        fix:
          'check the spelling of bootstrap_servers; if the name is private (VPC, VPN, Kubernetes), run this where that DNS ' +
          'is used, or use an address that resolves here',
      };
    }
    return {
      stage: 'dns',
      status: 'pass',
      summary: `${this.#servers.length} bootstrap server(s) resolved`,
      details,
    };
  }

  // --- 2. TCP ---------------------------------------------------------------------------------

  async tcp(): Promise<StageResult> {
    const results = await Promise.all(this.#usable.map((server) => tcpConnect(server, this.#timeoutMs)));
    const details = this.#usable.map((server, i) => {
      const result = results[i];
      return result.error === undefined
        ? `${server.text}: connected to ${result.remote} in ${result.ms} ms`
        : `${server.text}: ${tcpErrorText(result.error, this.#timeoutMs)}`;
    });
    const reachable = this.#usable.filter((_, i) => results[i].error === undefined);
    const unreachable = this.#usable.filter((_, i) => results[i].error !== undefined);
    const firstError = results.find((result) => result.error !== undefined)?.error;
    this.#usable = reachable;
    if (reachable.length === 0) {
      return {
        stage: 'tcp',
        status: 'fail',
        summary: `no bootstrap server accepts TCP connections`,
        details,
        fix: tcpFix(firstError, unreachable[0]),
      };
    }
    if (unreachable.length > 0) {
      return {
        stage: 'tcp',
        status: 'warn',
        summary: `${reachable.length} of ${this.#usable.length + unreachable.length} bootstrap servers reachable; going on with those`,
        details,
        fix: tcpFix(firstError, unreachable[0]),
      };
    }
    return { stage: 'tcp', status: 'pass', summary: `${reachable.length} bootstrap server(s) reachable`, details };
  }

  // --- 3. TLS ---------------------------------------------------------------------------------

  async tls(): Promise<StageResult> {
    const trust = describeTrust(this.#options.security.caPem);
    const client = describeClientCertificate(this.#options.security.clientCertPem);
    const probes = await Promise.all(
      this.#usable.map((server) => probeTls(server, this.#options.security, this.#timeoutMs)),
    );
    const details: string[] = [`trusting ${trust}`];
    if (client !== undefined) details.push(`presenting client certificate ${client}`);
    let failure: { summary: string; fix: string } | undefined;
    this.#usable.forEach((server, i) => {
      const probe = probes[i];
      if (probe.failure === undefined) {
        details.push(`${server.text}: ${probe.protocol}, ${describePeer(probe.chain)}; Kafka answered ApiVersions`);
      } else {
        if (probe.chain.length > 0) details.push(`${server.text}: presented ${describePeer(probe.chain)}`);
        details.push(`${server.text}: ${probe.failure.summary}`);
        failure ??= probe.failure;
      }
    });
    if (failure !== undefined)
      return { stage: 'tls', status: 'fail', summary: failure.summary, details, fix: failure.fix };
    const leaf = probes[0].chain[0];
    return {
      stage: 'tls',
      status: 'pass',
      summary: `${probes[0].protocol}; certificate ${formatName(leaf.subject)} verified (issuer ${formatName(leaf.issuer)}, host name matches)`,
      details,
    };
  }

  // --- 4. SASL --------------------------------------------------------------------------------

  async sasl(): Promise<StageResult> {
    const { username, mechanism } = this.#options.security;
    const admin = this.#admin();
    try {
      this.#clusterMetadata = await admin.metadata({ topics: [], forceUpdate: true });
    } catch (error) {
      const why = classifyKafkaError(error, [lastConnectionError(admin)]);
      return saslFailure(why, username, mechanism, this.#options.security.clientCertPem !== undefined);
    }
    if (username === undefined) {
      return {
        stage: 'sasl',
        status: 'skip',
        summary:
          this.#options.security.clientCertPem === undefined
            ? 'no username set: SSL without SASL (the broker accepted the connection without authentication)'
            : 'no username set: authenticated by the client certificate (mutual TLS)',
        details: [],
      };
    }
    return {
      stage: 'sasl',
      status: 'pass',
      summary: `authenticated as "${username}" with ${mechanism}`,
      details: [],
    };
  }

  // --- 5. Metadata ----------------------------------------------------------------------------

  async metadata(): Promise<StageResult> {
    const metadata = this.#clusterMetadata;
    if (metadata === undefined) throw new Error('metadata stage before the SASL stage');
    const brokers = [...metadata.brokers.entries()].sort(([a], [b]) => a - b);
    if (brokers.length === 0) {
      return {
        stage: 'metadata',
        status: 'fail',
        summary: 'the cluster reported no brokers',
        details: [],
        fix: 'check that the brokers have registered with the controller (broker logs)',
      };
    }
    // After the first request the client talks to the addresses the brokers advertise, not to
    // bootstrap_servers; a broker advertising an internal name is the classic "connects, then hangs".
    const advertised = brokers.map(([, broker]) => ({
      host: broker.host,
      port: broker.port,
      text: broker.host.includes(':') ? `[${broker.host}]:${broker.port}` : `${broker.host}:${broker.port}`,
    }));
    const checks = await Promise.all(advertised.map((server) => this.#checkAdvertised(server)));
    const details = brokers.map(([id, broker], i) => {
      const tags = [
        id === metadata.controllerId ? 'controller' : undefined,
        broker.rack !== null && broker.rack !== undefined ? `rack ${broker.rack}` : undefined,
      ].filter((tag) => tag !== undefined);
      const check = checks[i];
      const verdict = check === undefined ? 'reachable, TLS verified' : check.summary;
      return `broker ${id} at ${advertised[i].text}${tags.length > 0 ? ` (${tags.join(', ')})` : ''}: ${verdict}`;
    });
    const failures = checks.filter((check) => check !== undefined);
    const summary = `cluster ${metadata.id}: ${brokers.length} broker(s) [${brokers.map(([id]) => id).join(', ')}], controller ${metadata.controllerId}`;
    if (failures.length === checks.length) {
      return {
        stage: 'metadata',
        status: 'fail',
        summary: `${summary}; no broker is reachable at the address it advertises`,
        details,
        fix: failures[0].fix,
      };
    }
    if (failures.length > 0) {
      return {
        stage: 'metadata',
        status: 'warn',
        summary: `${summary}; ${failures.length} broker(s) unreachable at their advertised address`,
        details,
        fix: failures[0].fix,
      };
    }
    return { stage: 'metadata', status: 'pass', summary, details };
  }

  async #checkAdvertised(server: HostPort): Promise<{ summary: string; fix: string } | undefined> {
    const advertisedFix =
      'the brokers advertise this address (advertised.listeners) and clients must reach it: fix advertised.listeners ' +
      'for the listener you use, or the DNS/network between here and the brokers';
    const resolved = await resolveHost(server.host, this.#timeoutMs);
    if (resolved.error !== undefined) return { summary: dnsErrorText(server.host, resolved.error), fix: advertisedFix };
    const connected = await tcpConnect(server, this.#timeoutMs);
    if (connected.error !== undefined) {
      return { summary: tcpErrorText(connected.error, this.#timeoutMs), fix: advertisedFix };
    }
    const probe = await probeTls(server, this.#options.security, this.#timeoutMs);
    return probe.failure;
  }

  // --- 6. Topic -------------------------------------------------------------------------------

  async topicStage(): Promise<StageResult> {
    const { topic } = this.#options;
    const admin = this.#admin();
    let metadata: ClusterMetadata;
    try {
      metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    } catch (error) {
      const why = classifyKafkaError(error, [lastConnectionError(admin)]);
      if (why.code === 'UNKNOWN_TOPIC') return this.#missingTopic(admin);
      if (why.code === 'NOT_AUTHORIZED') {
        return {
          stage: 'topic',
          status: 'fail',
          summary: `not authorised to describe topic "${topic}" (or it does not exist and the user may not know)`,
          details: [],
          fix: aclFix(this.#options.security.username, topic),
        };
      }
      return { stage: 'topic', status: 'fail', summary: `${why.reason} (${why.matched})`, details: [], fix: why.fix };
    }
    const description = metadata.topics.get(topic);
    if (description === undefined) return this.#missingTopic(admin);

    const details: string[] = [];
    const partitions = description.partitions.map((partition, index) => ({ index, ...partition }));
    const config = await this.#topicConfig(admin);
    const minIsr = config.values.get('min.insync.replicas');
    const minInsync = minIsr === undefined ? undefined : Number(minIsr);
    for (const partition of partitions) {
      details.push(
        `partition ${partition.index}: leader ${partition.leader < 0 ? 'NONE' : partition.leader}, replicas [${partition.replicas.join(', ')}], in-sync [${partition.isr.join(', ')}]` +
          (partition.offlineReplicas.length > 0 ? `, offline [${partition.offlineReplicas.join(', ')}]` : ''),
      );
    }
    if (config.error !== undefined) details.push(config.error);

    const leaderless = partitions.filter((partition) => partition.leader < 0);
    if (leaderless.length > 0) {
      return {
        stage: 'topic',
        status: 'fail',
        summary: `partition(s) ${leaderless.map((p) => p.index).join(', ')} of "${topic}" have no leader`,
        details,
        fix: `start or repair the brokers holding their replicas (${[...new Set(leaderless.flatMap((p) => p.replicas))].join(', ')})`,
      };
    }
    const replicationFactor = Math.min(...partitions.map((partition) => partition.replicas.length));
    if (minInsync !== undefined && replicationFactor < minInsync) {
      return {
        stage: 'topic',
        status: 'fail',
        summary: `replication factor ${replicationFactor} is below min.insync.replicas=${minInsync}: acks=all writes can never succeed`,
        details,
        fix:
          `lower it (kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config ` +
          `min.insync.replicas=${replicationFactor}) or raise the topic's replication factor`,
      };
    }
    const shortOfIsr = minInsync === undefined ? [] : partitions.filter((p) => p.isr.length < minInsync);
    if (shortOfIsr.length > 0) {
      const lagging = [...new Set(shortOfIsr.flatMap((p) => p.replicas.filter((r) => !p.isr.includes(r))))];
      return {
        stage: 'topic',
        status: 'fail',
        summary:
          `partition(s) ${shortOfIsr.map((p) => p.index).join(', ')} have fewer in-sync replicas than ` +
          `min.insync.replicas=${minInsync}: writes (acks=all) fail with NOT_ENOUGH_REPLICAS`,
        details,
        fix: `bring the out-of-sync replicas back (broker(s) ${lagging.join(', ')}); the forwarder keeps batches spooled meanwhile`,
      };
    }

    const notes: string[] = [];
    let status: StageStatus = 'pass';
    let fix: string | undefined;
    const topicMaxBytes = config.values.get('max.message.bytes');
    if (
      topicMaxBytes !== undefined &&
      this.#options.maxMessageBytes !== undefined &&
      Number(topicMaxBytes) < this.#options.maxMessageBytes
    ) {
      status = 'warn';
      details.push(
        `the topic's max.message.bytes (${topicMaxBytes}) is below the output's max_message_bytes (${this.#options.maxMessageBytes})`,
      );
      fix = `set max_message_bytes: ${topicMaxBytes} on the output, or raise max.message.bytes on the topic`;
    }
    if (minInsync === undefined) {
      status = 'warn';
      fix ??= 'grant DESCRIBE_CONFIGS on the topic to let this check read min.insync.replicas';
      notes.push('min.insync.replicas unknown');
    } else {
      const headroom = Math.min(...partitions.map((p) => p.isr.length)) - minInsync;
      notes.push(
        `in-sync replicas ≥ min.insync.replicas=${minInsync} on every partition` +
          (headroom === 0 && replicationFactor > minInsync ? ' (no headroom: one more replica lost stops writes)' : ''),
      );
    }

    const write = await this.#writeCheck();
    details.push(...write.details);
    if (write.failure !== undefined) {
      return { stage: 'topic', status: 'fail', summary: write.failure.summary, details, fix: write.failure.fix };
    }
    const leaders = [...new Set(partitions.map((p) => p.leader))].sort((a, b) => a - b);
    return {
      stage: 'topic',
      status,
      summary:
        `"${topic}": ${partitions.length} partition(s), replication factor ${replicationFactor}, ` +
        `leaders on broker(s) ${leaders.join(', ')}; ${notes.join('; ')}; ${write.summary}`,
      details,
      ...(fix !== undefined && { fix }),
    };
  }

  async #missingTopic(admin: ReturnType<typeof createAdmin>): Promise<StageResult> {
    const { topic } = this.#options;
    const existing = await admin.listTopics().catch(() => undefined);
    const similar = existing === undefined ? [] : similarNames(topic, existing);
    const details =
      existing === undefined
        ? ['(could not list the topics to suggest a near name)']
        : similar.length > 0
          ? [`similar topics on the cluster: ${similar.join(', ')}`]
          : [`the cluster has ${existing.length} other topic(s), none with a similar name`];
    return {
      stage: 'topic',
      status: 'fail',
      summary: `topic "${topic}" does not exist (the forwarder never creates topics)`,
      details,
      fix:
        similar.length > 0
          ? `did you mean "${similar[0]}"? Fix topic in the output, or create "${topic}"`
          : `create it, e.g. kafka-topics.sh --create --topic ${topic} --partitions 6 --replication-factor 3, or fix topic in the output`,
    };
  }

  async #topicConfig(admin: ReturnType<typeof createAdmin>): Promise<{ values: Map<string, string>; error?: string }> {
    try {
      const described = await admin.describeConfigs({
        resources: [
          {
            resourceType: 2, // TOPIC
            resourceName: this.#options.topic,
            configurationKeys: ['min.insync.replicas', 'max.message.bytes'],
          },
        ],
      });
      const values = new Map<string, string>();
      for (const entry of described[0]?.configs ?? [])
        if (typeof entry.value === 'string') values.set(entry.name, entry.value);
      return { values };
    } catch (error) {
      const why = classifyKafkaError(error);
      return {
        values: new Map(),
        error: `cannot read the topic's configuration: ${why.code === 'NOT_AUTHORIZED' ? 'DESCRIBE_CONFIGS not granted' : why.reason}`,
      };
    }
  }

  /** Asks for a producer id (what every idempotent send needs), and with writeTest sends one record. */
  async #writeCheck(): Promise<{
    summary: string;
    details: string[];
    failure?: { summary: string; fix: string };
  }> {
    const producer = createProducer(
      kafkaConnection({ ...this.#options.security, bootstrapServers: this.#bootstrap() }),
      {
        clientId: this.#clientId(),
        retries: 2,
        retryDelayMs: 250,
        connectTimeoutMs: this.#timeoutMs,
        requestTimeoutMs: this.#timeoutMs,
      },
    );
    this.#closers.push(() => producer.close(true));
    const fail = (error: unknown, what: string) => {
      const why = classifyKafkaError(error, [lastConnectionError(producer)]);
      return {
        summary: `${what}: ${why.reason} (${why.matched})`,
        details: [],
        failure: {
          summary: `${what}: ${why.reason} (${why.matched})`,
          fix: why.code === 'NOT_AUTHORIZED' ? aclFix(this.#options.security.username, this.#options.topic) : why.fix,
        },
      };
    };
    try {
      await producer.initIdempotentProducer({});
    } catch (error) {
      return fail(error, 'the broker refused an idempotent producer id');
    }
    if (this.#options.writeTest !== true) {
      return {
        summary: 'producer id granted',
        details: ['topic WRITE permission is proven by the first send; add --write-test to send one test record now'],
      };
    }
    try {
      const result = await producer.send({
        messages: [
          {
            topic: this.#options.topic,
            key: 'kafka-forwarder-test-connection',
            value: JSON.stringify({ kafka_forwarder_test_connection: true, at: new Date().toISOString() }),
            headers: { 'kafka-forwarder': 'test-connection' },
          },
        ],
      });
      const written = result.offsets?.[0];
      return {
        summary: 'test record written',
        details: [
          written === undefined
            ? 'test record written'
            : `test record written to partition ${written.partition} at offset ${written.offset}`,
        ],
      };
    } catch (error) {
      return fail(error, 'the test record was not written');
    }
  }

  // --- shared ---------------------------------------------------------------------------------

  #bootstrap(): string[] {
    return this.#usable.map((server) => server.text);
  }

  #clientId(): string {
    return this.#options.clientId ?? 'kafka-forwarder-test-connection';
  }

  #admin(): ReturnType<typeof createAdmin> {
    const admin = createAdmin(kafkaConnection({ ...this.#options.security, bootstrapServers: this.#bootstrap() }), {
      clientId: this.#clientId(),
      retries: false,
      connectTimeoutMs: this.#timeoutMs,
      requestTimeoutMs: this.#timeoutMs,
    });
    this.#closers.push(() => admin.close());
    return admin;
  }
}

// --- DNS and TCP helpers ------------------------------------------------------------------------

interface Resolved {
  literal: boolean;
  addresses: string[];
  error?: NodeJS.ErrnoException;
}

/** Resolves as the Kafka client will (getaddrinfo), giving up after timeoutMs. */
async function resolveHost(host: string, timeoutMs: number): Promise<Resolved> {
  if (net.isIP(host) !== 0) return { literal: true, addresses: [host] };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error: NodeJS.ErrnoException = new Error(`DNS lookup of ${host} timed out`);
      error.code = 'EAI_AGAIN';
      reject(error);
    }, timeoutMs);
  });
  try {
    const found = await Promise.race([lookup(host, { all: true }), timedOut]);
    return { literal: false, addresses: found.map((entry) => entry.address) };
  } catch (error) {
    return { literal: false, addresses: [], error: error as NodeJS.ErrnoException };
  } finally {
    clearTimeout(timer);
  }
}

function dnsErrorText(host: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOTFOUND':
      return `${host} does not resolve (no such host)`;
    case 'EAI_AGAIN':
      return `the DNS server did not answer for ${host} (temporary failure; check /etc/resolv.conf and the network)`;
    case 'ENODATA':
      return `${host} has no address records`;
    default:
      return `${host} could not be resolved (${error.code ?? error.message})`;
  }
}

interface Connected {
  remote?: string;
  ms?: number;
  error?: NodeJS.ErrnoException;
}

function tcpConnect(server: HostPort, timeoutMs: number): Promise<Connected> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect({ host: server.host, port: server.port });
    socket.setTimeout(timeoutMs, () => {
      const error: NodeJS.ErrnoException = new Error('connect timed out');
      error.code = 'ETIMEDOUT';
      socket.destroy();
      resolve({ error });
    });
    socket.once('connect', () => {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      socket.destroy();
      resolve({ remote, ms: Date.now() - started });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ error });
    });
  });
}

function tcpErrorText(error: NodeJS.ErrnoException, timeoutMs: number): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused: nothing listens on that port';
    case 'ETIMEDOUT':
      return `no answer within ${timeoutMs} ms: packets are dropped on the way`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to that address from here';
    case 'ECONNRESET':
      return 'the connection was reset while opening';
    default:
      return `cannot connect (${error.code ?? error.message})`;
  }
}

function tcpFix(error: NodeJS.ErrnoException | undefined, server: HostPort | undefined): string {
  const port = server?.port ?? 'the';
  switch (error?.code) {
    case 'ECONNREFUSED':
      return `check the port in bootstrap_servers (the broker's SSL or SASL_SSL listener, often 9093, 9094 or 9096) and that the broker runs`;
    case 'ETIMEDOUT':
      return `a firewall or security group probably drops traffic: allow outbound TCP to port ${port}, and check the broker allows this machine's address`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'check routing, VPN or VPC peering between this machine and the brokers';
    default:
      return 'check that the brokers run and that bootstrap_servers is reachable from this machine';
  }
}

// --- TLS ----------------------------------------------------------------------------------------

interface PeerCertificateInfo {
  subject: Record<string, string | string[]>;
  issuer: Record<string, string | string[]>;
  names: string[];
  validTo: string;
  validFrom: string;
  fingerprint256: string;
}

interface TlsProbe {
  protocol?: string;
  /** Leaf first, as the peer presented it (completed with the local trust store where it could). */
  chain: PeerCertificateInfo[];
  failure?: { summary: string; fix: string };
}

function certificateInfo(cert: tls.PeerCertificate): PeerCertificateInfo {
  return {
    subject: cert.subject as unknown as Record<string, string | string[]>,
    issuer: cert.issuer as unknown as Record<string, string | string[]>,
    names: (cert.subjectaltname ?? '')
      .split(', ')
      .filter((name) => name !== '')
      .map((name) => name.replace('IP Address:', 'IP:')),
    validTo: cert.valid_to,
    validFrom: cert.valid_from,
    fingerprint256: cert.fingerprint256,
  };
}

function peerChain(socket: tls.TLSSocket): PeerCertificateInfo[] {
  const chain: PeerCertificateInfo[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert !== undefined && Object.keys(cert).length > 0 && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(certificateInfo(cert));
    cert = cert.issuerCertificate;
  }
  return chain;
}

export function formatName(name: Record<string, string | string[]> | undefined): string {
  if (name === undefined) return '(none)';
  const order = ['CN', 'OU', 'O', 'L', 'ST', 'C'];
  const parts = order.filter((key) => name[key] !== undefined).map((key) => `${key}=${[name[key]].flat().join('+')}`);
  return parts.length > 0 ? `"${parts.join(', ')}"` : '(empty name)';
}

function describePeer(chain: PeerCertificateInfo[]): string {
  const leaf = chain[0];
  if (leaf === undefined) return 'no certificate';
  const names = leaf.names.length > 0 ? leaf.names.join(', ') : 'no subject alternative names';
  return `certificate ${formatName(leaf.subject)} [${names}] issued by ${formatName(leaf.issuer)}, valid until ${leaf.validTo}`;
}

function describeTrust(caPem: string | undefined): string {
  if (caPem === undefined) return "the system's CA store (no ca_file set)";
  const subjects = pemCertificates(caPem).map((pem) => {
    try {
      return `"${new X509Certificate(pem).subject.replace(/\n/g, ', ')}"`;
    } catch {
      return '(unparsable certificate)';
    }
  });
  return `only the CA(s) in ca_file: ${subjects.length > 0 ? subjects.join('; ') : '(no certificate found in it)'}`;
}

function describeClientCertificate(certPem: string | undefined): string | undefined {
  if (certPem === undefined) return undefined;
  const first = pemCertificates(certPem)[0];
  try {
    const cert = new X509Certificate(first ?? certPem);
    return `"${cert.subject.replace(/\n/g, ', ')}" issued by "${cert.issuer.replace(/\n/g, ', ')}", valid until ${cert.validTo}`;
  } catch {
    return '(unparsable certificate)';
  }
}

function pemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'CERT_REJECTED',
]);

/** TLS handshake with the output's trust settings, verified by hand so the certificate can be shown. */
function probeTls(server: HostPort, security: KafkaSecuritySettings, timeoutMs: number): Promise<TlsProbe> {
  const options = kafkaConnection({ ...security, bootstrapServers: [server.text] }).tls ?? {};
  return new Promise((resolve) => {
    let settled = false;
    let socket: tls.TLSSocket;
    const finish = (probe: TlsProbe): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(probe);
    };
    try {
      socket = tls.connect({
        ...options,
        host: server.host,
        port: server.port,
        ...(net.isIP(server.host) === 0 && { servername: server.host }),
        // Verified below, after the certificate has been read, so that a failure can show it.
        rejectUnauthorized: false,
      });
    } catch (error) {
      resolve({ chain: [], failure: clientTlsSettingsFailure(error as NodeJS.ErrnoException) });
      return;
    }
    let handshakeDone = false;
    let chain: PeerCertificateInfo[] = [];
    const timer = setTimeout(() => {
      finish({
        chain,
        failure: handshakeDone
          ? {
              summary: `TLS is up but Kafka did not answer an ApiVersions request within ${timeoutMs} ms`,
              fix: 'check that this port is a Kafka listener (not another TLS service) and that the broker is healthy',
            }
          : {
              summary: `no TLS handshake within ${timeoutMs} ms`,
              fix: 'check that the port is a TLS (SSL or SASL_SSL) listener of the broker',
            },
      });
    }, timeoutMs);
    socket.once('secureConnect', () => {
      handshakeDone = true;
      chain = peerChain(socket);
      const verdict = verifyPeer(server, socket, chain, security.caPem);
      if (verdict !== undefined) {
        finish({ chain, failure: verdict });
        return;
      }
      // The handshake alone does not prove the broker accepted us: with TLS 1.3 a rejected client
      // certificate shows only afterwards. A request Kafka answers before authentication does.
      socket.write(apiVersionsRequest());
      let received = Buffer.alloc(0);
      socket.on('data', (data: Buffer) => {
        received = Buffer.concat([received, data]);
        if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
          finish({ protocol: socket.getProtocol() ?? 'TLS', chain });
        }
      });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      finish({ chain, failure: tlsErrorFailure(error, handshakeDone, security.clientCertPem !== undefined) });
    });
    socket.once('close', () => {
      finish({
        chain,
        failure: handshakeDone
          ? closedAfterHandshake(security.clientCertPem !== undefined)
          : {
              summary: 'the connection closed during the TLS handshake: the port does not seem to speak TLS',
              fix: "point bootstrap_servers at the broker's SSL or SASL_SSL listener (a PLAINTEXT listener cannot be used)",
            },
      });
    });
  });
}

function verifyPeer(
  server: HostPort,
  socket: tls.TLSSocket,
  chain: PeerCertificateInfo[],
  caPem: string | undefined,
): { summary: string; fix: string } | undefined {
  const leaf = chain[0];
  if (leaf === undefined) {
    return { summary: 'the broker presented no certificate', fix: 'configure a certificate on the broker listener' };
  }
  const code = (socket.authorizationError as unknown as string | Error | null) ?? null;
  const reason =
    typeof code === 'string' ? code : code === null ? null : ((code as NodeJS.ErrnoException).code ?? code.message);
  if (reason !== null && reason !== 'ERR_TLS_CERT_ALTNAME_INVALID') {
    if (reason === 'CERT_HAS_EXPIRED') {
      return {
        summary: `the broker certificate ${formatName(leaf.subject)} expired on ${leaf.validTo}`,
        fix: 'renew the broker certificate (check the clock of this machine too)',
      };
    }
    if (reason === 'CERT_NOT_YET_VALID') {
      return {
        summary: `the broker certificate ${formatName(leaf.subject)} is not valid before ${leaf.validFrom}`,
        fix: "check this machine's clock, or the certificate's start date",
      };
    }
    const root = chain.at(-1) ?? leaf;
    const topIssuer = formatName(root.issuer);
    if (UNTRUSTED_CODES.has(reason)) {
      return {
        summary:
          `certificate ${formatName(leaf.subject)} is issued by ${formatName(leaf.issuer)}` +
          (topIssuer !== formatName(leaf.issuer) ? ` (chain ends at ${topIssuer})` : '') +
          `, which ${caPem === undefined ? "the system's CA store" : `ca_file (${describeTrust(caPem).replace(/^only the CA\(s\) in ca_file: /, '')})`} does not trust (${reason})`,
        fix:
          caPem === undefined
            ? `set ca_file to the PEM certificate of the CA ${topIssuer} (ask the Kafka operator for the cluster's CA)`
            : `ca_file holds a different CA: replace it with (or add) the PEM certificate of ${topIssuer}`,
      };
    }
    return {
      summary: `certificate ${formatName(leaf.subject)} failed verification: ${reason}`,
      fix: 'check the broker certificate chain (openssl s_client -connect host:port -showcerts)',
    };
  }
  const mismatch = tls.checkServerIdentity(server.host, socket.getPeerCertificate());
  if (mismatch !== undefined) {
    const dnsNames = leaf.names.filter((name) => name.startsWith('DNS:')).map((name) => name.slice(4));
    const named = leaf.names.length > 0 ? leaf.names.join(', ') : `only the subject ${formatName(leaf.subject)}`;
    return {
      summary: `certificate names ${named}, not ${server.host}`,
      fix:
        (dnsNames.length > 0
          ? `connect with a name it lists (e.g. ${dnsNames[0]}:${server.port}) if that resolves to the broker, `
          : '') +
        `or reissue the certificate with ${net.isIP(server.host) !== 0 ? 'IP' : 'DNS'}:${server.host} in its subject alternative names`,
    };
  }
  return undefined;
}

function tlsErrorFailure(
  error: NodeJS.ErrnoException,
  handshakeDone: boolean,
  hasClientCert: boolean,
): { summary: string; fix: string } {
  const code = error.code ?? '';
  if (
    /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|ACCESS_DENIED/.test(code)
  ) {
    return clientCertificateRejected(code, hasClientCert);
  }
  if (handshakeDone && (code === 'ECONNRESET' || code === 'EPIPE')) return closedAfterHandshake(hasClientCert);
  if (
    code === 'ECONNRESET' ||
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    /PACKET_LENGTH_TOO_LONG|WRONG_VERSION/.test(code)
  ) {
    return {
      summary: `the port answered, but not with TLS (${code})`,
      fix: "point bootstrap_servers at the broker's SSL or SASL_SSL listener (a PLAINTEXT listener cannot be used)",
    };
  }
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS|NO_SHARED_CIPHER|SSLV3_ALERT_HANDSHAKE/.test(code)) {
    return {
      summary: `no TLS version or cipher in common with the broker (${code})`,
      fix: 'enable TLS 1.2 or 1.3 with modern ciphers on the broker listener (ssl.enabled.protocols, ssl.cipher.suites)',
    };
  }
  return {
    summary: `TLS failed: ${code || error.message}`,
    fix: 'check the broker listener TLS settings and the output ca_file',
  };
}

function clientCertificateRejected(code: string, hasClientCert: boolean): { summary: string; fix: string } {
  return hasClientCert
    ? {
        summary: `the broker rejected our client certificate (${code})`,
        fix: "have the client certificate signed by a CA in the broker's ssl.truststore, or fix client_cert_file/client_key_file",
      }
    : {
        summary: `the broker requires a client certificate (mutual TLS) and none is configured (${code})`,
        fix: 'set client_cert_file and client_key_file on the output, or use a listener without ssl.client.auth=required',
      };
}

function closedAfterHandshake(hasClientCert: boolean): { summary: string; fix: string } {
  return hasClientCert
    ? {
        summary:
          'the broker closed the connection right after the TLS handshake: it did not accept our client certificate',
        fix: "have the client certificate signed by a CA in the broker's ssl.truststore, or fix client_cert_file/client_key_file",
      }
    : {
        summary:
          'the broker closed the connection right after the TLS handshake: it probably requires a client certificate (mutual TLS)',
        fix: 'set client_cert_file and client_key_file on the output, or use a listener without ssl.client.auth=required',
      };
}

function clientTlsSettingsFailure(error: NodeJS.ErrnoException): { summary: string; fix: string } {
  const code = error.code ?? '';
  if (/KEY_VALUES_MISMATCH/.test(code)) {
    return {
      summary: 'the client private key does not belong to the client certificate',
      fix: 'set client_key_file to the key the client certificate was issued for',
    };
  }
  return {
    summary: `the TLS settings of the output cannot be used: ${code || 'invalid PEM'}`,
    fix: 'check that ca_file, client_cert_file and client_key_file hold PEM certificates/keys (an unencrypted key)',
  };
}

/** ApiVersions v0: answered by every Kafka broker, before any SASL authentication. */
function apiVersionsRequest(): Buffer {
  const clientId = Buffer.from('kafka-forwarder-test-connection');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0); // ApiVersions
  body.writeInt16BE(0, 2); // version 0
  body.writeInt32BE(1, 4); // correlation id
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

// --- SASL and authorisation helpers ---------------------------------------------------------------

function saslFailure(
  why: KafkaErrorClassification,
  username: string | undefined,
  mechanism: string,
  hasClientCert: boolean,
): StageResult {
  if (why.code === 'SASL_AUTHENTICATION_FAILED') {
    return {
      stage: 'sasl',
      status: 'fail',
      summary: `the broker rejected user "${username ?? ''}" with ${mechanism} (${why.matched})`,
      details: [],
      fix: 'check username/password/mechanism: the user must exist on the cluster for this mechanism (SCRAM users per SHA variant, PLAIN users in the JAAS config)',
    };
  }
  if (why.code === 'SASL_MECHANISM_UNSUPPORTED') {
    return {
      stage: 'sasl',
      status: 'fail',
      summary: `the listener does not enable ${mechanism} (${why.matched})`,
      details: [],
      fix: 'set authentication_method to a mechanism the listener enables (sasl.enabled.mechanisms), or use the listener that has it',
    };
  }
  if (why.code === 'SASL_NOT_EXPECTED') {
    return {
      stage: 'sasl',
      status: 'fail',
      summary: 'the listener does not use SASL, but a username is set',
      details: [],
      fix: "use the broker's SASL_SSL listener, or remove username/password to connect with SSL only",
    };
  }
  if (
    username === undefined &&
    (why.code === 'BROKER_UNREACHABLE' || why.code === 'UNCLASSIFIED' || why.code === 'TIMEOUT')
  ) {
    return {
      stage: 'sasl',
      status: 'fail',
      summary: `the broker dropped the first request without SASL (${why.matched || why.code})`,
      details: [],
      fix: hasClientCert
        ? 'this listener probably expects SASL: set username, password and authentication_method'
        : 'this listener probably expects SASL (set username, password and authentication_method) or a client certificate (client_cert_file, client_key_file)',
    };
  }
  return {
    stage: 'sasl',
    status: 'fail',
    summary: `the first request failed: ${why.reason} (${why.matched || why.code})`,
    details: [],
    fix: why.fix,
  };
}

function aclFix(username: string | undefined, topic: string): string {
  const principal = username === undefined ? 'User:<the client certificate subject>' : `User:${username}`;
  return (
    `grant the output's user DESCRIBE and WRITE on the topic, e.g. kafka-acls.sh --add --allow-principal ${principal} ` +
    `--operation Describe --operation Write --topic ${topic}`
  );
}

/** Existing topic names close to `wanted`: same ignoring case and separators, or a few edits away. */
export function similarNames(wanted: string, existing: readonly string[]): string[] {
  const fold = (name: string): string => name.toLowerCase().replace(/[-_.]/g, '');
  const limit = Math.max(2, Math.floor(wanted.length / 4));
  return existing
    .filter((name) => !name.startsWith('__'))
    .map((name) => ({ name, distance: fold(name) === fold(wanted) ? 0 : editDistance(wanted, name) }))
    .filter((candidate) => candidate.distance <= limit)
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 3)
    .map((candidate) => candidate.name);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
