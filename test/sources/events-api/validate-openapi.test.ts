import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { buildOpenApiDocument } from '../../../src/sources/events-api/openapi.ts';
import { batchJsonSchema, bulkJsonSchema } from '../../../src/sources/events-api/batch-schema.ts';

void describe('published schemas', () => {
  void it('the batch and bulk JSON Schemas compile as draft-07 and accept a plain batch', () => {
    const ajv = new Ajv({ allowUnionTypes: true, strict: false });
    ajv.addSchema(batchJsonSchema);
    const validateBulk = ajv.compile(bulkJsonSchema);
    const batch = { environment: 'production', events: [{ event_type: 'screen_view', data: { screen_name: 'Home' } }] };
    assert.equal(validateBulk([batch]), true);
    assert.equal(validateBulk([{ events: [] }]), false);
  });

  void it('the OpenAPI document references only components it defines', () => {
    const document = buildOpenApiDocument('http://127.0.0.1:8080');
    const text = JSON.stringify(document);
    assert.equal(text.includes('#/definitions/'), false);
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) assert.ok(name in schemas, name);
    assert.ok('Batch' in schemas && 'Event_custom_event' in schemas);
  });
});
