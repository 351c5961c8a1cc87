// Checks the schema cannot express: relations between settings (username and password, names
// that connections refer to, certificate and key), bootstrap server syntax, Kafka topic names,
// and whether PEM text really holds certificates and keys. Runs on the whole document even when
// the schema found problems, so that one pass reports everything; each check therefore looks at
// a value's type before using it.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { parseBootstrapServers } from './bootstrap-servers.ts';
import { closest } from './did-you-mean.ts';
import type { ProblemList, SettingPath } from './problems.ts';
import { formatPath } from './problems.ts';

type Node = Record<string, unknown>;

/** Room an intake record needs beyond its batch: key, headers (input, destinations, dedup key) and framing. */
const INTAKE_RECORD_OVERHEAD_BYTES = 4096;

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);
const nodes = (value: unknown): Node[] => (Array.isArray(value) ? value.map((item) => (isNode(item) ? item : {})) : []);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

class Checker {
  readonly problems: ProblemList;
  readonly origins: ReadonlyMap<string, string>;
  /** Settings already reported by an earlier stage: a check of a known-bad value would only echo it. */
  readonly reported: ReadonlySet<string>;

  constructor(problems: ProblemList, origins: ReadonlyMap<string, string>) {
    this.problems = problems;
    this.origins = origins;
    this.reported = new Set(problems.items.map((item) => item.path));
  }

  /** Adds a problem, saying where the value came from when it was not written in the file. */
  add(path: SettingPath, problem: string, fix: string): void {
    if (this.reported.has(formatPath(path))) return;
    const origin = this.origins.get(formatPath(path));
    this.problems.add(path, origin === undefined ? problem : `${problem} (value from ${origin})`, fix);
  }

  uniqueNames(list: Node[], section: string): Set<string> {
    const names = new Set<string>();
    list.forEach((item, index) => {
      const name = text(item.name);
      if (name === undefined) return;
      if (names.has(name))
        this.add(
          [section, index, 'name'],
          `"${name}" is already the name of another entry of ${section}`,
          'give each a different name',
        );
      names.add(name);
    });
    return names;
  }

  certificates(pem: string, path: SettingPath, all: boolean): X509Certificate | undefined {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) {
      this.add(
        path,
        'does not look like a PEM certificate (no -----BEGIN CERTIFICATE----- block)',
        'give the certificate in PEM form',
      );
      return undefined;
    }
    let first: X509Certificate | undefined;
    (all ? blocks : blocks.slice(0, 1)).forEach((block, index) => {
      try {
        const certificate = new X509Certificate(block);
        first ??= certificate;
      } catch {
        this.add(
          path,
          `certificate ${index + 1} of its PEM text cannot be read as an X.509 certificate`,
          'check that the PEM block is complete and unmodified',
        );
      }
    });
    return first;
  }

  privateKey(pem: string, path: SettingPath): KeyObject | undefined {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
      this.add(
        path,
        'does not look like a PEM private key (no -----BEGIN … PRIVATE KEY----- block)',
        'give the private key in PEM form',
      );
      return undefined;
    }
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
      this.add(
        path,
        'is an encrypted private key',
        'decrypt it (openssl pkey -in key.pem -out key-plain.pem) and protect the file by its permissions',
      );
      return undefined;
    }
    try {
      return createPrivateKey(pem);
    } catch {
      // The crypto error is not passed on: it is safe today, but it is about a secret.
      this.add(path, 'cannot be read as a private key', 'check that the PEM block is complete and unmodified');
      return undefined;
    }
  }

  /** A certificate and its key: both or neither, each readable, and belonging together. */
  certificateAndKey(node: Node, base: SettingPath, certKey: string, keyKey: string): void {
    const certPem = text(node[certKey]);
    const keyPem = text(node[keyKey]);
    if (certPem !== undefined && keyPem === undefined) {
      this.add(
        [...base, keyKey],
        `is missing, but ${certKey} is set`,
        `set ${keyKey} (or ${keyKey.replace('_pem', '_file')}) to the certificate's private key`,
      );
    }
    if (keyPem !== undefined && certPem === undefined) {
      this.add(
        [...base, certKey],
        `is missing, but ${keyKey} is set`,
        `set ${certKey} (or ${certKey.replace('_pem', '_file')}) to the key's certificate`,
      );
    }
    const certificate = certPem === undefined ? undefined : this.certificates(certPem, [...base, certKey], false);
    const key = keyPem === undefined ? undefined : this.privateKey(keyPem, [...base, keyKey]);
    if (certificate !== undefined && key !== undefined && !certificate.checkPrivateKey(key)) {
      this.add(
        [...base, keyKey],
        `is not the private key of ${certKey}`,
        'give the key the certificate was issued for',
      );
    }
  }

  /** A Kafka cluster and topic: an output (outputs[i]) or the intake (spool.kafka). */
  kafkaCluster(output: Node, base: SettingPath): void {
    const servers = output.bootstrap_servers;
    if (
      typeof servers === 'string' ||
      (Array.isArray(servers) && servers.every((entry) => typeof entry === 'string'))
    ) {
      for (const problem of parseBootstrapServers(servers).problems) {
        const path =
          problem.index === undefined ? [...base, 'bootstrap_servers'] : [...base, 'bootstrap_servers', problem.index];
        this.add(path, problem.problem, problem.fix);
      }
    }
    const topic = text(output.topic);
    if (topic !== undefined) this.kafkaTopicName(topic, [...base, 'topic']);
    const username = text(output.username);
    const password = text(output.password);
    if (password !== undefined && username === undefined) {
      this.add(
        [...base, 'password'],
        'is set without a username',
        'set username too (SASL), or remove password to authenticate by TLS alone',
      );
    }
    if (username !== undefined && password === undefined) {
      this.add(
        [...base, 'username'],
        'is set without a password',
        'set password or password_file too, or remove username to authenticate by TLS alone',
      );
    }
    const ca = text(output.ca_pem);
    if (ca !== undefined) this.certificates(ca, [...base, 'ca_pem'], true);
    this.certificateAndKey(output, base, 'client_cert_pem', 'client_key_pem');
    const { retry_backoff_min_ms: min, retry_backoff_max_ms: max } = output;
    if (typeof min === 'number' && typeof max === 'number' && min > max) {
      this.add(
        [...base, 'retry_backoff_min_ms'],
        `is more than retry_backoff_max_ms (${max})`,
        'make the first backoff no longer than the longest',
      );
    }
  }

  spool(spool: unknown, server: unknown): void {
    if (!isNode(spool)) return;
    const intake = spool.kafka;
    if (spool.kind === 'kafka') {
      if (!isNode(intake)) {
        this.add(
          ['spool', 'kafka'],
          'is missing, and spool.kind is kafka',
          'set spool.kafka.bootstrap_servers (and its TLS and SASL settings, as for an output) to the cluster that holds the intake topic',
        );
        return;
      }
    } else {
      if (intake !== undefined)
        this.add(
          ['spool', 'kafka'],
          `is set, but spool.kind is ${String(spool.kind)}, so it would be ignored`,
          'set spool.kind: kafka to use it, or remove spool.kafka',
        );
      return;
    }
    const base = ['spool', 'kafka'];
    this.kafkaCluster(intake, base);
    const topics = new Map<string, string>();
    for (const key of ['topic', 'state_topic', 'dead_letter_topic']) {
      const topic = text(intake[key]);
      if (topic === undefined) continue;
      const other = topics.get(topic);
      if (other !== undefined)
        this.add(
          [...base, key],
          `names the same topic as spool.kafka.${other} ("${topic}")`,
          'give each its own topic',
        );
      else topics.set(topic, key);
      if (key !== 'topic') this.kafkaTopicName(topic, [...base, key]);
    }
    // Every accepted batch becomes one intake record: the largest batch must fit in one.
    const largest = isNode(server) && typeof server.max_batch_bytes === 'number' ? server.max_batch_bytes : undefined;
    const limit = intake.max_message_bytes;
    if (largest !== undefined && typeof limit === 'number' && largest + INTAKE_RECORD_OVERHEAD_BYTES > limit) {
      this.add(
        [...base, 'max_message_bytes'],
        `is too small for the largest batch accepted (server.max_batch_bytes ${largest} plus ${INTAKE_RECORD_OVERHEAD_BYTES} bytes of record headers)`,
        `raise it to at least ${largest + INTAKE_RECORD_OVERHEAD_BYTES} (and the intake topic's max.message.bytes with it), or lower server.max_batch_bytes`,
      );
    }
  }

  kafkaTopicName(topic: string, path: SettingPath): void {
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic) || topic === '.' || topic === '..') {
      this.add(path, `"${topic}" is not a valid Kafka topic name`, 'use up to 249 letters, digits, ".", "_" and "-"');
    }
  }

  inputs(inputs: Node[]): void {
    const keys = new Map<string, string>();
    inputs.forEach((input, index) => {
      nodes(input.credentials).forEach((credential, position) => {
        const path = ['inputs', index, 'credentials', position];
        // An empty secret (say, an api_secret_file that was never filled in) would let anyone who
        // knows the key post batches: it is as wrong as a missing one.
        if (text(credential.api_secret) === undefined)
          this.add(
            [...path, 'api_secret'],
            credential.api_secret === undefined ? 'is missing' : 'is empty',
            'set api_secret, or api_secret_file to a file holding the secret',
          );
        const key = text(credential.api_key);
        if (key === undefined) {
          if (credential.api_key !== undefined) this.add([...path, 'api_key'], 'is empty', 'set the API key');
          return;
        }
        const other = keys.get(key);
        // The API key picks the input a request belongs to, so it must say one thing.
        if (other !== undefined)
          this.add([...path, 'api_key'], `is also used at ${other}`, 'give each credential its own API key');
        else keys.set(key, formatPath([...path, 'api_key']));
      });
    });
  }

  connections(connections: Node[], inputs: Node[], inputNames: Set<string>, outputNames: Set<string>): void {
    const fed = new Set<string>();
    let everyInputResolves = true;
    connections.forEach((connection, index) => {
      for (const [field, names, section] of [
        ['input', inputNames, 'inputs'],
        ['output', outputNames, 'outputs'],
      ] as const) {
        const name = text(connection[field]);
        if (name === undefined) continue;
        if (field === 'input') fed.add(name);
        if (names.has(name)) continue;
        if (field === 'input') everyInputResolves = false;
        const suggestion = closest(name, names);
        this.add(
          ['connections', index, field],
          `names ${field} "${name}", which is not in ${section}`,
          suggestion !== undefined
            ? `did you mean ${suggestion}?`
            : `use the name of one of ${section}: ${[...names].join(', ') || `(${section} is empty)`}`,
        );
      }
    });
    // While a connection names a missing input, an "unused input" is likely the one it meant.
    if (!everyInputResolves) return;
    inputs.forEach((input, index) => {
      const name = text(input.name);
      if (name !== undefined && !fed.has(name)) {
        this.add(
          ['inputs', index],
          `input "${name}" feeds no connection, so batches posted to it would be accepted and never forwarded`,
          'add a connection from it, or remove it',
        );
      }
    });
  }

  server(server: unknown): void {
    if (!isNode(server)) return;
    if (isNode(server.tls)) {
      if (text(server.tls.cert_pem) === undefined && text(server.tls.key_pem) === undefined) {
        this.add(
          ['server', 'tls'],
          'has neither a certificate nor a key',
          'set cert_file and key_file (or cert_pem and key_pem), or remove server.tls to serve plain HTTP',
        );
      }
      this.certificateAndKey(server.tls, ['server', 'tls'], 'cert_pem', 'key_pem');
    }
    const { max_batch_bytes: batch, max_request_bytes: request } = server;
    if (typeof batch === 'number' && typeof request === 'number' && batch > request) {
      this.add(
        ['server', 'max_batch_bytes'],
        `is more than max_request_bytes (${request})`,
        'a batch arrives in one request: keep it at most max_request_bytes',
      );
    }
  }

  admin(admin: unknown, server: unknown): void {
    if (!isNode(admin) || !isNode(server)) return;
    const { host, port } = admin;
    if (typeof port !== 'number' || port === 0 || port !== server.port) return;
    const wildcard = (address: unknown): boolean => address === '0.0.0.0' || address === '::';
    if (host === server.host || wildcard(host) || wildcard(server.host)) {
      this.add(
        ['admin', 'port'],
        `is the ingest port too (server.port ${port})`,
        'give the admin listener a port of its own (the default is 9464), so that probes and scrapers never share the ingest port',
      );
    }
  }
}

/** Adds every cross-setting problem of `document` (snake_case, defaults applied, files read). */
export function checkSemantics(document: unknown, problems: ProblemList, origins: ReadonlyMap<string, string>): void {
  if (!isNode(document)) return;
  const checker = new Checker(problems, origins);
  const inputs = nodes(document.inputs);
  const outputs = nodes(document.outputs);
  const connections = nodes(document.connections);
  checker.server(document.server);
  checker.admin(document.admin, document.server);
  const inputNames = checker.uniqueNames(inputs, 'inputs');
  checker.inputs(inputs);
  const outputNames = checker.uniqueNames(outputs, 'outputs');
  outputs.forEach((output, index) => checker.kafkaCluster(output, ['outputs', index]));
  checker.spool(document.spool, document.server);
  checker.uniqueNames(connections, 'connections');
  checker.connections(connections, inputs, inputNames, outputNames);
  deviceIdKeys(connections, outputs, problems);
}

/** key: mp_deviceid needs the device id in the outgoing batch, which each connection decides. */
function deviceIdKeys(connections: Node[], outputs: Node[], problems: ProblemList): void {
  connections.forEach((connection, index) => {
    const output = outputs.find((candidate) => text(candidate.name) === text(connection.output));
    if (output === undefined || output.key !== 'mp_deviceid') return;
    const settings = isNode(connection.settings) ? connection.settings : {};
    if (settings.include_mp_device_id === true) return;
    problems.add(
      ['connections', index, 'settings', 'include_mp_device_id'],
      `is off, but output "${text(output.name)}" keys its records by mp_deviceid, which it would then never receive`,
      'set include_mp_device_id: true on this connection, or choose another key for the output',
    );
  });
}
