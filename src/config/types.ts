// The typed shape of a loaded kafka-forwarder configuration.
//
// The YAML file uses snake_case keys (as mParticle's settings read); the loader maps them to the
// camelCase names below. Every field here is declared, described and given its default once, in
// `schema.ts`; `test/config/types.test.ts` fails if the two drift apart.

/** Which metadata fields "Metadata Field Exclusion" can drop: device_info.device and ip. */
export type MetadataField = 'device_name' | 'ip_address';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type AuthenticationMethod = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** mParticle's Kafka "Connection Settings", one set per connection. */
export interface ConnectionSettings {
  /** Unique ID (unset): forwarded with each batch. */
  uniqueId?: string;
  /** Metadata Field Exclusion (none). device_name = device_info.device, ip_address = ip. */
  metadataFieldExclusion: MetadataField[];
  sendNetworkPerformanceEvents: boolean;
  sendAsBatch: boolean;
  /** "Roughly 10-minute batches per device"; configurable so tests need not wait. */
  batchWindowMs: number;
  /** Overrides sendAsBatch: forward a session's events once its session_end arrives. */
  waitForCompleteBatch: boolean;
  /** With waitForCompleteBatch, forward a session that never gets session_end after this long. */
  sessionTimeoutMs: number;
  includeLocationInformation: boolean;
  includeMetadata: boolean;
  includeUserAttributeChangeEvents: boolean;
  includeUserIdentityChangeEvents: boolean;
  sendBatchesWithoutEvents: boolean;
  includeMpDeviceId: boolean;
  includeEventBatchLocation: boolean;
}

/** A route: batches accepted by `input` are forwarded to `output` with these settings. */
export interface ConnectionConfig {
  name: string;
  input: string;
  output: string;
  settings: ConnectionSettings;
}

export interface InputCredential {
  apiKey: string;
  apiSecret: string;
}

/** An Events API input: the key/secret pairs allowed to post to it. */
export interface InputConfig {
  name: string;
  credentials: InputCredential[];
}

/** A Kafka cluster and topic: mParticle's Kafka "Configuration Settings" plus TLS and producer tuning. */
export interface OutputConfig {
  name: string;
  /** host:port pairs, parsed from the comma-separated string (or YAML list). */
  bootstrapServers: string[];
  topic: string;
  authenticationMethod: AuthenticationMethod;
  /** Unset with password unset: TLS client authentication only (mParticle's "SSL" method). */
  username?: string;
  password?: string;
  /** CA certificates (PEM) to trust instead of the public CAs: for brokers with private CAs. */
  caPem?: string;
  /** Client certificate and key (PEM) for mutual TLS; both or neither. */
  clientCertPem?: string;
  clientKeyPem?: string;
  compression: Compression;
  maxMessageBytes: number;
  clientId: string;
  lingerMs: number;
  batchMaxBytes: number;
  retryBackoffMinMs: number;
  retryBackoffMaxMs: number;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  /** How long retrying may last before /readyz reports the output degraded. */
  degradedAfterMs: number;
  /** What the record key is made of. */
  key: 'mpid' | 'customer_id' | 'mp_deviceid';
  /** Record headers to set. */
  headers: ('batch_id' | 'message_id' | 'event_type' | 'input' | 'source_request_id' | 'content-type')[];
  /** Per-event records of these event types go to these topics; keys are event types as written. */
  topicByEventType?: Record<string, string>;
}

export interface ServerTlsConfig {
  certPem: string;
  keyPem: string;
}

/** The HTTP server that takes the Events API. */
export interface ServerConfig {
  host: string;
  port: number;
  /** Unset: plain HTTP (put a TLS-terminating proxy in front). */
  tls?: ServerTlsConfig;
  maxRequestBytes: number;
  maxBatchBytes: number;
  maxBatchesPerBulk: number;
  maxInFlightBytes: number;
  shutdownTimeoutMs: number;
}

/** The admin listener: /metrics, /healthz and /readyz, apart from the ingest port. */
export interface AdminConfig {
  host: string;
  port: number;
}

/**
 * Cluster mode's intake (spool.kafka): a Kafka cluster declared like an output (its topic is the
 * intake topic), plus the consumer group and the topics cluster mode keeps there.
 */
export interface IntakeConfig extends Omit<
  OutputConfig,
  'name' | 'degradedAfterMs' | 'key' | 'headers' | 'topicByEventType'
> {
  groupId: string;
  partitions: number;
  replicationFactor: number;
  stateTopic: string;
  deadLetterTopic: string;
  sessionTimeoutMs: number;
  maxBufferedBytes: number;
}

export type SpoolKind = 'local' | 'kafka';

export interface SpoolConfig {
  kind: SpoolKind;
  /** Set (and only then) when kind is 'kafka'. */
  kafka?: IntakeConfig;
  path: string;
  maxBytes: number;
  highWaterRatio: number;
  minFreeDiskBytes: number;
  dedupWindowMs: number;
}

export interface ForwarderConfig {
  server: ServerConfig;
  admin: AdminConfig;
  spool: SpoolConfig;
  logLevel: LogLevel;
  inputs: InputConfig[];
  outputs: OutputConfig[];
  connections: ConnectionConfig[];
}
