import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isForwarderError } from '../../src/errors.ts';
import type { ConfigProblem } from '../../src/config/index.ts';
import {
  ConfigInvalidError,
  buildConfig,
  defaultConnectionSettings,
  defaultOutputSettings,
  defaultServerConfig,
  defaultAdminConfig,
  defaultSpoolConfig,
  loadConfig,
  parseConfig,
} from '../../src/config/index.ts';
import { tempDir } from '../support/temp-dir.ts';
import { makeCertificate } from './pem-fixtures.ts';

/** A smallest valid configuration; tests change one thing in a copy. */
function minimal(): Record<string, unknown> & {
  inputs: Record<string, unknown>[];
  outputs: Record<string, unknown>[];
  connections: Record<string, unknown>[];
} {
  return {
    inputs: [{ name: 'web', credentials: [{ api_key: 'key-1', api_secret: 'secret-1' }] }],
    outputs: [{ name: 'events', bootstrap_servers: 'broker-1:9093', topic: 'events' }],
    connections: [{ name: 'web-to-events', input: 'web', output: 'events' }],
  };
}

async function problemsOf(
  promise: Promise<unknown>,
): Promise<{ error: ConfigInvalidError; problems: ConfigProblem[] }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigInvalidError, `expected ConfigInvalidError, got ${String(error)}`);
    assert.ok(isForwarderError(error, 'CONFIG_INVALID'));
    return { error, problems: [...error.problems] };
  }
  assert.fail('expected the configuration to be rejected');
}

function paths(problems: ConfigProblem[]): string[] {
  return problems.map((problem) => problem.path);
}

function problemAt(problems: ConfigProblem[], path: string): ConfigProblem {
  const found = problems.find((problem) => problem.path === path);
  assert.ok(found, `no problem at ${path}; problems: ${JSON.stringify(problems, null, 1)}`);
  return found;
}

void describe('defaults', () => {
  void it('fills every unset setting from the schema defaults and maps keys to camelCase', async () => {
    const config = await buildConfig(minimal());
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.server, defaultServerConfig);
    assert.deepEqual(config.spool, defaultSpoolConfig);
    assert.deepEqual(config.connections[0].settings, defaultConnectionSettings);
    assert.deepEqual(config.outputs[0], {
      name: 'events',
      bootstrapServers: ['broker-1:9093'],
      topic: 'events',
      ...defaultOutputSettings,
    });
    assert.deepEqual(config.inputs[0].credentials, [{ apiKey: 'key-1', apiSecret: 'secret-1' }]);
  });

  void it('has the mParticle connection defaults and the documented limits', () => {
    assert.deepEqual(defaultConnectionSettings, {
      metadataFieldExclusion: [],
      sendNetworkPerformanceEvents: true,
      sendAsBatch: true,
      batchWindowMs: 600_000,
      waitForCompleteBatch: false,
      sessionTimeoutMs: 1_800_000,
      includeLocationInformation: true,
      includeMetadata: true,
      includeUserAttributeChangeEvents: false,
      includeUserIdentityChangeEvents: false,
      sendBatchesWithoutEvents: true,
      includeMpDeviceId: false,
      includeEventBatchLocation: false,
    });
    assert.equal(defaultOutputSettings.authenticationMethod, 'PLAIN');
    assert.equal(defaultServerConfig.maxRequestBytes, 262_144);
    assert.equal(defaultServerConfig.maxBatchBytes, 131_072);
    assert.equal(defaultServerConfig.maxBatchesPerBulk, 100);
    assert.equal(defaultSpoolConfig.dedupWindowMs, 86_400_000);
  });

  void it('keeps settings that are given, and does not share default arrays between connections', async () => {
    const raw = minimal();
    raw.connections.push({ name: 'second', input: 'web', output: 'events', settings: { send_as_batch: false } });
    const config = await buildConfig(raw);
    assert.equal(config.connections[1].settings.sendAsBatch, false);
    assert.equal(config.connections[1].settings.includeMetadata, true);
    assert.notEqual(
      config.connections[0].settings.metadataFieldExclusion,
      config.connections[1].settings.metadataFieldExclusion,
    );
    assert.ok(Object.isFrozen(defaultConnectionSettings.metadataFieldExclusion));
  });

  void it('does not modify the object it is given', async () => {
    const raw = minimal();
    const before = structuredClone(raw);
    await buildConfig(raw);
    assert.deepEqual(raw, before);
  });

  void it('lets one input feed several outputs', async () => {
    const raw = minimal();
    raw.outputs.push({ name: 'audit', bootstrap_servers: 'broker-2:9093', topic: 'audit' });
    raw.connections.push({ name: 'web-to-audit', input: 'web', output: 'audit' });
    const config = await buildConfig(raw);
    assert.deepEqual(
      config.connections.map((connection) => `${connection.input}->${connection.output}`),
      ['web->events', 'web->audit'],
    );
  });
});

void describe('reporting problems', () => {
  void it('reports every problem at once, each with its setting path and a fix', async () => {
    const raw = minimal();
    raw.server = { port: 70000 };
    raw.outputs[0].topic = '';
    raw.outputs[0].compression = 'brotli';
    raw.connections[0].output = 'nowhere';
    raw.connections[0].settings = { send_as_batch: 'yes' };
    const { error, problems } = await problemsOf(buildConfig(raw));
    assert.deepEqual(paths(problems).sort(), [
      'connections[0].output',
      'connections[0].settings.send_as_batch',
      'outputs[0].compression',
      'outputs[0].topic',
      'server.port',
    ]);
    for (const problem of problems) {
      assert.ok(problem.fix.length > 0, `${problem.path} has no fix`);
      assert.ok(error.message.includes(`- ${problem.path}: ${problem.problem}; ${problem.fix}`));
    }
    assert.match(problemAt(problems, 'server.port').problem, /at most 65535/);
    assert.match(problemAt(problems, 'connections[0].settings.send_as_batch').problem, /true or false, not a string/);
  });

  void it('names the file in the error message', async () => {
    const { error } = await problemsOf(buildConfig({ ...minimal(), inputs: [] }, { source: '/etc/kf.yaml' }));
    assert.match(
      error.message,
      /^The configuration in \/etc\/kf\.yaml is not valid:\n- inputs: needs at least 1 entry/,
    );
  });

  void it('puts the admin listener on 127.0.0.1:9464 unless told otherwise', async () => {
    assert.deepEqual((await buildConfig(minimal())).admin, { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(defaultAdminConfig, { host: '127.0.0.1', port: 9464 });
    const moved = await buildConfig({ ...minimal(), admin: { host: '0.0.0.0', port: 9000 } });
    assert.deepEqual(moved.admin, { host: '0.0.0.0', port: 9000 });
  });

  void it('refuses an admin listener on the ingest port, with the fix', async () => {
    const { problems } = await problemsOf(
      buildConfig({ ...minimal(), server: { host: '0.0.0.0', port: 8080 }, admin: { host: '127.0.0.1', port: 8080 } }),
    );
    const problem = problemAt(problems, 'admin.port');
    assert.match(problem.problem, /is the ingest port too \(server\.port 8080\)/);
    assert.match(problem.fix ?? '', /a port of its own \(the default is 9464\)/);
    // Different addresses on one port are two listeners: allowed.
    await buildConfig({
      ...minimal(),
      server: { host: '127.0.0.2', port: 8080 },
      admin: { host: '127.0.0.1', port: 8080 },
    });
  });

  void it('reports a missing required setting', async () => {
    const raw = minimal();
    delete raw.outputs[0].topic;
    const { problems } = await problemsOf(buildConfig(raw));
    assert.match(problemAt(problems, 'outputs[0].topic').problem, /is required/);
  });

  void it('reports an empty file and a file that is not a mapping', async () => {
    assert.match((await problemsOf(parseConfig(''))).problems[0].problem, /is empty/);
    assert.match((await problemsOf(parseConfig('- a\n- b\n'))).problems[0].problem, /not a mapping/);
  });

  void it('reports YAML syntax errors by line without quoting the offending lines', async () => {
    const { error, problems } = await problemsOf(
      parseConfig('outputs:\n  - password: "hunter2-secret\n    topic: x\n'),
    );
    assert.match(problems[0].problem, /not valid YAML at line \d+, column \d+/);
    assert.doesNotMatch(error.message, /hunter2-secret/);
  });

  void it('reports duplicate keys', async () => {
    const { problems } = await problemsOf(parseConfig('log_level: info\nlog_level: debug\n'));
    assert.match(problems[0].problem, /Map keys must be unique/);
  });
});

void describe('unknown settings', () => {
  void it('suggests the closest setting and does not also report the misspelt required one as missing', async () => {
    const raw = minimal();
    raw.outputs[0] = { name: 'events', bootstrap_server: 'broker-1:9093', topic: 'events' };
    raw.connections[0].settings = { send_as_bacth: false };
    raw.log_levl = 'debug';
    const { problems } = await problemsOf(buildConfig(raw));
    assert.deepEqual(paths(problems).sort(), [
      'connections[0].settings.send_as_bacth',
      'log_levl',
      'outputs[0].bootstrap_server',
    ]);
    assert.equal(problemAt(problems, 'outputs[0].bootstrap_server').fix, 'did you mean bootstrap_servers?');
    assert.equal(problemAt(problems, 'connections[0].settings.send_as_bacth').fix, 'did you mean send_as_batch?');
    assert.equal(problemAt(problems, 'log_levl').fix, 'did you mean log_level?');
  });

  void it('maps names from Kafka client configs to ours', async () => {
    const raw = minimal();
    raw.outputs[0].sasl_mechanism = 'PLAIN';
    const { problems } = await problemsOf(buildConfig(raw));
    assert.equal(problemAt(problems, 'outputs[0].sasl_mechanism').fix, 'did you mean authentication_method?');
  });

  void it('lists the settings allowed when nothing is close', async () => {
    const raw = minimal();
    raw.spool = { frobnicate: true };
    const { problems } = await problemsOf(buildConfig(raw));
    assert.match(
      problemAt(problems, 'spool.frobnicate').fix,
      /the settings at spool are kind, kafka, path, max_bytes, high_water_ratio, min_free_disk_bytes, dedup_window_ms/,
    );
  });

  void it('suggests close enum values and connection targets', async () => {
    const raw = minimal();
    raw.outputs[0].authentication_method = 'scram-sha-256';
    raw.connections[0].input = 'wbe';
    raw.connections[0].settings = { metadata_field_exclusion: ['ip_adress'] };
    const { problems } = await problemsOf(buildConfig(raw));
    assert.equal(problemAt(problems, 'outputs[0].authentication_method').fix, 'did you mean SCRAM-SHA-256?');
    assert.equal(problemAt(problems, 'connections[0].input').fix, 'did you mean web?');
    assert.equal(
      problemAt(problems, 'connections[0].settings.metadata_field_exclusion[0]').fix,
      'did you mean ip_address?',
    );
    // The misspelt reference is the likely cause; "web feeds no connection" would only distract.
    assert.equal(problems.length, 3);
  });

  void it('refuses plaintext options: TLS is always on', async () => {
    const raw = minimal();
    raw.outputs[0].security_protocol = 'PLAINTEXT';
    const { problems } = await problemsOf(buildConfig(raw));
    assert.match(problemAt(problems, 'outputs[0].security_protocol').fix, /TLS is always on/);
  });
});

void describe('relations between settings', () => {
  void it('key: mpid by default; mp_deviceid needs include_mp_device_id on every connection to the output', async () => {
    assert.equal((await buildConfig(minimal())).outputs[0].key, 'mpid');
    const raw = minimal();
    raw.outputs[0].key = 'mp_deviceid';
    const { problems } = await problemsOf(buildConfig(raw));
    assert.deepEqual(paths(problems), ['connections[0].settings.include_mp_device_id']);
    assert.match(problems[0].fix, /include_mp_device_id: true/);
    raw.connections[0].settings = { include_mp_device_id: true };
    assert.equal((await buildConfig(raw)).outputs[0].key, 'mp_deviceid');
    raw.outputs[0].key = 'email';
    assert.deepEqual(paths((await problemsOf(buildConfig(raw))).problems), ['outputs[0].key']);
  });

  void it('refuses a password without a username, and a username without a password', async () => {
    const raw = minimal();
    raw.outputs[0].password = 'hunter2';
    raw.outputs.push({ name: 'other', bootstrap_servers: 'b:9093', topic: 't', username: 'svc' });
    raw.connections.push({ name: 'c2', input: 'web', output: 'other' });
    const { problems } = await problemsOf(buildConfig(raw));
    assert.deepEqual(paths(problems), ['outputs[0].password', 'outputs[1].username']);
    assert.match(problems[0].problem, /without a username/);
    assert.match(problems[1].problem, /without a password/);
  });

  void it('accepts TLS alone (no username, no password) and SASL with both', async () => {
    const raw = minimal();
    raw.outputs.push({ name: 'sasl', bootstrap_servers: 'b:9093', topic: 't', username: 'svc', password: 'pw' });
    raw.connections.push({ name: 'c2', input: 'web', output: 'sasl' });
    const config = await buildConfig(raw);
    assert.equal(config.outputs[0].username, undefined);
    assert.equal(config.outputs[1].password, 'pw');
  });

  void it('requires unique names, unique API keys, existing references and a connection for every input', async () => {
    const raw = minimal();
    raw.inputs.push({ name: 'web', credentials: [{ api_key: 'key-1', api_secret: 's' }] });
    raw.inputs.push({ name: 'unused', credentials: [{ api_key: 'key-3', api_secret: 's' }] });
    raw.outputs.push({ name: 'events', bootstrap_servers: 'b:9093', topic: 't' });
    raw.connections.push({ name: 'web-to-events', input: 'web', output: 'events' });
    const { problems } = await problemsOf(buildConfig(raw));
    assert.deepEqual(paths(problems), [
      'inputs[1].name',
      'inputs[1].credentials[0].api_key',
      'outputs[1].name',
      'connections[1].name',
      'inputs[2]',
    ]);
    assert.match(problemAt(problems, 'inputs[2]').problem, /feeds no connection/);
  });

  void it('checks topic names and backoff order', async () => {
    const raw = minimal();
    raw.outputs[0].topic = 'has space';
    raw.outputs[0].retry_backoff_min_ms = 5000;
    raw.outputs[0].retry_backoff_max_ms = 100;
    const { problems } = await problemsOf(buildConfig(raw));
    assert.deepEqual(paths(problems), ['outputs[0].topic', 'outputs[0].retry_backoff_min_ms']);
  });
});

void describe('secrets from the environment and from files', () => {
  void it('replaces ${VAR} references, types whole-value references, and keeps $${ literal', async () => {
    const raw = minimal();
    raw.server = { port: '${PORT}', host: '${HOST}' };
    raw.inputs[0].credentials = [{ api_key: 'key-${REGION}', api_secret: '${API_SECRET}' }];
    raw.outputs[0].topic = 'events';
    raw.connections[0].settings = { unique_id: 'app-$${literal}', send_as_batch: '${BATCH}' };
    const config = await buildConfig(raw, {
      env: { PORT: '9999', HOST: '127.0.0.1', REGION: 'eu', API_SECRET: 's3cr3t', BATCH: 'false' },
    });
    assert.equal(config.server.port, 9999);
    assert.equal(config.server.host, '127.0.0.1');
    assert.deepEqual(config.inputs[0].credentials[0], { apiKey: 'key-eu', apiSecret: 's3cr3t' });
    assert.equal(config.connections[0].settings.uniqueId, 'app-${literal}');
    assert.equal(config.connections[0].settings.sendAsBatch, false);
  });

  void it('reports every unset variable and malformed reference', async () => {
    const raw = minimal();
    raw.outputs[0].username = '${KAFKA_USER}';
    raw.outputs[0].password = '${KAFKA_PASSWORD}';
    raw.outputs[0].topic = 'events-${bad name}';
    const { problems } = await problemsOf(buildConfig(raw, { env: {} }));
    assert.deepEqual(paths(problems), ['outputs[0].topic', 'outputs[0].username', 'outputs[0].password']);
    assert.match(problemAt(problems, 'outputs[0].password').problem, /KAFKA_PASSWORD, which is not set/);
  });

  void it('takes ${VAR:-default} when the variable is unset (or empty), ${VAR-default} only when unset', async () => {
    const raw = minimal();
    raw.server = { port: '${PORT:-8080}', host: '${HOST-127.0.0.1}' };
    raw.outputs[0].topic = '${TOPIC:-events}-${REGION:-eu}';
    const config = await buildConfig(raw, { env: { TOPIC: '' } });
    assert.equal(config.server.port, 8080);
    assert.equal(config.server.host, '127.0.0.1');
    // Set but empty: `-` keeps the empty value (and then the schema refuses an empty host).
    const empty = await problemsOf(buildConfig(raw, { env: { HOST: '' } }));
    assert.deepEqual(paths(empty.problems), ['server.host']);
    assert.equal(config.outputs[0].topic, 'events-eu');
    const set = await buildConfig(raw, { env: { PORT: '9999', HOST: '0.0.0.0', TOPIC: 'clicks', REGION: 'us' } });
    assert.equal(set.server.port, 9999);
    assert.equal(set.server.host, '0.0.0.0');
    assert.equal(set.outputs[0].topic, 'clicks-us');
  });

  void it('${VAR:?message} reports the message when the variable is unset or empty', async () => {
    const raw = minimal();
    raw.outputs[0].username = 'svc';
    raw.outputs[0].password = '${KAFKA_PASSWORD:?the SASL password of the kafka-forwarder user}';
    const { problems } = await problemsOf(buildConfig(raw, { env: { KAFKA_PASSWORD: '' } }));
    assert.deepEqual(paths(problems), ['outputs[0].password']);
    assert.match(
      problemAt(problems, 'outputs[0].password').problem,
      /needs the environment variable KAFKA_PASSWORD, which is empty: the SASL password of the kafka-forwarder user/,
    );
    const config = await buildConfig(raw, { env: { KAFKA_PASSWORD: 'pw' } });
    assert.equal(config.outputs[0].password, 'pw');
  });

  void it('an unset variable is the one problem reported for its setting, without follow-ons', async () => {
    const raw = minimal();
    raw.server = { port: '${PORT}' };
    raw.outputs[0].bootstrap_servers = '${KAFKA_BROKERS}';
    const { problems } = await problemsOf(buildConfig(raw, { env: {} }));
    assert.deepEqual(paths(problems).sort(), ['outputs[0].bootstrap_servers', 'server.port']);
    assert.match(problemAt(problems, 'server.port').problem, /PORT, which is not set/);
    assert.match(problemAt(problems, 'server.port').fix, /\$\{PORT:-default\}/);
    assert.match(problemAt(problems, 'outputs[0].bootstrap_servers').problem, /KAFKA_BROKERS, which is not set/);
  });

  void it('reads *_file settings relative to the configuration file and trims line breaks from secrets', async () => {
    const dir = (await tempDir('config')).dir;
    const { certPem, keyPem } = makeCertificate('client');
    await mkdir(join(dir, 'secrets'));
    await writeFile(join(dir, 'secrets', 'password'), 'file-password\n');
    await writeFile(join(dir, 'secrets', 'api-secret'), 'file-api-secret\r\n');
    await writeFile(join(dir, 'client.crt'), certPem);
    await writeFile(join(dir, 'client.key'), keyPem);
    await writeFile(join(dir, 'ca.pem'), certPem);
    await writeFile(
      join(dir, 'kafka-forwarder.yaml'),
      [
        'inputs:',
        '  - name: web',
        '    credentials:',
        '      - { api_key: key-1, api_secret_file: secrets/api-secret }',
        'outputs:',
        '  - name: events',
        '    bootstrap_servers: broker-1:9093,broker-2:9093',
        '    topic: events',
        '    username: svc',
        '    password_file: secrets/password',
        '    ca_file: ca.pem',
        '    client_cert_file: client.crt',
        `    client_key_file: ${join(dir, 'client.key')}`,
        'connections:',
        '  - { name: c, input: web, output: events }',
      ].join('\n'),
    );
    const config = await loadConfig({ path: join(dir, 'kafka-forwarder.yaml'), env: {} });
    assert.equal(config.outputs[0].password, 'file-password');
    assert.equal(config.inputs[0].credentials[0].apiSecret, 'file-api-secret');
    assert.equal(config.outputs[0].caPem, certPem);
    assert.equal(config.outputs[0].clientCertPem, certPem);
    assert.equal(config.outputs[0].clientKeyPem, keyPem);
    assert.deepEqual(config.outputs[0].bootstrapServers, ['broker-1:9093', 'broker-2:9093']);
    assert.equal('passwordFile' in config.outputs[0], false);
  });

  void it('refuses an empty API secret file (it would let anyone with the key in) and an empty server.tls', async () => {
    const dir = (await tempDir('config')).dir;
    await writeFile(join(dir, 'empty-secret'), '\n');
    const raw = minimal();
    raw.inputs[0].credentials = [{ api_key: 'key-1', api_secret_file: join(dir, 'empty-secret') }];
    raw.server = { tls: {} };
    const { problems } = await problemsOf(buildConfig(raw, { baseDir: dir }));
    assert.match(problemAt(problems, 'inputs[0].credentials[0].api_secret').problem, /is empty/);
    assert.match(problemAt(problems, 'server.tls').problem, /neither a certificate nor a key/);
  });

  void it('reports missing and unreadable files and a file set together with its value', async () => {
    const dir = (await tempDir('config')).dir;
    await writeFile(join(dir, 'locked'), 'x');
    await chmod(join(dir, 'locked'), 0o000);
    const raw = minimal();
    raw.outputs[0].username = 'svc';
    raw.outputs[0].password_file = 'missing-password';
    raw.inputs[0].credentials = [{ api_key: 'k', api_secret: 'inline', api_secret_file: 'also' }];
    raw.outputs[0].ca_file = 'locked';
    const { problems } = await problemsOf(buildConfig(raw, { baseDir: dir }));
    assert.match(problemAt(problems, 'outputs[0].password_file').problem, /missing-password does not exist/);
    assert.match(problemAt(problems, 'inputs[0].credentials[0].api_secret_file').problem, /together with api_secret/);
    // root reads any file; only an ordinary user sees EACCES.
    if (process.getuid?.() !== 0) assert.match(problemAt(problems, 'outputs[0].ca_file').problem, /not readable/);
  });

  void it('never puts secret values in error text', async () => {
    const secrets = ['pw-SENTINEL-1', 'api-SENTINEL-2', 'key-SENTINEL-3', 'tlskey-SENTINEL-4'];
    const raw = minimal();
    raw.outputs[0].password = secrets[0]; // password without username: an error about a secret
    raw.outputs[0].client_key_pem = secrets[2]; // not a PEM, and no certificate
    raw.inputs[0].credentials = [{ api_key: 'k', api_secret: secrets[1], api_secret_typo: secrets[1] }];
    raw.server = { tls: { key_pem: secrets[3] } };
    const { error, problems } = await problemsOf(buildConfig(raw));
    assert.ok(problems.length >= 5);
    for (const secret of secrets) {
      assert.doesNotMatch(error.message, new RegExp(secret));
      assert.doesNotMatch(JSON.stringify(error.params), new RegExp(secret));
      assert.doesNotMatch(JSON.stringify(problems), new RegExp(secret));
    }
    // A secret of the wrong kind, or an enum-free type error, names only the type.
    const typed = minimal();
    typed.outputs[0].username = 'u';
    typed.outputs[0].password = 123456789;
    const wrongType = await problemsOf(buildConfig(typed));
    assert.doesNotMatch(wrongType.error.message, /123456789/);
  });
});

void describe('PEM settings', () => {
  const client = makeCertificate('client');
  const other = makeCertificate('other');

  void it('accepts a matching certificate and key', async () => {
    const raw = minimal();
    Object.assign(raw.outputs[0], {
      client_cert_pem: client.certPem,
      client_key_pem: client.keyPem,
      ca_pem: other.certPem,
    });
    raw.server = { tls: { cert_pem: other.certPem, key_pem: other.keyPem } };
    const config = await buildConfig(raw);
    assert.equal(config.server.tls?.keyPem, other.keyPem);
  });

  void it('refuses a certificate without a key, a key without a certificate, and a key that does not match', async () => {
    const raw = minimal();
    raw.outputs[0].client_cert_pem = client.certPem;
    raw.outputs.push({ name: 'o2', bootstrap_servers: 'b:1', topic: 't', client_key_pem: client.keyPem });
    raw.outputs.push({
      name: 'o3',
      bootstrap_servers: 'b:1',
      topic: 't',
      client_cert_pem: client.certPem,
      client_key_pem: other.keyPem,
    });
    raw.connections.push({ name: 'c2', input: 'web', output: 'o2' }, { name: 'c3', input: 'web', output: 'o3' });
    const { problems } = await problemsOf(buildConfig(raw));
    assert.deepEqual(paths(problems), [
      'outputs[0].client_key_pem',
      'outputs[1].client_cert_pem',
      'outputs[2].client_key_pem',
    ]);
    assert.match(problems[2].problem, /not the private key of client_cert_pem/);
  });

  void it('refuses text that is not PEM, broken certificates and encrypted keys', async () => {
    const raw = minimal();
    raw.outputs[0].ca_pem = 'not a certificate';
    raw.outputs.push({
      name: 'o2',
      bootstrap_servers: 'b:1',
      topic: 't',
      ca_pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      client_cert_pem: client.certPem,
      client_key_pem: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n',
    });
    raw.connections.push({ name: 'c2', input: 'web', output: 'o2' });
    const { problems } = await problemsOf(buildConfig(raw));
    assert.match(problemAt(problems, 'outputs[0].ca_pem').problem, /does not look like a PEM certificate/);
    assert.match(problemAt(problems, 'outputs[1].ca_pem').problem, /cannot be read as an X\.509 certificate/);
    assert.match(problemAt(problems, 'outputs[1].client_key_pem').problem, /encrypted/);
  });

  void it('says where a bad value came from', async () => {
    const raw = minimal();
    raw.outputs[0].ca_pem = '${KAFKA_CA}';
    const { problems } = await problemsOf(buildConfig(raw, { env: { KAFKA_CA: 'nope' } }));
    assert.match(problemAt(problems, 'outputs[0].ca_pem').problem, /value from environment variable KAFKA_CA/);
  });
});

void describe('finding the file', () => {
  void it('takes --config over KAFKA_FORWARDER_CONFIG', async () => {
    const dir = (await tempDir('config')).dir;
    const yaml = (topic: string): string =>
      `inputs: [{ name: web, credentials: [{ api_key: k, api_secret: s }] }]\noutputs: [{ name: o, bootstrap_servers: "b:9093", topic: ${topic} }]\nconnections: [{ name: c, input: web, output: o }]\n`;
    await writeFile(join(dir, 'a.yaml'), yaml('from-flag'));
    await writeFile(join(dir, 'b.yaml'), yaml('from-env'));
    const env = { KAFKA_FORWARDER_CONFIG: join(dir, 'b.yaml') };
    assert.equal((await loadConfig({ path: join(dir, 'a.yaml'), env })).outputs[0].topic, 'from-flag');
    assert.equal((await loadConfig({ env })).outputs[0].topic, 'from-env');
  });

  void it('throws CONFIG_NOT_FOUND naming the path', async () => {
    const path = join((await tempDir('config')).dir, 'absent.yaml');
    await assert.rejects(loadConfig({ path, env: {} }), (error: unknown) => {
      assert.ok(isForwarderError(error, 'CONFIG_NOT_FOUND'));
      assert.ok(error.message.includes(path));
      return true;
    });
  });

  void it('names the file in CONFIG_INVALID', async () => {
    const path = join((await tempDir('config')).dir, 'bad.yaml');
    await writeFile(path, 'log_level: loud\n');
    const { error } = await problemsOf(loadConfig({ path, env: {} }));
    assert.ok(error.message.startsWith(`The configuration in ${path} is not valid`));
  });
});

void describe('spool.kind: kafka (cluster mode)', () => {
  void it('is local by default, with no intake', async () => {
    const config = await buildConfig(minimal());
    assert.equal(config.spool.kind, 'local');
    assert.equal(config.spool.kafka, undefined);
  });

  void it('takes the intake cluster like an output, with the topic, group and state defaults', async () => {
    const raw = minimal();
    raw.spool = {
      kind: 'kafka',
      kafka: { bootstrap_servers: 'b1:9093, b2:9093', username: 'svc', password: 'intake-secret' },
    };
    const config = await buildConfig(raw);
    const intake = config.spool.kafka;
    assert.ok(intake !== undefined);
    assert.deepEqual(intake.bootstrapServers, ['b1:9093', 'b2:9093']);
    assert.equal(intake.topic, 'kafka-forwarder-intake');
    assert.equal(intake.groupId, 'kafka-forwarder');
    assert.equal(intake.stateTopic, 'kafka-forwarder-state');
    assert.equal(intake.deadLetterTopic, 'kafka-forwarder-dead-letters');
    assert.equal(intake.authenticationMethod, defaultOutputSettings.authenticationMethod);
    assert.equal(intake.requestTimeoutMs, defaultOutputSettings.requestTimeoutMs);
    assert.equal(intake.password, 'intake-secret');
  });

  void it('applies the output checks to the intake, and its own: missing intake, one topic twice, a batch too large for it', async () => {
    const raw = minimal();
    raw.spool = {
      kind: 'kafka',
      kafka: {
        bootstrap_servers: 'b1',
        password: 'p',
        topic: 'same',
        state_topic: 'same',
        dead_letter_topic: 'bad topic',
        max_message_bytes: 65536,
      },
    };
    const { problems } = await problemsOf(buildConfig(raw));
    assert.deepEqual(paths(problems).sort(), [
      'spool.kafka.bootstrap_servers[0]',
      'spool.kafka.dead_letter_topic',
      'spool.kafka.max_message_bytes',
      'spool.kafka.password',
      'spool.kafka.state_topic',
    ]);
    assert.match(problemAt(problems, 'spool.kafka.max_message_bytes').fix, /server\.max_batch_bytes/);
    assert.doesNotMatch(JSON.stringify(problems), /"p"/);

    const missing = minimal();
    missing.spool = { kind: 'kafka' };
    assert.match(problemAt((await problemsOf(buildConfig(missing))).problems, 'spool.kafka').fix, /bootstrap_servers/);

    const ignored = minimal();
    ignored.spool = { kafka: { bootstrap_servers: 'b1:9093' } };
    assert.match(problemAt((await problemsOf(buildConfig(ignored))).problems, 'spool.kafka').fix, /spool\.kind: kafka/);
  });
});
