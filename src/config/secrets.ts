// Which settings are secrets (the schema marks them `x-secret`), and how to print a config
// without them. Secrets are never echoed in configuration errors either: see `isSecretSetting`.

import type { SettingPath } from './problems.ts';
import type { SettingSchema } from './schema.ts';
import { configSchema, snakeToCamel } from './schema.ts';
import { schemaAt } from './env.ts';
import type { ForwarderConfig } from './types.ts';

export const REDACTED = '[redacted]';

function collectSecretPaths(schema: SettingSchema, path: string[], found: string[][]): string[][] {
  if (schema['x-secret'] === true) found.push(path);
  for (const [key, property] of Object.entries(schema.properties ?? {}))
    collectSecretPaths(property, [...path, key], found);
  if (schema.items !== undefined) collectSecretPaths(schema.items, [...path, '*'], found);
  return found;
}

function joinPath(parts: string[]): string {
  return parts.map((part, index) => (part === '*' ? '[*]' : index === 0 ? part : `.${part}`)).join('');
}

const secretParts = collectSecretPaths(configSchema, [], []);

/** Secret settings as written in the YAML file, e.g. `outputs[*].password`. */
export const secretSettingPaths: readonly string[] = secretParts.map(joinPath);

/**
 * Secret fields of a loaded `ForwarderConfig`, e.g. `outputs[*].password`, in the path syntax of
 * pino's `redact` option (prefix them with the key under which a config is logged).
 */
export const secretConfigPaths: readonly string[] = secretParts.map((parts) =>
  joinPath(parts.map((part) => (part === '*' ? part : snakeToCamel(part)))),
);

/** Whether the setting at `path` (a YAML path, indexes as numbers) holds a secret. */
export function isSecretSetting(path: SettingPath): boolean {
  return schemaAt(path)?.['x-secret'] === true;
}

function redactAt(value: unknown, parts: readonly string[]): unknown {
  if (parts.length === 0) return value === undefined ? undefined : REDACTED;
  if (typeof value !== 'object' || value === null) return value;
  const [head, ...rest] = parts;
  if (Array.isArray(value)) return head === '*' ? value.map((item) => redactAt(item, rest)) : value;
  if (!(head in value)) return value;
  return { ...value, [head]: redactAt((value as Record<string, unknown>)[head], rest) };
}

/** A copy of `config` with every secret replaced by "[redacted]", safe to print or log. */
export function redactConfig(config: ForwarderConfig): ForwarderConfig {
  let copy: unknown = config;
  for (const parts of secretParts)
    copy = redactAt(
      copy,
      parts.map((part) => (part === '*' ? part : snakeToCamel(part))),
    );
  return copy as ForwarderConfig;
}
