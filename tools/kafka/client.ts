// Kafka clients for test tooling, benchmarks and the demo: a plaintext connection to the local test
// broker, and a consumer that reads the forwarder's records back. The product never consumes and
// never connects without TLS, so neither lives in src/.
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import type { Message } from '@platformatic/kafka';
import type { KafkaConnection } from '../../src/sinks/kafka/kafka-client.ts';

export { MessagesStreamModes };
export type ConsumedMessage = Message<string, string, string, string>;
export type TestConsumer = Consumer<string, string, string, string>;

/** Unencrypted, unauthenticated: only for tooling talking to a local test broker. */
export function connectPlaintextForTests(bootstrapServers: string[]): KafkaConnection {
  return { bootstrapBrokers: [...bootstrapServers], securityProtocol: 'PLAINTEXT' };
}

export interface ConsumerTuning {
  groupId: string;
  clientId?: string;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
}

/** A consumer with string keys, values and headers (the forwarder writes JSON text). */
export function createConsumer(connection: KafkaConnection, tuning: ConsumerTuning): TestConsumer {
  return new Consumer<string, string, string, string>({
    clientId: tuning.clientId ?? 'kafka-forwarder-test-consumer',
    bootstrapBrokers: [...connection.bootstrapBrokers],
    ...(connection.tls !== undefined && { tls: connection.tls }),
    ...(connection.sasl !== undefined && { sasl: { ...connection.sasl } }),
    groupId: tuning.groupId,
    deserializers: stringDeserializers,
    ...(tuning.sessionTimeoutMs !== undefined && { sessionTimeout: tuning.sessionTimeoutMs }),
    ...(tuning.heartbeatIntervalMs !== undefined && { heartbeatInterval: tuning.heartbeatIntervalMs }),
  });
}
