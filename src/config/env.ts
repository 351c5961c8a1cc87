// `${ENV_VAR}` references: any string in the file may take text from the environment, so that
// secrets (and anything that differs per deployment) stay out of the file. `$${` writes a
// literal `${`. A value that is nothing but one reference takes the type its setting needs, so
// `port: ${PORT}` works.

import type { SettingPath, ProblemList } from './problems.ts';
import { formatPath } from './problems.ts';
import type { SettingSchema } from './schema.ts';
import { configSchema } from './schema.ts';

const reference = /\$\$\{|\$\{([^}]*)\}?/g;
const validName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const wholeReference = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** The schema of the setting at `path`, if the path is one the schema declares. */
export function schemaAt(path: SettingPath): SettingSchema | undefined {
  let schema: SettingSchema | undefined = configSchema;
  for (const part of path) {
    if (schema === undefined) return undefined;
    schema = typeof part === 'number' ? schema.items : schema.properties?.[part];
  }
  return schema;
}

function typed(text: string, schema: SettingSchema | undefined): unknown {
  switch (schema?.type) {
    case 'integer':
      return /^-?\d+$/.test(text.trim()) ? Number(text) : text;
    case 'number': {
      const number = Number(text);
      return text.trim() !== '' && Number.isFinite(number) ? number : text;
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    default:
      return text;
  }
}

function substituteString(
  text: string,
  path: SettingPath,
  env: NodeJS.ProcessEnv,
  problems: ProblemList,
  origins: Map<string, string>,
): unknown {
  if (!text.includes('$')) return text;
  const names: string[] = [];
  const result = text.replace(reference, (whole, name: string | undefined) => {
    if (whole === '$${') return '${';
    if (name === undefined || !whole.endsWith('}') || !validName.test(name)) {
      problems.add(
        path,
        'has a `${` that does not start a `${NAME}` environment reference',
        'write `${NAME}` with a name of letters, digits and underscores, or `$${` for a literal `${`',
      );
      return whole;
    }
    const value = env[name];
    if (value === undefined) {
      problems.add(
        path,
        `refers to the environment variable ${name}, which is not set`,
        `set ${name} in the forwarder's environment`,
      );
      return whole;
    }
    names.push(name);
    return value;
  });
  if (names.length > 0) origins.set(formatPath(path), `environment variable ${names.join(', ')}`);
  return wholeReference.test(text) ? typed(result, schemaAt(path)) : result;
}

/**
 * A copy of a parsed YAML document with environment references replaced; missing variables and
 * malformed references go to `problems`, and `origins` records which settings came from where.
 */
export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: ProblemList,
  origins: Map<string, string>,
  path: SettingPath = [],
): unknown {
  if (typeof value === 'string') return substituteString(value, path, env, problems, origins);
  if (Array.isArray(value))
    return value.map((item, index) => substituteEnv(item, env, problems, origins, [...path, index]));
  if (typeof value === 'object' && value !== null) {
    // fromEntries, not assignment, so that a `__proto__` key stays a key (and is then reported unknown).
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, substituteEnv(inner, env, problems, origins, [...path, key])]),
    );
  }
  return value;
}
