// Gives tests the shared Kafka cluster the test runner started (its descriptor path is in an env
// var), or starts a private one when the file runs on its own (`node --test test/x.test.ts`).
// A private cluster belongs to this test process: its watchdogs kill it when the process ends.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { attachKafkaCluster, startKafkaCluster, type KafkaCluster } from '../../tools/kafka/cluster.ts';
import type { KafkaOutputSettings } from '../../src/sinks/kafka/config.ts';
import type { IntakeConnection } from '../../src/spool/kafka/client.ts';
import {
  kafkaConnection,
  type KafkaConnection,
  type KafkaSecuritySettings,
} from '../../src/sinks/kafka/kafka-client.ts';
import {
  connectPlaintextForTests,
  createConsumer,
  MessagesStreamModes,
  type ConsumedMessage,
} from '../../tools/kafka/client.ts';

export type { KafkaCluster } from '../../tools/kafka/cluster.ts';

/** Env vars through which scripts/run-tests.ts hands the shared clusters to test processes. */
export const TEST_CLUSTER_ENV = {
  1: 'KAFKA_FORWARDER_TEST_CLUSTER',
  3: 'KAFKA_FORWARDER_TEST_CLUSTER3',
} as const;

const clusters = new Map<1 | 3, Promise<KafkaCluster>>();

/** The 1-broker (default) or 3-broker test cluster; started once per process if not shared. */
export function getTestKafkaCluster(brokers: 1 | 3 = 1): Promise<KafkaCluster> {
  let cluster = clusters.get(brokers);
  if (cluster === undefined) {
    cluster = openCluster(brokers);
    clusters.set(brokers, cluster);
  }
  return cluster;
}

async function openCluster(brokers: 1 | 3): Promise<KafkaCluster> {
  const descriptorPath = process.env[TEST_CLUSTER_ENV[brokers]];
  if (descriptorPath !== undefined && descriptorPath !== '') return attachKafkaCluster(descriptorPath);
  const cluster = await startKafkaCluster({ brokers });
  // Best effort on a normal exit; the watchdogs cover every other way this process can end.
  process.once('exit', () => cluster.signalAllSync('SIGKILL'));
  return cluster;
}

/** The ways a client can connect to a test cluster, as the product configures them. */
export type TestSecurity = 'SSL' | 'MTLS' | 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** Output security settings that work against the cluster for the given variant. */
export function securitySettings(cluster: KafkaCluster, variant: TestSecurity): KafkaSecuritySettings {
  const caPem = readFileSync(cluster.caPemPath, 'utf8');
  switch (variant) {
    case 'SSL':
      return { bootstrapServers: cluster.bootstrapServers('SSL'), mechanism: 'PLAIN', caPem };
    case 'MTLS':
      return {
        bootstrapServers: cluster.bootstrapServers('MTLS'),
        mechanism: 'PLAIN',
        caPem,
        clientCertPem: readFileSync(cluster.clientCertPemPath, 'utf8'),
        clientKeyPem: readFileSync(cluster.clientKeyPemPath, 'utf8'),
      };
    case 'PLAIN':
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512': {
      const user =
        variant === 'PLAIN'
          ? cluster.users.plain
          : variant === 'SCRAM-SHA-256'
            ? cluster.users.scramSha256
            : cluster.users.scramSha512;
      return {
        bootstrapServers: cluster.bootstrapServers('SASL_SSL'),
        mechanism: variant,
        username: user.username,
        password: user.password,
        caPem,
      };
    }
  }
}

/** A topic name no other test uses. */
export function uniqueTopicName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** How the Kafka spool's own clients reach a test cluster (plaintext, short timeouts). */
export function plaintextIntakeConnection(cluster: KafkaCluster, clientId: string): IntakeConnection {
  return {
    bootstrapBrokers: cluster.bootstrapServers('PLAINTEXT'),
    clientId,
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 15_000,
    retryDelayMs: 100,
  };
}

export function plaintextConnection(cluster: KafkaCluster): KafkaConnection {
  return connectPlaintextForTests(cluster.bootstrapServers('PLAINTEXT', cluster.runningBrokerIds()));
}

export { kafkaConnection };

/**
 * Reads `count` records of a topic from the beginning (plaintext unless a connection is given).
 * Rejects if they do not all arrive within timeoutMs.
 */
export async function readRecords(
  cluster: KafkaCluster,
  topic: string,
  count: number,
  options: { connection?: KafkaConnection; timeoutMs?: number } = {},
): Promise<ConsumedMessage[]> {
  const consumer = createConsumer(options.connection ?? plaintextConnection(cluster), {
    groupId: uniqueTopicName('test-reader'),
    clientId: 'test-reader',
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
  });
  const records: ConsumedMessage[] = [];
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
      maxWaitTime: 200,
    });
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`read ${records.length} of ${count} records from ${topic} in ${timeoutMs} ms`));
      }, timeoutMs);
    });
    const collect = (async () => {
      for await (const message of stream) {
        records.push(message);
        if (records.length >= count) break;
      }
    })();
    try {
      await Promise.race([collect, timedOut]);
    } finally {
      await stream.close().catch(() => {});
      await collect.catch(() => {});
    }
    return records;
  } finally {
    clearTimeout(timer);
    await consumer.close(true).catch(() => {});
  }
}

/** Kafka sink settings on the test cluster's plaintext listener, for tests that drive KafkaService directly. */
export function testOutputSettings(
  cluster: KafkaCluster,
  topic: string,
  overrides: Partial<KafkaOutputSettings> = {},
): KafkaOutputSettings {
  return {
    output: 'test-output',
    topic,
    connection: plaintextConnection(cluster),
    client: { clientId: 'service-test', connectTimeoutMs: 5000, requestTimeoutMs: 10_000 },
    compression: 'none',
    maxRecordBytes: 1_000_000,
    requestMaxBytes: 1_000_000,
    lingerMs: 0,
    retryBackoffMinMs: 50,
    retryBackoffMaxMs: 200,
    degradedAfterMs: 60_000,
    keyField: 'mpid',
    headerFields: [],
    topicByEventType: undefined,
    description: { bootstrapServers: 'test', securityProtocol: 'PLAINTEXT', topic },
    ...overrides,
  };
}
