import assert from 'node:assert/strict';
import { globSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import type { JsonSchema } from '../../scripts/gen-config-schema.ts';
import { editorSchemaPath, renderConfigSchema } from '../../scripts/gen-config-schema.ts';
import { buildConfig } from '../../src/config/index.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const examplePath = resolve(repoRoot, 'examples/kafka-forwarder.yaml');
const shippedConfigs = [
  'deploy/systemd/kafka-forwarder.yaml',
  'deploy/container/kafka-forwarder.yaml',
  'deploy/container/compose/kafka-forwarder.yaml',
];
const configMaps = globSync('deploy/kubernetes/*/configmap.yaml', { cwd: repoRoot }).sort();

async function editorValidator(): Promise<ValidateFunction> {
  const schema = JSON.parse(await readFile(editorSchemaPath, 'utf8')) as JsonSchema;
  // Strict, so that a keyword ajv does not know (one of our x- annotations left in) is an error.
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  return ajv.compile(schema);
}

function assertValid(validate: ValidateFunction, document: unknown, name: string): void {
  assert.ok(
    validate(document),
    `${name} fails kafka-forwarder.schema.json: ${JSON.stringify(validate.errors, null, 2)}`,
  );
}

async function example(): Promise<unknown> {
  return parse(await readFile(examplePath, 'utf8')) as unknown;
}

void describe('kafka-forwarder.schema.json', () => {
  void it('is current with the schema', async () => {
    const written = await readFile(editorSchemaPath, 'utf8');
    assert.ok(
      written === (await renderConfigSchema()),
      'kafka-forwarder.schema.json is out of date with src/config/schema.ts; run: npm run schema:generate',
    );
  });

  void it('describes every setting', async () => {
    const schema = JSON.parse(await readFile(editorSchemaPath, 'utf8')) as JsonSchema;
    const undescribed: string[] = [];
    const walk = (node: JsonSchema, path: string): void => {
      if (node.items !== undefined) walk(node.items as JsonSchema, `${path}[]`);
      for (const [key, property] of Object.entries((node.properties ?? {}) as Record<string, JsonSchema>)) {
        const propertyPath = path === '' ? key : `${path}.${key}`;
        if (typeof property.description !== 'string' || property.description === '') undescribed.push(propertyPath);
        walk(property, propertyPath);
      }
    };
    walk(schema, '');
    assert.deepEqual(undescribed, []);
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(typeof schema.$id, 'string');
    assert.equal(typeof schema.title, 'string');
  });

  void it('accepts examples/kafka-forwarder.yaml and every shipped configuration', async () => {
    const validate = await editorValidator();
    assertValid(validate, await example(), 'examples/kafka-forwarder.yaml');
    for (const file of shippedConfigs) {
      assertValid(validate, parse(await readFile(resolve(repoRoot, file), 'utf8')), file);
    }
    assert.equal(configMaps.length, 2, 'the Kubernetes ConfigMaps');
    for (const file of configMaps) {
      const configMap = parse(await readFile(resolve(repoRoot, file), 'utf8')) as { data: Record<string, string> };
      assertValid(validate, parse(configMap.data['kafka-forwarder.yaml']), `${file} data.kafka-forwarder.yaml`);
    }
  });

  void it('accepts ${ENV_VAR} references where a number, boolean or listed value goes, as the loader does', async () => {
    const text = `
log_level: \${LOG_LEVEL:-info}
server:
  port: \${PORT:-8080}
  max_batches_per_bulk: \${MAX_BATCHES}
spool:
  high_water_ratio: \${HIGH_WATER_RATIO}
inputs:
  - name: web
    credentials:
      - api_key: \${MP_API_KEY}
        api_secret: \${MP_API_SECRET:?set it}
outputs:
  - name: events
    bootstrap_servers: \${KAFKA_BOOTSTRAP_SERVERS}
    topic: events
    authentication_method: SCRAM-SHA-\${SCRAM_BITS}
    compression: \${COMPRESSION-zstd}
    username: forwarder
    password: \${KAFKA_PASSWORD}
connections:
  - name: web-to-events
    input: web
    output: events
    settings:
      send_as_batch: \${SEND_AS_BATCH:-true}
      metadata_field_exclusion:
        - \${EXCLUDED_FIELD}
`;
    const document = parse(text) as unknown;
    assertValid(await editorValidator(), document, 'the configuration with references');
    const config = await buildConfig(document, {
      env: {
        MAX_BATCHES: '50',
        HIGH_WATER_RATIO: '0.8',
        MP_API_KEY: 'key',
        MP_API_SECRET: 'secret',
        KAFKA_BOOTSTRAP_SERVERS: 'broker-1.example.com:9093',
        SCRAM_BITS: '512',
        KAFKA_PASSWORD: 'password',
        EXCLUDED_FIELD: 'ip_address',
      },
    });
    assert.equal(config.server.port, 8080);
    assert.equal(config.spool.highWaterRatio, 0.8);
    assert.equal(config.outputs[0].authenticationMethod, 'SCRAM-SHA-512');
    assert.equal(config.connections[0].settings.sendAsBatch, true);
  });

  void it('rejects a misspelt setting and a value of the wrong type', async () => {
    const validate = await editorValidator();

    const misspelt = (await example()) as { outputs: Record<string, unknown>[] };
    misspelt.outputs[0].bootstrap_server = misspelt.outputs[0].bootstrap_servers;
    delete misspelt.outputs[0].bootstrap_servers;
    assert.equal(validate(misspelt), false);
    assert.ok(
      validate.errors?.some(
        (error) =>
          error.instancePath === '/outputs/0' &&
          error.keyword === 'additionalProperties' &&
          error.params.additionalProperty === 'bootstrap_server',
      ),
      JSON.stringify(validate.errors),
    );

    const wrongType = (await example()) as { server: Record<string, unknown> };
    wrongType.server = { port: 'eighty' };
    assert.equal(validate(wrongType), false);
    assert.ok(
      validate.errors?.some((error) => error.instancePath === '/server/port'),
      JSON.stringify(validate.errors),
    );

    // A number written with more than one reference stays a string in the loader, too.
    const twoReferences = (await example()) as { server: Record<string, unknown> };
    twoReferences.server = { port: '${PORT_PREFIX}${PORT_SUFFIX}' };
    assert.equal(validate(twoReferences), false);
  });

  void it('is named by the first line of examples/kafka-forwarder.yaml', async () => {
    const firstLine = (await readFile(examplePath, 'utf8')).split('\n')[0];
    const schemaReference = relative(dirname(examplePath), editorSchemaPath);
    assert.equal(schemaReference, '../kafka-forwarder.schema.json');
    assert.equal(firstLine, `# yaml-language-server: $schema=${schemaReference}`);
  });
});
