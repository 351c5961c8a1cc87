// Writes kafka-forwarder.schema.json, the JSON Schema editors use to complete and check
// kafka-forwarder.yaml (the YAML language server reads it from a `# yaml-language-server: $schema=`
// line), from the configuration schema (src/config/schema.ts), so that the editor can never
// disagree with what the loader accepts. test/config/editor-schema.test.ts fails when the file is
// out of date. Run: npm run schema:generate (node scripts/gen-config-schema.ts)
//
// The loader's schema describes the file after `${ENV_VAR}` substitution; an editor sees it before.
// So wherever a number, boolean or one of a list of values is expected, the editor schema also
// takes a string with an environment reference (`port: ${PORT:-8080}`), as the loader does. Our
// `x-` annotation keywords are dropped (what x-secret says goes into the description).

import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import type { SettingSchema } from '../src/config/schema.ts';
import { configSchema } from '../src/config/schema.ts';

export const editorSchemaPath = fileURLToPath(new URL('../kafka-forwarder.schema.json', import.meta.url));

export const editorSchemaId = 'https://github.com/kafka-forwarder/kafka-forwarder/kafka-forwarder.schema.json';

/** A JSON Schema (draft-07) object, as written to the file. */
export type JsonSchema = { [keyword: string]: unknown };

// As src/config/env.ts: `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}`, `${NAME?message}`.
const reference = '\\$\\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\\}';
/** A value that is nothing but one reference: the loader gives it the type its setting needs. */
export const wholeReferencePattern = `^${reference}$`;
/** A string holding a reference anywhere: after substitution it may be any of a setting's values. */
export const anyReferencePattern = reference;

// No description of its own, so that editors keep showing the setting's.
const referenceString = (pattern: string): JsonSchema => ({ type: 'string', pattern });

function describe(schema: SettingSchema): string | undefined {
  if (schema.description === undefined) return undefined;
  return schema['x-secret'] === true
    ? `${schema.description} Secret: never logged or echoed in errors.`
    : schema.description;
}

const annotationKeywords = new Set(['description', 'default', 'examples']);

/** The value constraints of a setting (all but its annotations and our x- keywords), for the editor. */
function constraints(schema: SettingSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword.startsWith('x-') || annotationKeywords.has(keyword)) continue;
    if (keyword === 'items') out.items = toEditorSchema(value as SettingSchema);
    else if (keyword === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, SettingSchema>).map(([key, property]) => [
          key,
          toEditorSchema(property),
        ]),
      );
    } else out[keyword] = value;
  }
  return out;
}

/** One setting of the loader's schema as the editor should see it. */
export function toEditorSchema(schema: SettingSchema): JsonSchema {
  const annotations: JsonSchema = {};
  const description = describe(schema);
  if (description !== undefined) annotations.description = description;
  if (schema.default !== undefined) annotations.default = schema.default;
  if (schema.examples !== undefined) annotations.examples = schema.examples;
  const value = constraints(schema);
  if (schema.enum !== undefined) {
    return { ...annotations, anyOf: [value, referenceString(anyReferencePattern)] };
  }
  if (schema.type === 'integer' || schema.type === 'number' || schema.type === 'boolean') {
    return { ...annotations, anyOf: [value, referenceString(wholeReferencePattern)] };
  }
  return { ...annotations, ...value };
}

/** The editor JSON Schema of kafka-forwarder.yaml, as an object. */
export function editorSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: editorSchemaId,
    title: 'kafka-forwarder configuration',
    description:
      'kafka-forwarder.yaml, the configuration of kafka-forwarder. Any string may contain ${ENV_VAR} references. Every setting is described in docs/configuration.md. Generated from src/config/schema.ts by `npm run schema:generate`; do not edit by hand.',
    ...toEditorSchema(configSchema),
  };
}

/** The text of kafka-forwarder.schema.json, formatted as prettier would. */
export async function renderConfigSchema(): Promise<string> {
  const text = `${JSON.stringify(editorSchema(), null, 2)}\n`;
  const options = await prettier.resolveConfig(editorSchemaPath);
  return prettier.format(text, { ...options, filepath: editorSchemaPath });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(editorSchemaPath, await renderConfigSchema());
  console.log(`wrote ${editorSchemaPath}`);
}
