// The Kafka spool's one door to the Kafka client library (as sinks/kafka/kafka-client.ts is the
// sink's): the intake's transactional producer, its group consumer, its admin client, and the
// producer of the state and dead-letter topics. Everything the library needs to be told for cluster
// mode not to lose or reorder batches is said here, once.
import {
  Admin,
  Consumer,
  GenericError,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  compatibilityPartitioner,
  stringSerializer,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';

// The reader of the state topic works on raw record batches.
export { IS_CONTROL, ListOffsetTimestamps } from '@platformatic/kafka';
import type { ConnectionOptions as TlsConnectOptions } from 'node:tls';

/** Where and how to reach the intake cluster: what kafkaOutputSettings(...).connection holds, plus tuning. */
export interface IntakeConnection {
  readonly bootstrapBrokers: readonly string[];
  readonly tls?: TlsConnectOptions;
  readonly sasl?: { readonly mechanism: string; readonly username: string; readonly password: string };
  readonly clientId: string;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly retryDelayMs: number;
}

export type IntakeMessage = Message<Buffer, Buffer, string, string>;
export type IntakeStream = MessagesStream<Buffer, Buffer, string, string>;
export type IntakeConsumer = Consumer<Buffer, Buffer, string, string>;
export type IntakeProducer = Producer<Buffer, Buffer, string, string>;
export type IntakeAdmin = Admin;

function baseOptions(connection: IntakeConnection, role: string) {
  return {
    clientId: `${connection.clientId}-${role}`,
    bootstrapBrokers: [...connection.bootstrapBrokers],
    ...(connection.tls !== undefined && { tls: connection.tls }),
    ...(connection.sasl !== undefined && {
      sasl: { ...connection.sasl } as { mechanism: 'PLAIN'; username: string; password: string },
    }),
    connectTimeout: connection.connectTimeoutMs,
    requestTimeout: connection.requestTimeoutMs,
    retryDelay: connection.retryDelayMs,
  };
}

const serializers = {
  key: (key?: Buffer) => key,
  value: (value?: Buffer) => value,
  headerKey: stringSerializer,
  headerValue: stringSerializer,
};

/** Retries of an intake write: with intakeRetryDelayMs, about 5 s of waiting in all. */
const INTAKE_RETRIES = 24;

/** 10 ms, doubling to at most 250 ms: quick for a busy coordinator, patient for a leader election. */
function intakeRetryDelayMs(attempt: number): number {
  return Math.min(250, 10 * 2 ** Math.max(0, attempt - 1));
}

/**
 * An intake producer: idempotent with acks=all and, given a `transactionalId` (unique to this
 * process), transactional, so that a request's batches that land on several partitions become
 * visible to the consumers all together or not at all.
 */
export function createIntakeProducer(connection: IntakeConnection, transactionalId?: string): IntakeProducer {
  return new Producer<Buffer, Buffer, string, string>({
    ...baseOptions(connection, 'intake'),
    idempotent: true,
    ...(transactionalId !== undefined && { transactionalId }),
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
    // Two kinds of wait, one schedule: right after a commit the coordinator is still writing its
    // markers and answers the next transaction's AddPartitionsToTxn with CONCURRENT_TRANSACTIONS
    // for a moment (the Java client retries it every 20 ms), so the first retries come quickly;
    // a leader that moves (a broker's controlled shutdown in a rolling restart) takes up to
    // seconds, so later ones back off, and together they last about as long as the writer waits
    // for a write (5 s) before it answers 503. A rolling restart is then no outage to clients.
    retries: INTAKE_RETRIES,
    retryDelay: (_client, _operation, attempt) => intakeRetryDelayMs(attempt),
    // The transaction timeout too: an instance that dies mid-transaction holds back readers of the
    // partitions it wrote to (read_committed) for at most this long.
    timeout: 10_000,
    serializers,
  });
}

/** Idempotent, acks=all producer of the state and dead-letter topics (each record on its own). */
export function createStateProducer(connection: IntakeConnection): IntakeProducer {
  return new Producer<Buffer, Buffer, string, string>({
    ...baseOptions(connection, 'state'),
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
    retries: 5,
    serializers,
  });
}

export interface GroupConsumerTuning {
  readonly groupId: string;
  /**
   * Awaited before each JoinGroup, so before partitions this member gave up in a cooperative
   * rebalance are handed to others: the moment to finish their work and commit it.
   */
  readonly beforeJoin: () => Promise<void>;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
}

/**
 * The group member. Offsets are committed by us, only up to what every connection has had
 * acknowledged (never autocommit, which commits on fetch); reading starts at the committed offset
 * and, where there is none, at the earliest (the library's defaults start at the end and would skip
 * what was accepted before the first commit). Cooperative-sticky rebalancing lets partitions that
 * stay put keep working while others move. Only committed transactions are read.
 */
export function createGroupConsumer(connection: IntakeConnection, tuning: GroupConsumerTuning): IntakeConsumer {
  return new Consumer<Buffer, Buffer, string, string>({
    ...baseOptions(connection, 'processing'),
    groupId: tuning.groupId,
    autocommit: false,
    sessionTimeout: tuning.sessionTimeoutMs,
    heartbeatInterval: tuning.heartbeatIntervalMs,
    rebalanceTimeout: tuning.rebalanceTimeoutMs,
    protocols: [{ name: 'cooperative-sticky', version: 3 }],
    // The user data is empty; the cooperative protocol's owned partitions are encoded apart.
    protocolsMetadata: async () => {
      await tuning.beforeJoin();
      return Buffer.alloc(0);
    },
    maxWaitTime: 250,
    retries: 5,
    deserializers: {
      key: (key?: Buffer) => key,
      value: (value?: Buffer) => value,
      headerKey: (value?: Buffer) => value?.toString('utf8') ?? '',
      headerValue: (value?: Buffer) => value?.toString('utf8') ?? '',
    },
  });
}

/** Joins the group and starts the stream of the intake topic, from the committed offsets. */
export function consumeIntake(consumer: IntakeConsumer, topic: string): Promise<IntakeStream> {
  return consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.COMMITTED,
    fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    autocommit: false,
  });
}

export function createIntakeAdmin(connection: IntakeConnection): IntakeAdmin {
  return new Admin({ ...baseOptions(connection, 'admin'), retries: 3 });
}

/** A reader outside the group: reads given partitions of a topic from given offsets (restore, dlq). */
export function createReader(connection: IntakeConnection, role: string): IntakeConsumer {
  return new Consumer<Buffer, Buffer, string, string>({
    ...baseOptions(connection, role),
    groupId: `${connection.clientId}-${role}-reader`,
    autocommit: false,
    retries: 3,
  });
}

/** The partition a keyed record goes to, as the Java client's partitioner would pick it. */
export function partitionForKey(key: Buffer, partitions: number): number {
  return compatibilityPartitioner(undefined as never, key) % partitions;
}

/**
 * Whether a Kafka protocol error of that name (ProtocolError's apiId, as TOPIC_ALREADY_EXISTS) is
 * the error or lies anywhere within it: the library nests a broker's answer in MultipleErrors
 * (`errors`) and wraps it again in `cause`. Decided from the structured fields, never from text.
 */
export function hasKafkaProtocolError(error: unknown, apiId: string): boolean {
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): boolean => {
    if (typeof value !== 'object' || value === null || seen.has(value) || depth > 8) return false;
    seen.add(value);
    const candidate = value as { apiId?: unknown; errors?: unknown; cause?: unknown };
    if (GenericError.isGenericError(value as Error) && candidate.apiId === apiId) return true;
    if (Array.isArray(candidate.errors) && candidate.errors.some((nested) => visit(nested, depth + 1))) return true;
    return visit(candidate.cause, depth + 1);
  };
  return visit(error, 0);
}
