// GET /openapi.json serves an OpenAPI 3 document whose request schemas accept what the server accepts
// (mParticle's own sample batch) and reject what it rejects.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { post, startTestForwarder } from './support/forwarder.ts';
import type { TestForwarder } from './support/forwarder.ts';

const SAMPLE = fileURLToPath(new URL('../../fixtures/eventsapi.sample.json', import.meta.url));

type Doc = Record<string, unknown> & {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
};

function requestSchemaPointer(path: string): string {
  const escaped = path.replaceAll('~', '~0').replaceAll('/', '~1');
  return `openapi.json#/paths/${escaped}/post/requestBody/content/application~1json/schema`;
}

void describe('GET /openapi.json', () => {
  let server: TestForwarder;
  let document: Doc;
  let ajv: Ajv2020;
  before(async () => {
    server = await startTestForwarder();
    const response = await fetch(`${server.url}/openapi.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    document = (await response.json()) as Doc;
    // OpenAPI 3.1 schemas are JSON Schema 2020-12; OpenAPI's own keywords are not JSON Schema.
    ajv = new Ajv2020({ strict: false, allowUnionTypes: true });
    ajv.addSchema(document, 'openapi.json');
  });
  after(() => server.close());

  void it('is an OpenAPI 3 document describing both ingest operations with Basic auth', () => {
    assert.match(document.openapi, /^3\.\d+\.\d+$/);
    assert.equal(typeof document.info.title, 'string');
    assert.equal(typeof document.info.version, 'string');
    for (const path of ['/v2/events', '/v2/bulkevents']) {
      const operation = document.paths[path]?.post;
      assert.ok(operation, `${path} has a POST operation`);
      const responses = operation.responses as Record<string, unknown>;
      for (const status of ['202', '400', '401', '403', '413', '415', '429', '503'])
        assert.ok(status in responses, `${path} ${status}`);
      assert.deepEqual(operation.security, [{ basic: [] }]);
    }
    const schemes = document.components.securitySchemes ?? {};
    const basic = schemes.basic as { type: string; scheme: string };
    assert.deepEqual([basic.type, basic.scheme], ['http', 'basic']);
    const text = JSON.stringify(document);
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      assert.ok(name in document.components.schemas, `dangling $ref ${name}`);
    }
  });

  void it("its request schemas accept mParticle's sample batch, which the server also accepts", async () => {
    const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Record<string, unknown>;
    const single = ajv.getSchema(requestSchemaPointer('/v2/events'));
    const bulk = ajv.getSchema(requestSchemaPointer('/v2/bulkevents'));
    assert.ok(single && bulk);
    assert.equal(single(sample), true, JSON.stringify(single.errors));
    assert.equal(bulk([sample, sample]), true, JSON.stringify(bulk.errors));
    assert.equal((await post(server.url, '/v2/events', readFileSync(SAMPLE, 'utf8'))).status, 202);
  });

  void it("its request schemas accept the user attribute changes mParticle's Python SDK builds, as the server does", async () => {
    const single = ajv.getSchema(requestSchemaPointer('/v2/events'))!;
    const batch = {
      environment: 'production',
      events: [
        { event_type: 'user_attribute_change', data: { user_attribute_name: 'tier', deleted: true } },
        {
          event_type: 'user_attribute_change',
          data: { user_attribute_name: 'plan', new: 'gold', is_new_attribute: true },
        },
      ],
    };
    assert.equal(single(batch), true, JSON.stringify(single.errors));
    assert.equal((await post(server.url, '/v2/events', batch)).status, 202);
    const noIdentity = {
      environment: 'production',
      events: [{ event_type: 'user_identity_change', data: { old: null } }],
    };
    assert.equal(single(noIdentity), false);
    assert.equal((await post(server.url, '/v2/events', noIdentity)).status, 400);
  });

  void it('its request schemas reject what the server rejects', async () => {
    const single = ajv.getSchema(requestSchemaPointer('/v2/events'))!;
    const bulk = ajv.getSchema(requestSchemaPointer('/v2/bulkevents'))!;
    const noEnvironment = { events: [] };
    const unknownType = { environment: 'production', events: [{ event_type: 'page_view', data: {} }] };
    for (const batch of [noEnvironment, unknownType]) {
      assert.equal(single(batch), false);
      assert.equal((await post(server.url, '/v2/events', batch)).status, 400);
    }
    const tooMany = Array.from({ length: 101 }, () => ({ environment: 'production' }));
    assert.equal(bulk(tooMany), false);
    assert.equal((await post(server.url, '/v2/bulkevents', tooMany)).status, 400);
  });
});
