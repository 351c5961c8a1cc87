// Writes a kafka-forwarder.yaml for end-to-end tests and benchmarks: one input, one output on a
// test cluster with the chosen security, one connection. Secrets are written inline on purpose
// (the redaction test wants them in the file the process reads); the PEMs come as *_file paths.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { KafkaCluster, TestSecurity } from '../../support/kafka.ts';

export interface E2eConfigOptions {
  /** Directory the config (kafka-forwarder.yaml) and the spool (spool/) go to. */
  readonly dir: string;
  readonly cluster: KafkaCluster;
  readonly security: TestSecurity;
  readonly topic: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly sendAsBatch?: boolean;
  readonly batchWindowMs?: number;
  readonly logLevel?: string;
  readonly shutdownTimeoutMs?: number;
  /** Bootstrap only these brokers (ids); every broker when absent. */
  readonly bootstrapBrokerIds?: number[];
  /** Extra `outputs[0]` settings (snake_case), e.g. { linger_ms: 0, retry_backoff_max_ms: 1000 }. */
  readonly output?: Record<string, unknown>;
  /** Extra `spool` settings (snake_case). */
  readonly spool?: Record<string, unknown>;
  /**
   * Cluster mode: `spool.kafka` on the output's cluster and listener, with these settings (topic,
   * group_id, ...) on top. Instances written with the same intake share its topics and group.
   */
  readonly intake?: Record<string, unknown>;
}

export const CONNECTION_NAME = 'e2e';
export const OUTPUT_NAME = 'kafka';

/** The configuration as the YAML file holds it (snake_case). */
export function e2eRawConfig(options: E2eConfigOptions): Record<string, unknown> {
  const { cluster, security } = options;
  const listener = security === 'SSL' ? 'SSL' : security === 'MTLS' ? 'MTLS' : 'SASL_SSL';
  const output: Record<string, unknown> = {
    name: OUTPUT_NAME,
    bootstrap_servers: cluster.bootstrapServers(listener, options.bootstrapBrokerIds).join(','),
    topic: options.topic,
    ca_file: cluster.caPemPath,
    // Short backoffs so that a returning broker is noticed within a second or two.
    retry_backoff_min_ms: 50,
    retry_backoff_max_ms: 1000,
    request_timeout_ms: 10_000,
    connect_timeout_ms: 3_000,
  };
  if (security === 'MTLS') {
    output.client_cert_file = cluster.clientCertPemPath;
    output.client_key_file = cluster.clientKeyPemPath;
  }
  if (security === 'PLAIN' || security === 'SCRAM-SHA-256' || security === 'SCRAM-SHA-512') {
    const user =
      security === 'PLAIN'
        ? cluster.users.plain
        : security === 'SCRAM-SHA-256'
          ? cluster.users.scramSha256
          : cluster.users.scramSha512;
    output.authentication_method = security;
    output.username = user.username;
    output.password = user.password;
  }
  const intake =
    options.intake === undefined
      ? undefined
      : {
          ...Object.fromEntries(Object.entries(output).filter(([key]) => !['name', 'topic'].includes(key))),
          replication_factor: cluster.brokers.length >= 3 ? 3 : 1,
          session_timeout_ms: 6_000,
          ...options.intake,
        };
  Object.assign(output, options.output);
  return {
    log_level: options.logLevel ?? 'warn',
    server: {
      host: '127.0.0.1',
      port: 0,
      shutdown_timeout_ms: options.shutdownTimeoutMs ?? 10_000,
    },
    admin: { host: '127.0.0.1', port: 0 },
    spool:
      intake === undefined
        ? { path: path.join(options.dir, 'spool'), ...options.spool }
        : { kind: 'kafka', kafka: intake, ...options.spool },
    inputs: [{ name: 'e2e', credentials: [{ api_key: options.apiKey, api_secret: options.apiSecret }] }],
    outputs: [output],
    connections: [
      {
        name: CONNECTION_NAME,
        input: 'e2e',
        output: OUTPUT_NAME,
        settings: {
          send_as_batch: options.sendAsBatch ?? false,
          batch_window_ms: options.batchWindowMs ?? 1_000,
        },
      },
    ],
  };
}

/** Writes dir/kafka-forwarder.yaml and returns its path. */
export async function writeE2eConfig(options: E2eConfigOptions): Promise<string> {
  const file = path.join(options.dir, 'kafka-forwarder.yaml');
  await writeFile(file, stringify(e2eRawConfig(options)), { mode: 0o600 });
  return file;
}
