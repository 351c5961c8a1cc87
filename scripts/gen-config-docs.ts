// Writes docs/configuration.md from the configuration schema (src/config/schema.ts), so that the
// reference can never disagree with what the loader accepts. test/config/docs.test.ts fails when
// the file is out of date. Run: node scripts/gen-config-docs.ts

import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import type { SettingSchema } from '../src/config/schema.ts';
import { configSchema } from '../src/config/schema.ts';
import { CONFIG_PATH_ENV, DEFAULT_CONFIG_PATH } from '../src/config/load.ts';
import { secretSettingPaths } from '../src/config/secrets.ts';

export const docsPath = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const code = (value: unknown): string => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;

function typeOf(schema: SettingSchema): string {
  if (schema.enum !== undefined) return schema.enum.map(code).join(' | ');
  if (schema.type === 'array' && schema.items !== undefined) return `list of ${typeOf(schema.items)}`;
  if (Array.isArray(schema.type)) return 'string or list of strings';
  return schema.type ?? 'any';
}

function defaultOf(schema: SettingSchema, required: boolean): string {
  if (required) return '**required**';
  if (schema.default === undefined) return 'unset';
  if (Array.isArray(schema.default) && schema.default.length === 0) return 'none';
  return code(schema.default);
}

function mirrorOf(schema: SettingSchema): string {
  const mirror = schema['x-mparticle'];
  if (mirror === undefined) return '';
  const integration = mirror.integration === 'Kafka' ? '' : ` (${mirror.integration})`;
  return `${mirror.setting}${integration}`;
}

function describe(schema: SettingSchema): string {
  // The mParticle column says what the description's closing "Mirrors …" sentence says.
  let text = (schema.description ?? '').replace(/ Mirrors mParticle's .*$/, '');
  if (schema['x-secret'] === true) text += ' **Secret**: never logged or echoed in errors.';
  if (schema.minimum !== undefined) text += ` Minimum ${schema.minimum}.`;
  if (schema.maximum !== undefined) text += ` Maximum ${schema.maximum}.`;
  return text;
}

const isSection = (schema: SettingSchema): boolean =>
  schema.type === 'object' || (schema.type === 'array' && schema.items?.type === 'object');

function sections(schema: SettingSchema, path: string, out: string[]): string[] {
  const properties = Object.entries(schema.properties ?? {});
  const rows = properties
    .filter(([, property]) => !isSection(property))
    .map(([key, property]) => {
      const required = schema.required?.includes(key) ?? false;
      return `| ${[code(key), typeOf(property), defaultOf(property, required), describe(property), mirrorOf(property)].map(cell).join(' | ')} |`;
    });
  out.push(`## ${path === '' ? 'Top level' : `\`${path}\``}`, '');
  if (schema.description !== undefined) out.push(schema.description, '');
  if (rows.length > 0) {
    out.push(
      '| Setting | Type | Default | Description | mParticle setting |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
    );
  }
  for (const [key, property] of properties) {
    if (!isSection(property)) continue;
    const childPath = path === '' ? key : `${path}.${key}`;
    if (property.type === 'array' && property.items !== undefined) {
      sections({ ...property.items, description: property.description }, `${childPath}[]`, out);
    } else {
      sections(property, childPath, out);
    }
  }
  return out;
}

/** The Markdown text of docs/configuration.md, formatted as prettier would. */
export async function renderConfigDocs(): Promise<string> {
  const text = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `node scripts/gen-config-docs.ts`; do not edit by hand. -->',
    '',
    `kafka-forwarder reads one YAML file: the path given by \`--config\`, else the environment variable \`${CONFIG_PATH_ENV}\`, else \`${DEFAULT_CONFIG_PATH}\` in the working directory. [examples/kafka-forwarder.yaml](../examples/kafka-forwarder.yaml) is a commented starting point.`,
    '',
    'On start the whole file is checked, and every problem is reported at once, each with the setting it concerns (e.g. `outputs[0].bootstrap_servers[1]`) and the fix. Unknown settings are errors, with a suggestion when one is close.',
    '',
    "The `outputs[]` settings mirror mParticle's Kafka **Configuration Settings** and `connections[].settings` mirror its **Connection Settings**; the last column names the mParticle setting.",
    '',
    '## Secrets and files',
    '',
    "- Any string may contain `${ENV_VAR}` references, replaced by the environment variable's value; `$${` writes a literal `${`. A value that is only a reference takes the type its setting needs (`port: ${PORT}`). As in Docker Compose: `${VAR:-default}` takes the default when `VAR` is unset or empty (`${VAR-default}`: only when unset), and `${VAR:?message}` is an error saying `message` when it is unset or empty. Any other reference to an unset variable is an error, the one reported for that setting.",
    "- Each secret or PEM setting has a `*_file` twin (`password_file`, `api_secret_file`, `ca_file`, `client_cert_file`, `client_key_file`, `cert_file`, `key_file`) naming a file whose contents become the value. Relative paths start at the configuration file's directory. Trailing line breaks are removed from secrets read from files.",
    `- Secret settings (${secretSettingPaths.map(code).join(', ')}) are never echoed in errors or logs.`,
    '- Connections to Kafka always use TLS: SASL_SSL when `username` is set, TLS alone (SSL) otherwise. There is no plaintext option.',
    '',
    ...sections(configSchema, '', []),
  ].join('\n');
  const options = await prettier.resolveConfig(docsPath);
  return prettier.format(text, { ...options, filepath: docsPath });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(docsPath, await renderConfigDocs());
  console.log(`wrote ${docsPath}`);
}
