// `${ENV_VAR}` references: any string in the file may take text from the environment, so that
// secrets (and anything that differs per deployment) stay out of the file. `$${` writes a
// literal `${`. A value that is nothing but one reference takes the type its setting needs, so
// `port: ${PORT}` works. As in Docker Compose and Vector:
//   ${NAME:-default}  the default when NAME is unset or empty (${NAME-default}: only when unset);
//   ${NAME:?message}  an error saying `message` when NAME is unset or empty (${NAME?message}: unset).

import type { SettingPath, ProblemList } from './problems.ts';
import { formatPath } from './problems.ts';
import type { SettingSchema } from './schema.ts';
import { configSchema } from './schema.ts';

const reference = /\$\$\{|\$\{([^}]*)\}?/g;
/** Inside `${…}`: the name, then optionally `:-`, `-`, `:?` or `?` and the text after it. */
const referenceBody = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])(.*))?$/s;
const wholeReference = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}$/;

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
    const parts = name === undefined || !whole.endsWith('}') ? null : referenceBody.exec(name);
    if (parts === null) {
      problems.addRoot(
        path,
        'has a `${` that does not start a `${NAME}` environment reference',
        'write `${NAME}` (or `${NAME:-default}`, `${NAME:?message}`) with a name of letters, digits and underscores, or `$${` for a literal `${`',
      );
      return whole;
    }
    const [, variable, colon, operator, operand] = parts;
    const value = env[variable];
    // With the colon, an empty value counts as unset.
    const missing = value === undefined || (colon === ':' && value === '');
    if (!missing) {
      names.push(variable);
      return value;
    }
    if (operator === '-') return operand;
    if (operator === '?') {
      problems.addRoot(
        path,
        `needs the environment variable ${variable}${value === undefined ? ', which is not set' : ', which is empty'}${operand === '' ? '' : `: ${operand}`}`,
        `set ${variable} in the forwarder's environment`,
      );
      return whole;
    }
    problems.addRoot(
      path,
      `refers to the environment variable ${variable}, which is ${value === undefined ? 'not set' : 'empty'}`,
      `set ${variable} in the forwarder's environment, or give a default: \${${variable}:-default}`,
    );
    return whole;
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
