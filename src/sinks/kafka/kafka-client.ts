// The one module that imports @platformatic/kafka. Everything else talks to Kafka through the
// factories and re-exports here, so the client library can be tuned or replaced in one place.
//
// Security model of the product: TLS is always on and certificates are always verified,
// host name included. SASL_SSL when a username is set, SSL (optionally with a client
// certificate, i.e. mTLS) otherwise. Plaintext exists only for test tooling and says so in its name.
import {
  Admin,
  baseMetadataChannel,
  compatibilityPartitioner,
  connectionsApiChannel,
  connectionsConnectsChannel,
  consumerCommitsChannel,
  consumerGroupChannel,
  producerInitIdempotentChannel,
  producerSendsChannel,
  ProduceAcks,
  Producer,
  ProtocolError,
  UserError,
  stringSerializer,
  type CompressionAlgorithmValue,
  type SASLMechanismValue,
} from '@platformatic/kafka';
import type { ConnectionOptions as TlsConnectOptions } from 'node:tls';
import type { Logger } from '../../telemetry/index.ts';

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** An output's connection and security settings, as the configuration gives them. */
export interface KafkaSecuritySettings {
  /** host:port pairs. */
  bootstrapServers: string[];
  username?: string;
  password?: string;
  mechanism: SaslMechanism;
  /** PEM of the CA(s) that signed the broker certificates; Node's default CAs when absent. */
  caPem?: string;
  /** PEM client certificate (chain) for mutual TLS. */
  clientCertPem?: string;
  /** PEM private key for clientCertPem. */
  clientKeyPem?: string;
}

/**
 * The resolved options a client is built from. Opaque to callers: make one with
 * `kafkaConnection(settings)` (the product) or `connectPlaintextForTests(servers)` (test tooling).
 */
export interface KafkaConnection {
  readonly bootstrapBrokers: string[];
  readonly tls?: TlsConnectOptions;
  readonly sasl?: { mechanism: SASLMechanismValue; username: string; password: string };
  /** 'SASL_SSL' | 'SSL' | 'PLAINTEXT', for logs and diagnostics. */
  readonly securityProtocol: 'SASL_SSL' | 'SSL' | 'PLAINTEXT';
}

export function kafkaConnection(settings: KafkaSecuritySettings): KafkaConnection {
  if (settings.bootstrapServers.length === 0) throw new TypeError('bootstrapServers must not be empty');
  if ((settings.clientCertPem === undefined) !== (settings.clientKeyPem === undefined)) {
    throw new TypeError('clientCertPem and clientKeyPem must be given together');
  }
  const tls: TlsConnectOptions = {
    // Explicit, although it is Node's default: verification must never be switched off here.
    rejectUnauthorized: true,
    ...(settings.caPem !== undefined && { ca: settings.caPem }),
    ...(settings.clientCertPem !== undefined && { cert: settings.clientCertPem, key: settings.clientKeyPem }),
  };
  if (settings.username === undefined) {
    return { bootstrapBrokers: [...settings.bootstrapServers], tls, securityProtocol: 'SSL' };
  }
  return {
    bootstrapBrokers: [...settings.bootstrapServers],
    tls,
    sasl: { mechanism: settings.mechanism, username: settings.username, password: settings.password ?? '' },
    securityProtocol: 'SASL_SSL',
  };
}

export interface ClientTuning {
  clientId?: string;
  /** TCP + TLS + SASL handshake limit per connection (ms). */
  connectTimeoutMs?: number;
  /** Per-request limit (ms). */
  requestTimeoutMs?: number;
  /**
   * Retries inside the library before an error reaches us: a number, true for as long as it takes
   * (until the client is closed), false for none. Only errors the library knows to be transient are
   * retried, and a produce retried there keeps its producer id and sequence numbers.
   */
  retries?: number | boolean;
  retryDelayMs?: number;
  /**
   * Called before each of the library's retries with the attempt (from 1) and the error that caused
   * it; returns the delay in ms. Overrides retryDelayMs. The sink uses it for its backoff and to
   * report the output as retrying while the library rides out an outage.
   */
  onRetry?: (attempt: number, error: Error, operation: string) => number;
  /** The library's own metrics go to this registry (Metrics.kafkaClientMetrics). */
  metrics?: LibraryMetrics;
  /** At debug: connections opened, closed and failed, and metadata refreshes (see logClientEvents). */
  logger?: Logger;
}

type LibraryMetrics = NonNullable<ConstructorParameters<typeof Producer>[0]['metrics']>;

function baseOptions(connection: KafkaConnection, tuning: ClientTuning, defaultClientId: string) {
  return {
    clientId: tuning.clientId ?? defaultClientId,
    bootstrapBrokers: [...connection.bootstrapBrokers],
    ...(connection.tls !== undefined && { tls: connection.tls }),
    ...(connection.sasl !== undefined && { sasl: { ...connection.sasl } }),
    ...(tuning.connectTimeoutMs !== undefined && { connectTimeout: tuning.connectTimeoutMs }),
    ...(tuning.requestTimeoutMs !== undefined && { requestTimeout: tuning.requestTimeoutMs }),
    ...(tuning.retries !== undefined && { retries: tuning.retries }),
    ...(tuning.retryDelayMs !== undefined && { retryDelay: tuning.retryDelayMs }),
    ...(tuning.metrics !== undefined && { metrics: tuning.metrics }),
    ...(tuning.onRetry !== undefined && {
      retryDelay: (_client: unknown, operation: string, attempt: number, _retries: number, error: Error) =>
        tuning.onRetry!(attempt, error, operation),
    }),
  };
}

/** Record values may be given as bytes or as a string (encoded as UTF-8). */
export type RecordValue = Buffer | string;
export type KafkaProducer = Producer<string, RecordValue, string, string>;
export type KafkaAdmin = Admin;

// Some failures reach the client only as a socket error on an established connection, while the
// request that was waiting sees just "Connection closed": with TLS 1.3 the broker rejects a
// missing or untrusted client certificate after the handshake. Remember the latest such socket
// error per client so classification can use it (see lastConnectionError).
const connectionErrors = new WeakMap<object, { error: Error; at: number }>();

interface ConnectionEventSource {
  on(event: 'client:broker:connect', listener: (payload: { connection: ErrorEmitter }) => void): unknown;
}
interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

function trackConnectionErrors<T extends object>(client: T): T {
  (client as unknown as ConnectionEventSource).on('client:broker:connect', ({ connection }) => {
    connection.on('error', (error) => connectionErrors.set(client, { error, at: Date.now() }));
  });
  return client;
}

interface BrokerAddress {
  host: string;
  port: number;
}
interface ClientEventSource {
  on(
    event: 'client:broker:connect' | 'client:broker:disconnect',
    listener: (payload: { broker: BrokerAddress }) => void,
  ): unknown;
  on(event: 'client:broker:failed', listener: (payload: { broker: BrokerAddress }) => void): unknown;
  on(
    event: 'client:metadata',
    listener: (metadata: {
      id?: string;
      brokers: Map<number, BrokerAddress>;
      topics: Map<string, { partitionsCount: number } | undefined>;
    }) => void,
  ): unknown;
}

/**
 * At debug, what someone diagnosing a connection needs: each broker connection opened, closed or
 * failed, and each metadata refresh (cluster, brokers, topics and their partition counts). Only
 * addresses and counts: the connection objects hold the credentials. Nothing is subscribed at
 * other levels, so the hot path pays nothing.
 */
function logClientEvents<T extends object>(client: T, clientId: string, logger: Logger | undefined): T {
  if (logger === undefined || !logger.isLevelEnabled('debug')) return client;
  const log = logger.child({ kafkaClient: clientId });
  const source = client as unknown as ClientEventSource;
  const address = (broker: BrokerAddress) => `${broker.host}:${broker.port}`;
  source.on('client:broker:connect', ({ broker }) => log.debug({ broker: address(broker) }, 'Kafka connection open'));
  source.on('client:broker:disconnect', ({ broker }) =>
    log.debug({ broker: address(broker) }, 'Kafka connection closed'),
  );
  source.on('client:broker:failed', ({ broker }) => log.debug({ broker: address(broker) }, 'Kafka connection failed'));
  source.on('client:metadata', (metadata) =>
    log.debug(
      {
        cluster: metadata.id,
        brokers: [...metadata.brokers].map(([id, broker]) => `${id}@${address(broker)}`),
        topics: Object.fromEntries([...metadata.topics].map(([name, topic]) => [name, topic?.partitionsCount])),
      },
      'Kafka metadata refreshed',
    ),
  );
  return client;
}

/**
 * The socket-level error this client's connections saw most recently (within maxAgeMs), to pass
 * to classifyKafkaError alongside an error that only says the connection closed.
 */
export function lastConnectionError(client: object, maxAgeMs = 30_000): Error | undefined {
  const entry = connectionErrors.get(client);
  return entry !== undefined && Date.now() - entry.at <= maxAgeMs ? entry.error : undefined;
}

function valueSerializer(value?: RecordValue): Buffer | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/**
 * Idempotent producer with acks=all, string keys, and the Java client's partitioner
 * (murmur2 of the key bytes, masked positive, modulo partitions), so a key lands on the same
 * partition as it would from a Java producer.
 */
export function createProducer(connection: KafkaConnection, tuning: ClientTuning = {}): KafkaProducer {
  const options = baseOptions(connection, tuning, 'kafka-forwarder');
  const producer = new Producer<string, RecordValue, string, string>({
    ...options,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
    serializers: {
      key: stringSerializer,
      value: valueSerializer,
      headerKey: stringSerializer,
      headerValue: stringSerializer,
    },
  });
  return logClientEvents(trackConnectionErrors(producer), options.clientId, tuning.logger);
}

/**
 * The topic's partition count and the cluster's broker count from fresh-enough metadata; a topic
 * the cluster does not have is UNKNOWN_TOPIC_OR_PARTITION, as a produce to it would be.
 */
export async function describeTopic(
  client: KafkaProducer | KafkaAdmin,
  topic: string,
): Promise<{ partitions: number; brokers: number }> {
  const metadata = await client.metadata({ topics: [topic] });
  const partitions = metadata.topics.get(topic)?.partitionsCount;
  if (partitions === undefined || partitions < 1)
    throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', null, { topic });
  return { partitions, brokers: metadata.brokers.size };
}

/** One partition's produce request as sendByPartition made it, for the debug log. */
export interface PartitionSend {
  readonly topic: string;
  readonly partition: number;
  readonly records: number;
  readonly bytes: number;
  readonly ms: number;
  /** Set when Kafka refused it (after the library's own retries). */
  readonly failure: unknown;
}

/** One record for sendReportingPartitions; `partition` set means "this partition" (reduced modulo the count). */
export interface RecordToSend {
  readonly key: string | null;
  readonly value: RecordValue;
  readonly headers?: readonly (readonly [string, string])[];
  readonly partition?: number;
}

/**
 * Sends the records to one topic and tells, per record, whether Kafka wrote it: the result holds
 * undefined for a written record and, for the others, the error of its partition.
 *
 * Each partition goes out as its own send, all of them at once. The library retries a send it
 * finds transient (a dead leader, NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, a timeout) with the
 * same producer id and sequence numbers, so when a dead leader had already written and replicated
 * the records, the new leader recognises the resend and does not write it twice. It must see one
 * partition per send for that: it aims a retry at the leader of the send's first partition, so a
 * send whose partitions end up on different brokers after a failover would be retried against the
 * wrong one for the others. And a send that fails for good drops the producer's idempotence state
 * (the next send gets a new producer id), which is safe only when the failure was definite, so
 * callers give it unlimited retries (ClientTuning.retries = true) for transient errors.
 *
 * The partition of every record is fixed here (the Java partitioner for keyed records, as
 * createProducer's), so the outcome of each is that of its partition's send.
 */
export async function sendByPartition(
  producer: KafkaProducer,
  topic: string,
  records: readonly RecordToSend[],
  compression?: CompressionAlgorithmValue,
  onPartitionSent?: (sent: PartitionSend) => void,
): Promise<unknown[]> {
  let partitions: number[];
  try {
    const metadata = await producer.metadata({ topics: [topic] });
    const count = metadata.topics.get(topic)?.partitionsCount;
    if (count === undefined || count < 1) throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', null, { topic });
    partitions = records.map((record) => {
      const chosen =
        record.partition ??
        (record.key === null ? 0 : compatibilityPartitioner({ topic }, Buffer.from(record.key, 'utf8')));
      return chosen % count;
    });
  } catch (error) {
    return records.map(() => error);
  }
  const byPartition = new Map<number, number[]>();
  partitions.forEach((partition, index) => {
    const indexes = byPartition.get(partition);
    if (indexes === undefined) byPartition.set(partition, [index]);
    else indexes.push(index);
  });
  const outcomes: unknown[] = records.map(() => undefined);
  await Promise.all(
    [...byPartition].map(async ([partition, indexes]) => {
      const started = onPartitionSent === undefined ? 0 : performance.now();
      let failure: unknown;
      try {
        await producer.send({
          messages: indexes.map((index) => {
            const record = records[index];
            return {
              topic,
              value: record.value,
              partition,
              ...(record.key !== null && { key: record.key }),
              ...(record.headers !== undefined && { headers: new Map(record.headers) }),
            };
          }),
          ...(compression !== undefined && { compression }),
        });
      } catch (error) {
        failure = error ?? new Error('produce failed');
        for (const index of indexes) outcomes[index] = failure;
      }
      if (onPartitionSent !== undefined) {
        let bytes = 0;
        for (const index of indexes) bytes += Buffer.byteLength(records[index].value);
        const ms = performance.now() - started;
        onPartitionSent({ topic, partition, records: indexes.length, bytes, ms, failure });
      }
    }),
  );
  return outcomes;
}

export function createAdmin(connection: KafkaConnection, tuning: ClientTuning = {}): KafkaAdmin {
  const options = baseOptions(connection, tuning, 'kafka-forwarder-admin');
  return logClientEvents(trackConnectionErrors(new Admin(options)), options.clientId, tuning.logger);
}

const UNKNOWN_TOPIC_MESSAGE = /^Unknown topic (.*)\.$/;

/**
 * Puts back what the library drops: when metadata answers UNKNOWN_TOPIC_OR_PARTITION and topic
 * auto-creation is off, it throws a bare UserError("Unknown topic <name>.") without the protocol
 * code. This turns that one error back into the ProtocolError it came from (the original as
 * cause), so classification can stay on codes. Anything else is returned unchanged.
 */
export function normalizeKafkaError(error: unknown): unknown {
  if (error instanceof AggregateError) {
    const errors = error.errors.map(normalizeKafkaError);
    if (errors.some((inner, index) => inner !== error.errors[index])) {
      return Object.assign(new AggregateError(errors, error.message, { cause: error.cause }), {
        code: (error as { code?: unknown }).code,
      });
    }
    return error;
  }
  if (error instanceof UserError && error.cause === undefined) {
    const match = UNKNOWN_TOPIC_MESSAGE.exec(error.message);
    if (match !== null) return new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', null, { topic: match[1], cause: error });
  }
  return error;
}

// What the error table and the doctor need from the library (the classes errors are classified by,
// the metadata shape), so that no other module imports it.
export {
  AuthenticationError,
  GenericError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  TimeoutError,
  UnsupportedApiError,
  UnsupportedCompressionError,
  UnsupportedError,
  UserError,
} from '@platformatic/kafka';
export type { ClusterMetadata } from '@platformatic/kafka';

/** The library's tracing channels logged at trace: connecting, every protocol request, metadata, sends, groups. */
const TRACED_CHANNELS = [
  connectionsConnectsChannel,
  connectionsApiChannel,
  baseMetadataChannel,
  producerInitIdempotentChannel,
  producerSendsChannel,
  consumerGroupChannel,
  consumerCommitsChannel,
];

/** The scalar facts of a diagnostic context; the context also holds the client and connection objects, with credentials. */
function traceFields(context: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const name of ['operation', 'operationId', 'host', 'port', 'apiKey', 'apiVersion', 'correlationId']) {
    const value = context[name];
    if (typeof value === 'bigint') fields[name] = String(value);
    else if (typeof value === 'string' || typeof value === 'number') fields[name] = value;
  }
  return fields;
}

/**
 * At log level trace, the Kafka client's own diagnostics (its node:diagnostics_channel tracing
 * channels, plt:kafka:*), one line per finished or failed operation with its duration. Process
 * wide, as the channels are; returns the unsubscribe.
 */
export function traceKafkaDiagnostics(logger: Logger): () => void {
  const started = new WeakMap<object, number>();
  const unsubscribes = TRACED_CHANNELS.map((channel) => {
    const name = (channel as unknown as { name: string }).name;
    const handlers = {
      start(context: object) {
        started.set(context, performance.now());
      },
      end() {},
      asyncStart() {},
      asyncEnd(context: object) {
        const since = started.get(context);
        const fields = traceFields(context as Record<string, unknown>);
        const durationMs = since === undefined ? undefined : Math.round((performance.now() - since) * 10) / 10;
        const error = (context as { error?: unknown }).error;
        if (error !== undefined) return; // logged by error()
        logger.trace({ channel: name, ...fields, durationMs }, 'Kafka client diagnostic');
      },
      error(context: object) {
        const error = (context as { error?: unknown }).error;
        logger.trace(
          {
            channel: name,
            ...traceFields(context as Record<string, unknown>),
            error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          },
          'Kafka client diagnostic: failed',
        );
      },
    };
    channel.subscribe(handlers);
    return () => channel.unsubscribe(handlers);
  });
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}
