// Fails when src/config/types.ts and src/config/schema.ts drift apart. Each object below must list
// exactly the fields of its TS interface, with 'always' for a required field and 'optional' for
// an optional one, or tsc rejects it; the test then compares it with the schema.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SettingSchema } from '../../src/config/schema.ts';
import { configSchema, snakeToCamel } from '../../src/config/schema.ts';
import type {
  ConnectionConfig,
  ConnectionSettings,
  ForwarderConfig,
  InputConfig,
  InputCredential,
  IntakeConfig,
  OutputConfig,
  ServerConfig,
  ServerTlsConfig,
  SpoolConfig,
} from '../../src/config/types.ts';

type Presence<T> = { [K in keyof T]-?: object extends Pick<T, K> ? 'optional' : 'always' };

const forwarder = {
  server: 'always',
  admin: 'always',
  spool: 'always',
  logLevel: 'always',
  inputs: 'always',
  outputs: 'always',
  connections: 'always',
} as const satisfies Presence<ForwarderConfig>;
const server = {
  host: 'always',
  port: 'always',
  tls: 'optional',
  maxRequestBytes: 'always',
  maxBatchBytes: 'always',
  maxBatchesPerBulk: 'always',
  maxInFlightBytes: 'always',
  shutdownTimeoutMs: 'always',
} as const satisfies Presence<ServerConfig>;
const serverTls = { certPem: 'always', keyPem: 'always' } as const satisfies Presence<ServerTlsConfig>;
const spool = {
  kind: 'always',
  kafka: 'optional',
  path: 'always',
  maxBytes: 'always',
  highWaterRatio: 'always',
  minFreeDiskBytes: 'always',
  dedupWindowMs: 'always',
} as const satisfies Presence<SpoolConfig>;
const intake = {
  ...outputFields(),
  groupId: 'always',
  partitions: 'always',
  replicationFactor: 'always',
  stateTopic: 'always',
  deadLetterTopic: 'always',
  sessionTimeoutMs: 'always',
  maxBufferedBytes: 'always',
} as const satisfies Presence<IntakeConfig>;
const input = { name: 'always', credentials: 'always' } as const satisfies Presence<InputConfig>;
const credential = { apiKey: 'always', apiSecret: 'always' } as const satisfies Presence<InputCredential>;
const output = {
  name: 'always',
  degradedAfterMs: 'always',
  key: 'always',
  headers: 'always',
  topicByEventType: 'optional',
  ...outputFields(),
} as const satisfies Presence<OutputConfig>;
/** The fields outputs and the intake share: a Kafka cluster and a topic on it. */
function outputFields() {
  return {
    bootstrapServers: 'always',
    topic: 'always',
    authenticationMethod: 'always',
    username: 'optional',
    password: 'optional',
    caPem: 'optional',
    clientCertPem: 'optional',
    clientKeyPem: 'optional',
    compression: 'always',
    maxMessageBytes: 'always',
    clientId: 'always',
    lingerMs: 'always',
    batchMaxBytes: 'always',
    retryBackoffMinMs: 'always',
    retryBackoffMaxMs: 'always',
    requestTimeoutMs: 'always',
    connectTimeoutMs: 'always',
  } as const satisfies Presence<
    Omit<OutputConfig, 'name' | 'degradedAfterMs' | 'key' | 'headers' | 'topicByEventType'>
  >;
}
const connection = {
  name: 'always',
  input: 'always',
  output: 'always',
  settings: 'always',
} as const satisfies Presence<ConnectionConfig>;
const settings = {
  uniqueId: 'optional',
  metadataFieldExclusion: 'always',
  sendNetworkPerformanceEvents: 'always',
  sendAsBatch: 'always',
  batchWindowMs: 'always',
  waitForCompleteBatch: 'always',
  sessionTimeoutMs: 'always',
  includeLocationInformation: 'always',
  includeMetadata: 'always',
  includeUserAttributeChangeEvents: 'always',
  includeUserIdentityChangeEvents: 'always',
  sendBatchesWithoutEvents: 'always',
  includeMpDeviceId: 'always',
  includeEventBatchLocation: 'always',
} as const satisfies Presence<ConnectionSettings>;

// Not required by the schema, because a `*_file` twin may give them, but required after loading
// (checked in semantic.ts).
const requiredThroughFileTwin = new Set(['api_secret', 'cert_pem', 'key_pem']);

/** The presence of each loaded field as the schema declares it: `*_file` keys are not fields. */
function presenceFromSchema(schema: SettingSchema | undefined): Record<string, string> {
  assert.ok(schema?.properties, 'expected an object schema');
  const presence: Record<string, string> = {};
  for (const [key, property] of Object.entries(schema.properties)) {
    if (property['x-file-for'] !== undefined) continue;
    const always = property.default !== undefined || schema.required?.includes(key) || requiredThroughFileTwin.has(key);
    presence[snakeToCamel(key)] = always ? 'always' : 'optional';
  }
  return presence;
}

void describe('types.ts and schema.ts', () => {
  const top = configSchema.properties ?? {};
  const cases: [string, Record<string, string>, SettingSchema | undefined][] = [
    ['ForwarderConfig', forwarder, configSchema],
    ['ServerConfig', server, top.server],
    ['ServerTlsConfig', serverTls, top.server?.properties?.tls],
    ['SpoolConfig', spool, top.spool],
    ['IntakeConfig', intake, top.spool?.properties?.kafka],
    ['InputConfig', input, top.inputs?.items],
    ['InputCredential', credential, top.inputs?.items?.properties?.credentials.items],
    ['OutputConfig', output, top.outputs?.items],
    ['ConnectionConfig', connection, top.connections?.items],
    ['ConnectionSettings', settings, top.connections?.items?.properties?.settings],
  ];
  for (const [name, fromTypes, schema] of cases) {
    void it(`${name} has the fields the schema declares, equally required`, () => {
      assert.deepEqual(presenceFromSchema(schema), { ...fromTypes });
    });
  }

  void it('declares a type, description and (unless required or optional) default for every setting', () => {
    const walk = (schema: SettingSchema, path: string): void => {
      for (const [key, property] of Object.entries(schema.properties ?? {})) {
        const where = `${path}${key}`;
        assert.ok(property.type !== undefined, `${where} has no type`);
        assert.ok((property.description ?? '').length > 10, `${where} has no description`);
        // A settings object allows no unknown key; a map (topic_by_event_type) only keys from an enum.
        if (property.type === 'object' && property.additionalProperties !== false)
          assert.ok(property.propertyNames?.enum !== undefined, `${where} allows unknown keys`);
        walk(property, `${where}.`);
        if (property.items !== undefined) walk(property.items, `${where}[].`);
      }
    };
    assert.equal(configSchema.additionalProperties, false);
    walk(configSchema, '');
  });
});
