// Turns ajv's schema errors into problems an operator can act on: the setting's path, what is
// wrong in words, and the fix, with "did you mean" for misspelt keys and values. Values of secret
// settings are never quoted.

import type { ErrorObject } from 'ajv';
import { closest } from './did-you-mean.ts';
import type { ProblemList, SettingPath } from './problems.ts';
import { formatPath } from './problems.ts';
import { configValidator } from './schema.ts';
import { schemaAt } from './env.ts';
import { isSecretSetting } from './secrets.ts';

// Names people bring from Kafka client configs or mParticle's UI, mapped to ours.
const aliases: Record<string, string> = {
  brokers: 'bootstrap_servers',
  'bootstrap.servers': 'bootstrap_servers',
  servers: 'bootstrap_servers',
  topic_name: 'topic',
  sasl_mechanism: 'authentication_method',
  'sasl.mechanism': 'authentication_method',
  mechanism: 'authentication_method',
  user: 'username',
  user_name: 'username',
  ssl_ca_file: 'ca_file',
  'ssl.ca.location': 'ca_file',
};
const plaintextKeys = /^(security[._]protocol|ssl|tls|use_tls|use_ssl|plaintext|insecure)$/i;

function toPath(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function typeName(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

const expectedTypes: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of settings',
  'string,array': 'a comma-separated string or a list of strings',
};

function quoted(path: SettingPath, value: unknown): string {
  return isSecretSetting(path) ? '' : ` (it is ${JSON.stringify(value)})`;
}

function describeUnknownKey(
  path: SettingPath,
  key: string,
  allowed: string[],
  problems: ProblemList,
): string | undefined {
  const keyPath = [...path, key];
  const parent = path[0];
  if (parent === 'outputs' && plaintextKeys.test(key)) {
    problems.add(keyPath, 'is not a setting', 'remove it: TLS is always on and there is no plaintext option');
    return undefined;
  }
  const suggestion = allowed.includes(aliases[key] ?? '') ? aliases[key] : closest(key, allowed);
  const fix =
    suggestion !== undefined
      ? `did you mean ${suggestion}?`
      : `remove it; the settings at ${formatPath(path) || 'the top level'} are ${allowed.join(', ')}`;
  problems.add(keyPath, 'is not a setting', fix);
  return suggestion;
}

function describe(error: ErrorObject, document: unknown, problems: ProblemList): void {
  const path = toPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const schema = schemaAt(path);
  const value = path.reduce<unknown>((node, part) => (node as Record<string | number, unknown>)?.[part], document);
  switch (error.keyword) {
    case 'type': {
      const expected = expectedTypes[String(params.type)] ?? String(params.type);
      if (value === null) problems.add(path, 'is empty', `give it ${expected}, or remove the key to use the default`);
      else problems.add(path, `must be ${expected}, not ${typeName(value)}`, `write ${expected}`);
      return;
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const suggestion = typeof value === 'string' ? closest(value, allowed) : undefined;
      problems.add(
        path,
        `must be one of ${allowed.join(', ')}${quoted(path, value)}`,
        suggestion !== undefined ? `did you mean ${suggestion}?` : 'use one of the values listed',
      );
      return;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum': {
      const words = { minimum: 'at least', maximum: 'at most', exclusiveMinimum: 'more than' }[error.keyword];
      problems.add(
        path,
        `must be ${words} ${String(params.limit)}${quoted(path, value)}`,
        `use a value ${words} ${String(params.limit)}`,
      );
      return;
    }
    case 'minLength':
      problems.add(path, 'is an empty string', 'give it a value, or remove the key');
      return;
    case 'minItems':
      problems.add(
        path,
        `needs at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}`,
        `add ${schema?.description ?? 'entries'}`,
      );
      return;
    case 'uniqueItems':
      problems.add(
        path,
        `lists the same value twice (entries ${String(params.j)} and ${String(params.i)})`,
        'remove the duplicate',
      );
      return;
    default:
      problems.add(path, error.message ?? `fails the ${error.keyword} check`, 'see docs/configuration.md');
  }
}

/**
 * Validates a parsed, env-substituted document against the schema, filling in defaults in
 * place. Every violation is added to `problems`. Returns whether the document passed.
 */
export function validateAgainstSchema(document: unknown, problems: ProblemList): boolean {
  const validate = configValidator();
  if (validate(document)) return true;
  const errors = validate.errors ?? [];
  // A misspelt required key yields "unknown key" and "missing key"; the first says it all.
  const suggested = new Set<string>();
  for (const error of errors) {
    if (error.keyword !== 'additionalProperties') continue;
    const path = toPath(error.instancePath);
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const allowed = Object.keys(schemaAt(path)?.properties ?? {});
    const suggestion = describeUnknownKey(path, key, allowed, problems);
    if (suggestion !== undefined) suggested.add(formatPath([...path, suggestion]));
  }
  for (const error of errors) {
    if (error.keyword === 'additionalProperties') continue;
    if (error.keyword === 'required') {
      const path = [
        ...toPath(error.instancePath),
        String((error.params as { missingProperty: string }).missingProperty),
      ];
      if (suggested.has(formatPath(path))) continue;
      const description = schemaAt(path)?.description;
      problems.add(path, 'is required', `add it${description === undefined ? '' : ` (${description})`}`);
      continue;
    }
    describe(error, document, problems);
  }
  return false;
}
