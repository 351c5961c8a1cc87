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
  return new Producer<string, RecordValue, string, string>({
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
}

export interface ConsumerTuning extends ClientTuning {
  groupId: string;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
}

/** A consumer with string keys, values and headers (the forwarder writes JSON text). */
export function createConsumer(connection: KafkaConnection, tuning: ConsumerTuning): KafkaConsumer {
  return new Consumer<string, string, string, string>({
    ...baseOptions(connection, tuning, 'kafka-forwarder-consumer'),
    groupId: tuning.groupId,
    deserializers: stringDeserializers,
    ...(tuning.sessionTimeoutMs !== undefined && { sessionTimeout: tuning.sessionTimeoutMs }),
    ...(tuning.heartbeatIntervalMs !== undefined && { heartbeatInterval: tuning.heartbeatIntervalMs }),
  });
}

export function createAdmin(connection: KafkaConnection, tuning: ClientTuning = {}): KafkaAdmin {
  return new Admin(baseOptions(connection, tuning, 'kafka-forwarder-admin'));
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
