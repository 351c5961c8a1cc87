// Commands that never use a secret (check, spool status, dlq) must work where the secrets are not:
// a CI job validating the file, an operator inspecting a spool without the Kafka password.
// Before the normal load, each secret setting whose `${VAR}` is unset, or whose `*_file` cannot
// be read, is set to a placeholder and listed; problems about those settings are then dropped.
// `serve` and the commands that connect never load this way.
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import type { SettingPath } from './problems.ts';
import { formatPath } from './problems.ts';
import type { SettingSchema } from './schema.ts';
import { configSchema } from './schema.ts';

/** A secret this load could not see, and why (never its value). */
export interface UnavailableSecret {
  /** The setting, e.g. outputs[0].password. */
  readonly setting: string;
  readonly why: string;
}

/** Stands in for a secret nobody will use; the loaded configuration must not reach a client. */
export const UNAVAILABLE_SECRET = 'unavailable-secret-placeholder';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g;

/** The first reference in `text` that would not resolve (unset, no default), or undefined. */
function unsetReference(text: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const [, name, colon, operator] of text.replaceAll('$${', '').matchAll(REFERENCE)) {
    const value = env[name];
    const missing = value === undefined || (colon === ':' && value === '');
    if (missing && operator !== '-') return name;
  }
  return undefined;
}

/** `${VAR}` and `${VAR:-default}` resolved, for a file path; undefined when one cannot be. */
function resolvePath(text: string, env: NodeJS.ProcessEnv): string | undefined {
  if (unsetReference(text, env) !== undefined) return undefined;
  return text.replace(
    REFERENCE,
    (_whole, name: string, colon: string | undefined, operator: string | undefined, operand: string | undefined) => {
      const value = env[name];
      const missing = value === undefined || (colon === ':' && value === '');
      return missing && operator === '-' ? (operand ?? '') : (value ?? '');
    },
  );
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A copy of the parsed document in which the secrets that are not available here are
 * placeholders, and the list of them. Everything else is left for the normal load to check.
 */
export function stubUnavailableSecrets(
  raw: unknown,
  env: NodeJS.ProcessEnv,
  baseDir: string,
): { document: unknown; unavailable: UnavailableSecret[] } {
  const unavailable: UnavailableSecret[] = [];
  const document = structuredClone(raw);
  walk(document, configSchema, []);
  return { document, unavailable };

  function walk(value: unknown, schema: SettingSchema | undefined, path: SettingPath): void {
    if (schema === undefined || typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, schema.items, [...path, index]));
      return;
    }
    const node = value as Record<string, unknown>;
    for (const [key, property] of Object.entries(schema.properties ?? {})) {
      const inner = node[key];
      const target = property['x-file-for'];
      if (target !== undefined) {
        if (schema.properties?.[target]?.['x-secret'] !== true || typeof inner !== 'string') continue;
        const file = resolvePath(inner, env);
        const why =
          file === undefined
            ? `its file path refers to ${unsetReference(inner, env)}, which is not set`
            : readable(resolve(baseDir, file))
              ? undefined
              : `the file ${resolve(baseDir, file)} cannot be read here`;
        if (why === undefined || node[target] !== undefined) continue;
        delete node[key];
        node[target] = UNAVAILABLE_SECRET;
        unavailable.push({ setting: formatPath([...path, target]), why });
      } else if (property['x-secret'] === true && typeof inner === 'string') {
        const variable = unsetReference(inner, env);
        if (variable === undefined) continue;
        node[key] = UNAVAILABLE_SECRET;
        unavailable.push({ setting: formatPath([...path, key]), why: `${variable} is not set` });
      } else {
        walk(inner, property, [...path, key]);
      }
    }
  }
}

/** Whether a problem is about one of the stubbed secrets (so it is not one here). */
export function concernsUnavailable(problemPath: string, unavailable: readonly UnavailableSecret[]): boolean {
  return unavailable.some(({ setting }) => problemPath === setting || problemPath.startsWith(`${setting}.`));
}
