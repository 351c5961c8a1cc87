// An output's configuration (OutputConfig, as the loader gives it) turned into what the Kafka sink
// needs: a client connection, client tuning, and the sink's own limits. No defaults live here; the
// config schema is the one place for them.
import type { Compression, OutputConfig } from '../../config/index.ts';
import type { RecordKeyField } from './record-key.ts';
import type { HeaderField } from './request-builder.ts';
import {
  kafkaConnection,
  type ClientTuning,
  type KafkaConnection,
  type KafkaSecuritySettings,
} from './kafka-client.ts';

export interface KafkaOutputSettings {
  /** The output's name: metric label, log field, readiness reason. */
  readonly output: string;
  readonly topic: string;
  readonly connection: KafkaConnection;
  readonly client: ClientTuning;
  readonly compression: Compression;
  /** Largest record value the sink sends (max_message_bytes less room for the record framing). */
  readonly maxRecordBytes: number;
  /**
   * Most record bytes in one produce request. The client puts all of a request's records for one
   * partition into one record batch, and the topic's max.message.bytes bounds that batch, so a
   * request is kept under both batch_max_bytes and max_message_bytes.
   */
  readonly requestMaxBytes: number;
  readonly lingerMs: number;
  readonly retryBackoffMinMs: number;
  readonly retryBackoffMaxMs: number;
  /** What the record key is made of (outputs[].key). */
  readonly keyField: RecordKeyField;
  /** The record headers it sets (outputs[].headers). */
  readonly headerFields: readonly HeaderField[];
  /** Per-event records of these event types go to these topics (outputs[].topic_by_event_type). */
  readonly topicByEventType: Readonly<Record<string, string>> | undefined;
  /** Retrying longer than this makes the output degraded (outputs[].degraded_after_ms). */
  readonly degradedAfterMs: number;
  /** Where and how it connects, for logs (no secrets). */
  readonly description: { bootstrapServers: string; securityProtocol: string; mechanism?: string; topic: string };
}

/**
 * Room kept below a topic's max.message.bytes for the record's key, headers and batch framing:
 * record values (and the windows that become them) are cut at max_message_bytes minus this.
 */
export const RECORD_OVERHEAD_BYTES = 1024;

/** The Kafka client's security settings of an output (TLS always; SASL when a username is set). */
export function outputSecurity(output: OutputConfig): KafkaSecuritySettings {
  return {
    bootstrapServers: output.bootstrapServers,
    mechanism: output.authenticationMethod,
    ...(output.username !== undefined && { username: output.username }),
    ...(output.password !== undefined && { password: output.password }),
    ...(output.caPem !== undefined && { caPem: output.caPem }),
    ...(output.clientCertPem !== undefined && { clientCertPem: output.clientCertPem }),
    ...(output.clientKeyPem !== undefined && { clientKeyPem: output.clientKeyPem }),
  };
}

export function kafkaOutputSettings(output: OutputConfig): KafkaOutputSettings {
  const connection = kafkaConnection(outputSecurity(output));
  const maxRecordBytes = Math.max(1, output.maxMessageBytes - RECORD_OVERHEAD_BYTES);
  return {
    output: output.name,
    topic: output.topic,
    connection,
    client: {
      clientId: output.clientId,
      connectTimeoutMs: output.connectTimeoutMs,
      requestTimeoutMs: output.requestTimeoutMs,
      retryDelayMs: output.retryBackoffMinMs,
    },
    compression: output.compression,
    maxRecordBytes,
    requestMaxBytes: Math.max(
      maxRecordBytes,
      Math.min(output.batchMaxBytes, output.maxMessageBytes) - RECORD_OVERHEAD_BYTES,
    ),
    lingerMs: output.lingerMs,
    retryBackoffMinMs: output.retryBackoffMinMs,
    retryBackoffMaxMs: Math.max(output.retryBackoffMinMs, output.retryBackoffMaxMs),
    degradedAfterMs: output.degradedAfterMs,
    keyField: output.key,
    headerFields: output.headers,
    topicByEventType: output.topicByEventType,
    description: {
      bootstrapServers: output.bootstrapServers.join(','),
      securityProtocol: connection.securityProtocol,
      ...(connection.sasl !== undefined && { mechanism: connection.sasl.mechanism }),
      topic: output.topic,
    },
  };
}
