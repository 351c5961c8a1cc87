// The one declaration of kafka-forwarder's configuration file (kafka-forwarder.yaml): every setting's
// type, default and description lives here and nowhere else. The loader validates against it (and
// fills in its defaults), `scripts/gen-config-docs.ts` writes docs/configuration.md from it, and
// the exported `default…` objects below are read out of it, so a default cannot differ between
// the code, the docs and the file.
//
// The schema describes the file as written (snake_case keys, `*_file` alternatives for secrets and
// PEMs). Three annotation keywords carry what JSON Schema has no word for:
//   x-mparticle  the mParticle Kafka setting a key mirrors (table and setting name), for the docs;
//   x-secret     the value is a secret: never echoed in errors, redacted when printed;
//   x-file-for   this `*_file` key names a file whose contents become the sibling key's value.

import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { SUPPORTED_EVENT_TYPES } from '../format/index.ts';
import type { AdminConfig, ConnectionSettings, LogLevel, OutputConfig, ServerConfig, SpoolConfig } from './types.ts';

type MparticleTable = 'Configuration Settings' | 'Connection Settings';

/** The subset of JSON Schema used here, with our annotation keywords. */
export interface SettingSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | ('string' | 'array')[];
  description?: string;
  default?: unknown;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  minItems?: number;
  uniqueItems?: boolean;
  items?: SettingSchema;
  properties?: Record<string, SettingSchema>;
  required?: readonly string[];
  /** false for a settings object; a schema for a map (e.g. topic_by_event_type's topics). */
  additionalProperties?: false | SettingSchema;
  propertyNames?: SettingSchema;
  examples?: readonly unknown[];
  'x-mparticle'?: { integration: string; table: MparticleTable; setting: string };
  'x-secret'?: true;
  'x-file-for'?: string;
}

/** A setting that mirrors one of mParticle's Kafka settings; says so in its description, too. */
function mirrorsSetting(
  table: MparticleTable,
  setting: string,
  schema: SettingSchema,
  integration = 'Kafka',
): SettingSchema {
  return {
    ...schema,
    description: `${schema.description ?? ''} Mirrors mParticle's ${integration} ${table} → "${setting}".`.trim(),
    'x-mparticle': { integration, table, setting },
  };
}

/** A `*_file` alternative to a setting: the file's contents become that setting's value. */
function fileFor(setting: string, what: string): SettingSchema {
  return {
    type: 'string',
    minLength: 1,
    description: `Path of a file holding ${what}; its contents become \`${setting}\`. Relative paths are relative to the configuration file's directory. Set this or \`${setting}\`, not both.`,
    'x-file-for': setting,
  };
}

const millis = (description: string, defaultValue: number, minimum = 1): SettingSchema => ({
  type: 'integer',
  minimum,
  default: defaultValue,
  description,
});

const name = (what: string, use = 'connections refer to it'): SettingSchema => ({
  type: 'string',
  minLength: 1,
  description: `Name of this ${what}, unique among ${what}s; ${use}.`,
});

const mirrors = mirrorsSetting;

const connectionSettingsSchema: SettingSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: "mParticle's Kafka Connection Settings for this connection.",
  properties: {
    unique_id: mirrors('Connection Settings', 'Unique ID', {
      type: 'string',
      minLength: 1,
      description:
        'An optional identifier for your app, forwarded as `unique_id` with each event batch. Unset: not forwarded.',
    }),
    metadata_field_exclusion: mirrors('Connection Settings', 'Metadata Field Exclusion', {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', enum: ['device_name', 'ip_address'] },
      default: [],
      description:
        'Metadata fields to drop from forwarded batches: `device_name` drops `device_info.device`, `ip_address` drops `ip`.',
    }),
    send_network_performance_events: mirrors('Connection Settings', 'Send Network Performance Events', {
      type: 'boolean',
      default: true,
      description: 'Forward network performance events.',
    }),
    send_as_batch: mirrors('Connection Settings', 'Send as Batch', {
      type: 'boolean',
      default: true,
      description:
        "Forward each device's events in batches gathered over `batch_window_ms`; false forwards each event on its own as it arrives. Ignored when `wait_for_complete_batch` is true.",
    }),
    batch_window_ms: {
      type: 'integer',
      minimum: 1,
      default: 600000,
      description:
        'With `send_as_batch`, how long events of one device are gathered before they are forwarded together: mParticle\'s "(roughly) 10-minute batches per device".',
    },
    wait_for_complete_batch: mirrors(
      'Connection Settings',
      'Wait for Complete Batch',
      {
        type: 'boolean',
        default: false,
        description:
          "Forward a session's events once the session has ended, so that each batch holds a whole session. Takes precedence over `send_as_batch`.",
      },
      'Kinesis, Firehose and Webhook',
    ),
    session_timeout_ms: millis(
      'With `wait_for_complete_batch`, forward a session that has not ended after this long anyway, so that a lost session_end cannot hold events back for ever.',
      1800000,
    ),
    include_location_information: mirrors('Connection Settings', 'Include Location Information', {
      type: 'boolean',
      default: true,
      description: "Forward events' location data.",
    }),
    include_metadata: mirrors('Connection Settings', 'Include Metadata', {
      type: 'boolean',
      default: true,
      description: 'Forward the metadata `application_info`, `device_info` and `source_info`.',
    }),
    include_user_attribute_change_events: mirrors('Connection Settings', 'Include User Attribute Change Events', {
      type: 'boolean',
      default: false,
      description: 'Forward user attribute change events.',
    }),
    include_user_identity_change_events: mirrors('Connection Settings', 'Include User Identity Change Events', {
      type: 'boolean',
      default: false,
      description: 'Forward user identity change events.',
    }),
    send_batches_without_events: mirrors('Connection Settings', 'Send Batches without Events', {
      type: 'boolean',
      default: true,
      description: 'Forward batches that hold no events.',
    }),
    include_mp_device_id: mirrors('Connection Settings', 'Include MP DeviceId', {
      type: 'boolean',
      default: false,
      description: 'Forward the MP DeviceId (`mp_deviceid`) with event batches.',
    }),
    include_event_batch_location: mirrors('Connection Settings', 'Include Event Batch Location', {
      type: 'boolean',
      default: false,
      description: "Forward the batch's `context.location` data.",
    }),
  },
};

/**
 * The settings of a connection to a Kafka cluster and a topic on it: an output's, and the Kafka
 * spool's intake. `mirror` says whether to tag the settings that mirror mParticle's (an output's
 * are mParticle's Configuration Settings; the intake's are our own).
 */
function kafkaClusterProperties(mirror: boolean, topic: SettingSchema): Record<string, SettingSchema> {
  const mirrors = mirror ? mirrorsSetting : (_table: MparticleTable, _setting: string, schema: SettingSchema) => schema;
  return {
    bootstrap_servers: mirrors('Configuration Settings', 'Apache Kafka Bootstrap Servers', {
      type: ['string', 'array'],
      items: { type: 'string' },
      examples: ['broker-1.example.com:9093,broker-2.example.com:9093'],
      description:
        'Comma-separated `host:port` list of Kafka brokers to discover the cluster from (a YAML list is accepted too). The forwarder uses every broker of the cluster, whichever are listed.',
    }),
    topic: mirrors('Configuration Settings', 'Topic Name', topic),
    authentication_method: mirrors('Configuration Settings', 'Authentication Method', {
      type: 'string',
      enum: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
      default: 'PLAIN',
      description:
        'SASL mechanism used with `username` and `password` (SASL_SSL). Without a username the connection authenticates by TLS alone (SSL).',
    }),
    username: mirrors('Configuration Settings', 'User Name', {
      type: 'string',
      minLength: 1,
      description: 'SASL user name for your Kafka cluster. Leave unset (with `password`) to use TLS alone.',
    }),
    password: mirrors('Configuration Settings', 'Password', {
      type: 'string',
      minLength: 1,
      'x-secret': true,
      description:
        'SASL password for your Kafka cluster. Write `${ENV_VAR}` or use `password_file` to keep it out of this file.',
    }),
    password_file: fileFor('password', 'the SASL password'),
    ca_pem: {
      type: 'string',
      description:
        "PEM certificates of the certificate authorities to trust for the brokers' TLS certificates, for private CAs. When set, only these CAs are trusted (like Kafka's ssl.truststore.location). Unset: the publicly trusted CAs, as at mParticle.",
    },
    ca_file: fileFor('ca_pem', 'the PEM CA certificates'),
    client_cert_pem: {
      type: 'string',
      description: 'PEM client certificate for mutual TLS; needs `client_key_pem`.',
    },
    client_cert_file: fileFor('client_cert_pem', 'the PEM client certificate'),
    client_key_pem: {
      type: 'string',
      'x-secret': true,
      description: 'PEM private key (unencrypted) of `client_cert_pem`.',
    },
    client_key_file: fileFor('client_key_pem', 'the PEM client private key'),
    compression: {
      type: 'string',
      enum: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
      default: 'none',
      description: 'Compression of record batches sent to Kafka.',
    },
    max_message_bytes: {
      type: 'integer',
      minimum: 1024,
      default: 1048576,
      description:
        "Largest record the output sends; keep it at or below the topic's `max.message.bytes` (and the brokers' `message.max.bytes`).",
    },
    client_id: {
      type: 'string',
      minLength: 1,
      default: 'kafka-forwarder',
      description: 'Kafka client id, shown in broker logs and quotas.',
    },
    linger_ms: millis('How long the producer waits to fill a request before sending it.', 5, 0),
    batch_max_bytes: {
      type: 'integer',
      minimum: 1024,
      default: 1048576,
      description: 'Most bytes of records the producer gathers for one partition before sending them.',
    },
    retry_backoff_min_ms: millis('First wait before a failed send is retried; doubles on each retry.', 100),
    retry_backoff_max_ms: millis('Longest wait between retries of a failed send.', 30000),
    request_timeout_ms: millis('How long the producer waits for a broker to answer a request.', 30000),
    connect_timeout_ms: millis('How long the producer waits for a TCP and TLS connection to a broker.', 10000),
  };
}

const outputSchema: SettingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'bootstrap_servers', 'topic'],
  description: 'A Kafka cluster and topic that connections forward to.',
  properties: {
    name: name('output'),
    ...kafkaClusterProperties(true, { type: 'string', minLength: 1, description: 'The Kafka topic to publish to.' }),
    headers: {
      type: 'array',
      uniqueItems: true,
      default: [],
      items: {
        type: 'string',
        enum: ['batch_id', 'message_id', 'event_type', 'input', 'source_request_id', 'content-type'],
      },
      description:
        "Kafka record headers to set on each record, beyond mParticle (which sets none): `batch_id`, `source_request_id`, `input` (the input's name), `content-type` (`application/json`), and on per-event records (Send as Batch off) `message_id` and `event_type`. A value the batch lacks is left out.",
    },
    topic_by_event_type: {
      type: 'object',
      propertyNames: { enum: [...SUPPORTED_EVENT_TYPES] },
      additionalProperties: { type: 'string', minLength: 1 },
      description:
        'With Send as Batch off, the topic for the records of an event type, e.g. `{commerce_event: purchases, screen_view: page-views}`; other types go to `topic`. Batch records (Send as Batch on) hold several types and always go to `topic`. `test-connection` checks every topic named here.',
    },
    key: {
      type: 'string',
      enum: ['mpid', 'customer_id', 'mp_deviceid'],
      default: 'mpid',
      description:
        "What each record's key is: `mpid` (as at mParticle), the `customer_id` user identity, or the batch's `mp_deviceid` (then every connection to this output needs `include_mp_device_id: true`). A batch without it gets no key and its records are spread over the partitions. Kafka keeps order per key, so each user's (or customer's, or device's) events stay in order.",
    },
    degraded_after_ms: millis(
      'How long the output may keep retrying (brokers unreachable, leaders moving) before `/readyz` reports it as degraded; the spool keeps its batches meanwhile. An output that has not reached its brokers once since the start, or that is paused by a setting to fix, is reported at once.',
      60000,
    ),
  },
};

const inputSchema: SettingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'credentials'],
  description: 'An Events API input: the API key/secret pairs that may post batches to it.',
  properties: {
    name: name('input'),
    credentials: {
      type: 'array',
      minItems: 1,
      description: 'The key/secret pairs accepted (HTTP Basic auth), e.g. two while rotating a secret.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['api_key'],
        properties: {
          api_key: {
            type: 'string',
            minLength: 1,
            description: 'API key (HTTP Basic user name); unique across inputs.',
          },
          api_secret: {
            type: 'string',
            minLength: 1,
            'x-secret': true,
            description: 'API secret (HTTP Basic password). Write `${ENV_VAR}` or use `api_secret_file`.',
          },
          api_secret_file: fileFor('api_secret', 'the API secret'),
        },
      },
    },
  },
};

const serverSchema: SettingSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: "The HTTP server that takes mParticle's Events API.",
  properties: {
    host: { type: 'string', minLength: 1, default: '0.0.0.0', description: 'Address to listen on.' },
    port: {
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      default: 8080,
      description: 'Port to listen on; 0 picks a free one.',
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      description:
        'Serve HTTPS with this certificate and key. Unset: plain HTTP, for use behind a TLS-terminating proxy.',
      properties: {
        cert_pem: { type: 'string', description: 'PEM server certificate (with its chain).' },
        cert_file: fileFor('cert_pem', 'the PEM server certificate'),
        key_pem: { type: 'string', 'x-secret': true, description: 'PEM private key (unencrypted) of `cert_pem`.' },
        key_file: fileFor('key_pem', 'the PEM server private key'),
      },
    },
    max_request_bytes: {
      type: 'integer',
      minimum: 1024,
      default: 262144,
      description: 'Largest request body accepted (after gzip decoding), as at mParticle: 256 KiB.',
    },
    max_batch_bytes: {
      type: 'integer',
      minimum: 1024,
      default: 131072,
      description: 'Largest single batch accepted, as at mParticle: 128 KiB.',
    },
    max_batches_per_bulk: {
      type: 'integer',
      minimum: 1,
      default: 100,
      description: 'Most batches in one `/v2/bulkevents` request, as at mParticle: 100.',
    },
    max_in_flight_bytes: {
      type: 'integer',
      minimum: 262144,
      default: 67108864,
      description:
        'Most request body bytes held in memory at once, across all requests (64 MiB). Beyond it, new requests get 429 with Retry-After, so that many concurrent uploads cannot exhaust memory.',
    },
    shutdown_timeout_ms: millis('On shutdown, how long in-flight requests may take to finish.', 30000),
  },
};

const adminSchema: SettingSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    'The admin listener: `GET /metrics` (Prometheus), `/healthz` (liveness) and `/readyz` (readiness), apart from the public ingest port. Loopback by default, so nothing operational is exposed where the Events API is; in a container or pod set `host: 0.0.0.0` for the probes and the scraper.',
  properties: {
    host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Address the admin listener binds.' },
    port: {
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      default: 9464,
      description: "Port of the admin listener (9464, Prometheus' default for exporters); 0 picks a free one.",
    },
  },
};

const intakeSchema: SettingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['bootstrap_servers'],
  description:
    'With `kind: kafka`: the Kafka cluster holding the intake topic, declared like an output (often the same cluster), and the topics and consumer group cluster mode uses on it.',
  properties: {
    ...kafkaClusterProperties(false, {
      type: 'string',
      minLength: 1,
      default: 'kafka-forwarder-intake',
      description:
        'The intake topic: every accepted batch is written here, keyed by MPID (else mp_deviceid), before the 202. Created if missing.',
    }),
    group_id: {
      type: 'string',
      minLength: 1,
      default: 'kafka-forwarder',
      description:
        'Consumer group every instance joins on the intake topic; the intake partitions are shared among its members. Instances of one deployment must use the same one.',
    },
    partitions: {
      type: 'integer',
      minimum: 1,
      default: 12,
      description:
        'Partitions of the intake topic (and of the state topic) when the forwarder creates them: the most instances that can share the processing. Ignored for a topic that exists.',
    },
    replication_factor: {
      type: 'integer',
      minimum: 1,
      default: 3,
      description:
        "Replicas of each topic the forwarder creates (intake, state, dead letters). Set the topics' `min.insync.replicas` below it so that one broker can be lost.",
    },
    state_topic: {
      type: 'string',
      minLength: 1,
      default: 'kafka-forwarder-state',
      description:
        "Compacted topic holding each intake partition's deduplication state (source_request_ids seen), restored by the partition's next owner. Created if missing, with the intake topic's partition count.",
    },
    dead_letter_topic: {
      type: 'string',
      minLength: 1,
      default: 'kafka-forwarder-dead-letters',
      description:
        'Compacted topic holding the dead letters of every connection (`kafka-forwarder dlq` works on it). Created if missing.',
    },
    session_timeout_ms: millis(
      "How long an instance may go unheard (crashed, cut off, paused) before the consumer group gives its intake partitions to the other instances: the failover time after a crash. Within the brokers' `group.min.session.timeout.ms` and `group.max.session.timeout.ms` (6 s and 30 min by default).",
      10000,
    ),
    max_buffered_bytes: {
      type: 'integer',
      minimum: 1048576,
      default: 268435456,
      description:
        'Most intake bytes an instance holds in memory (batches read but not yet acknowledged by every connection, including those waiting in open windows). Beyond it the instance stops reading the intake until Kafka acknowledges what it holds; the backlog shows as consumer lag.',
    },
  },
};

const spoolSchema: SettingSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    "Where accepted batches wait until Kafka has them: on this machine's disk (`kind: local`), or in an intake topic on a Kafka cluster shared by many forwarder instances (`kind: kafka`, see docs/scaling.md).",
  properties: {
    kind: {
      type: 'string',
      enum: ['local', 'kafka'],
      default: 'local',
      description:
        '`local`: one process, a SQLite spool on local disk (`path`). `kafka`: cluster mode; every instance writes accepted batches to the intake topic of `spool.kafka`, and the instances share the processing in one consumer group.',
    },
    kafka: intakeSchema,
    path: {
      type: 'string',
      minLength: 1,
      default: 'var/spool',
      description: "Directory of the spool. Relative paths are relative to the process's working directory.",
    },
    max_bytes: {
      type: 'integer',
      minimum: 1048576,
      default: 1073741824,
      description: 'Most bytes the spool may hold (1 GiB by default).',
    },
    high_water_ratio: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.9,
      description: 'Above this share of `max_bytes`, new batches are refused with 429 until Kafka catches up.',
    },
    min_free_disk_bytes: {
      type: 'integer',
      minimum: 0,
      default: 67108864,
      description:
        "Free space kept on the spool's filesystem (64 MiB by default; space freed inside the spool file counts as free). While less is free, new batches are refused with 429 and Retry-After, so that recording Kafka's acknowledgements, trimming delivered batches and checkpointing always find room: a disk that fills up recovers by itself once Kafka has the batches. Set it above the largest burst the disk may take between two checks (a few commits, e.g. `server.max_in_flight_bytes`).",
    },
    dedup_window_ms: millis(
      'How long an accepted source_request_id is remembered (per input), so that a client retrying an accepted batch does not forward it twice.',
      86400000,
      0,
    ),
  },
};

/** The schema of kafka-forwarder.yaml. */
export const configSchema: SettingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['inputs', 'outputs', 'connections'],
  properties: {
    log_level: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      description: 'Least severe log level written.',
    },
    server: serverSchema,
    admin: adminSchema,
    spool: spoolSchema,
    inputs: {
      type: 'array',
      minItems: 1,
      items: inputSchema,
      description: 'Events API inputs (API key/secret pairs). Each needs at least one connection.',
    },
    outputs: {
      type: 'array',
      minItems: 1,
      items: outputSchema,
      description: "Kafka outputs: mParticle's Kafka Configuration Settings.",
    },
    connections: {
      type: 'array',
      minItems: 1,
      description: 'Routes from an input to an output. One input may feed several outputs.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'input', 'output'],
        description: 'Forwards batches from `input` to `output` with mParticle Connection Settings.',
        properties: {
          name: name('connection', 'logs and metrics use it'),
          input: {
            type: 'string',
            minLength: 1,
            description: 'Name of the input whose batches this connection forwards.',
          },
          output: { type: 'string', minLength: 1, description: 'Name of the output this connection forwards to.' },
          settings: connectionSettingsSchema,
        },
      },
    },
  },
};

let compiled: ValidateFunction | undefined;

/** The schema compiled once (all errors, defaults filled in, no type coercion). */
export function configValidator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
    ajv.addVocabulary(['x-mparticle', 'x-secret', 'x-file-for']);
    compiled = ajv.compile(configSchema);
  }
  return compiled;
}

export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_whole, letter: string) => letter.toUpperCase());
}

/** The `default`s of an object schema's properties, under camelCase names. */
function defaultsOf(schema: SettingSchema): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (property.default !== undefined) defaults[snakeToCamel(key)] = structuredClone(property.default);
  }
  return defaults;
}

type OutputDefaults = Pick<
  OutputConfig,
  | 'authenticationMethod'
  | 'compression'
  | 'maxMessageBytes'
  | 'clientId'
  | 'lingerMs'
  | 'batchMaxBytes'
  | 'retryBackoffMinMs'
  | 'retryBackoffMaxMs'
  | 'requestTimeoutMs'
  | 'connectTimeoutMs'
  | 'degradedAfterMs'
  | 'key'
  | 'headers'
>;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

// Read out of the schema; frozen so that no caller can change a default for everyone.
export const defaultConnectionSettings: Readonly<ConnectionSettings> = deepFreeze(
  defaultsOf(connectionSettingsSchema) as unknown as ConnectionSettings,
);
export const defaultOutputSettings: Readonly<OutputDefaults> = deepFreeze(
  defaultsOf(outputSchema) as unknown as OutputDefaults,
);
export const defaultServerConfig: Readonly<Omit<ServerConfig, 'tls'>> = deepFreeze(
  defaultsOf(serverSchema) as unknown as ServerConfig,
);
export const defaultAdminConfig: Readonly<AdminConfig> = deepFreeze(defaultsOf(adminSchema) as unknown as AdminConfig);
export const defaultSpoolConfig: Readonly<SpoolConfig> = deepFreeze(defaultsOf(spoolSchema) as unknown as SpoolConfig);
export const defaultLogLevel = configSchema.properties?.log_level.default as LogLevel;
