// The public face of sources/events-api/: what other folders of src/ may import from it.
export { Authenticator } from './auth.ts';
export { createIngestHandler } from './ingest.ts';
export { buildOpenApiDocument } from './openapi.ts';
export { createEventsApiServer } from './server.ts';
