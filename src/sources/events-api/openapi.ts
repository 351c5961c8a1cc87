// The OpenAPI 3.1 document served at GET /openapi.json, built from the same schemas the Events
// API validates with (batch-schema.ts), so the published contract cannot drift from the checks.
import { batchJsonSchema } from './batch-schema.ts';
import type { Schema } from './batch-schema.ts';

const COMPONENTS = '#/components/schemas/';

/** Rewrites draft-07 `#/definitions/X` references to OpenAPI's `#/components/schemas/X`. */
function toComponentRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toComponentRefs);
  if (typeof value !== 'object' || value === null) return value;
  const result: Schema = {};
  for (const [key, inner] of Object.entries(value)) {
    result[key] =
      key === '$ref' && typeof inner === 'string'
        ? inner.replace('#/definitions/', COMPONENTS)
        : toComponentRefs(inner);
  }
  return result;
}

const errorBody: Schema = {
  type: 'object',
  properties: {
    errors: {
      type: 'array',
      items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

function answer(description: string): Schema {
  return { description, content: { 'application/json': { schema: { $ref: `${COMPONENTS}ErrorBody` } } } };
}

const responses: Schema = {
  '202': { description: 'Accepted: the batch is stored durably and will be forwarded.' },
  '400': answer('Malformed JSON or a batch that fails validation; each error names the path that failed.'),
  '401': answer('The Authorization header is missing or malformed.'),
  '403': answer('The API key or secret is not valid.'),
  '413': answer('The request or one batch is too large.'),
  '415': answer('Unsupported Content-Type or Content-Encoding.'),
  '429': answer('The spool is full; retry after the Retry-After header (seconds).'),
  '503': answer('Temporarily unavailable; retry with backoff.'),
};

function operation(summary: string, schema: Schema): Schema {
  return {
    summary,
    security: [{ basic: [] }],
    requestBody: { required: true, content: { 'application/json': { schema } } },
    responses,
  };
}

/** Builds the document; `serverUrl` is where clients reach this server (e.g. http://host:8080). */
export function buildOpenApiDocument(serverUrl?: string): Schema {
  const { definitions, $schema: _schema, $id: _id, ...batch } = batchJsonSchema as Schema & { definitions: Schema };
  const schemas = toComponentRefs({ ...definitions, Batch: batch, ErrorBody: errorBody }) as Schema;
  return {
    openapi: '3.1.0',
    info: {
      title: 'kafka-forwarder Events API',
      version: '2',
      description: 'mParticle-compatible Events API: batches are stored and forwarded to Apache Kafka.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths: {
      '/v2/events': { post: operation('Upload one event batch', { $ref: `${COMPONENTS}Batch` }) },
      '/v2/bulkevents': {
        post: operation('Upload up to 100 event batches', {
          type: 'array',
          maxItems: 100,
          items: { $ref: `${COMPONENTS}Batch` },
        }),
      },
    },
    components: {
      schemas,
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic', description: 'API key as user name, API secret as password.' },
      },
    },
  };
}
