// The one module that imports @platformatic/kafka. Everything else talks to Kafka through the
// factories and re-exports here, so the client library can be tuned or replaced in one place.
//
// Security model of the product: TLS is always on and certificates are always verified,
// host name included. SASL_SSL when a username is set, SSL (optionally with a client
// certificate, i.e. mTLS) otherwise. Plaintext exists only for test tooling and says so in its name.
import {
  Admin,
  compatibilityPartitioner,
  Consumer,
  ProduceAcks,
  Producer,
  ProtocolError,
  UserError,
  stringDeserializers,
  stringSerializer,
  type SASLMechanismValue,
} from '@platformatic/kafka';
import type { ConnectionOptions as TlsConnectOptions } from 'node:tls';

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

/** Unencrypted, unauthenticated: only for test tooling talking to a local test broker. */
export function connectPlaintextForTests(bootstrapServers: string[]): KafkaConnection {
  return { bootstrapBrokers: [...bootstrapServers], securityProtocol: 'PLAINTEXT' };
}

export interface ClientTuning {
  clientId?: string;
  /** TCP + TLS + SASL handshake limit per connection (ms). */
  connectTimeoutMs?: number;
  /** Per-request limit (ms). */
  requestTimeoutMs?: number;
  /** Retries inside the library before an error reaches us; false for none. */
  retries?: number | false;
  retryDelayMs?: number;
}

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
  };
}

/** Record values may be given as bytes or as a string (encoded as UTF-8). */
export type RecordValue = Buffer | string;
export type KafkaProducer = Producer<string, RecordValue, string, string>;
export type KafkaConsumer = Consumer<string, string, string, string>;
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
  const producer = new Producer<string, RecordValue, string, string>({
    ...baseOptions(connection, tuning, 'kafka-forwarder'),
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
  return trackConnectionErrors(producer);
}

export interface ConsumerTuning extends ClientTuning {
  groupId: string;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
}

/** A consumer with string keys, values and headers (the forwarder writes JSON text). */
export function createConsumer(connection: KafkaConnection, tuning: ConsumerTuning): KafkaConsumer {
  const consumer = new Consumer<string, string, string, string>({
    ...baseOptions(connection, tuning, 'kafka-forwarder-consumer'),
    groupId: tuning.groupId,
    deserializers: stringDeserializers,
    ...(tuning.sessionTimeoutMs !== undefined && { sessionTimeout: tuning.sessionTimeoutMs }),
    ...(tuning.heartbeatIntervalMs !== undefined && { heartbeatInterval: tuning.heartbeatIntervalMs }),
  });
  return trackConnectionErrors(consumer);
}

export function createAdmin(connection: KafkaConnection, tuning: ClientTuning = {}): KafkaAdmin {
  return trackConnectionErrors(new Admin(baseOptions(connection, tuning, 'kafka-forwarder-admin')));
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

// What other modules need from the library, so that none of them imports it directly.
export {
  AuthenticationError,
  GenericError,
  MessagesStreamModes,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
  UnsupportedApiError,
  UnsupportedCompressionError,
  UnsupportedError,
  UserError,
  protocolErrors,
  protocolErrorsCodesById,
} from '@platformatic/kafka';
export type {
  ClusterMetadata,
  Message as ConsumedMessage,
  MessagesStream,
  MessageToProduce,
  ProduceResult,
} from '@platformatic/kafka';
