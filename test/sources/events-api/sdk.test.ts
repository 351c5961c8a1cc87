// The official mParticle Node SDK, unchanged but for its basePath, posts to our server: every one of
// the 17 supported event_type values is answered 202 and stored exactly as sent (customerid normalised).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson } from '../../../src/format/lossless-json.ts';
import { API_KEY, API_SECRET, startTestForwarder } from './support/forwarder.ts';
import type { TestForwarder } from './support/forwarder.ts';
import { SUPPORTED_EVENT_TYPES, expectedStored, sdkBatch, sdkClient } from './support/sdk.ts';

void describe('the official mparticle SDK against our Events API', () => {
  let server: TestForwarder;
  before(async () => {
    server = await startTestForwarder();
  });
  after(() => server.close());

  void it('uploadEvents: a batch with all 17 event types gets 202 and is stored as sent', async () => {
    const sdk = sdkClient(server.url, API_KEY, API_SECRET);
    const batch = sdkBatch('sdk-single-1');
    const before = (await server.records()).length;
    const outcome = await sdk.uploadEvents(batch);
    assert.deepEqual(outcome, { status: 202, body: '' });

    const records = (await server.records()).slice(before);
    assert.equal(records.length, 1);
    const stored = parseJson(records[0].payload) as Record<string, unknown>;
    assert.deepEqual(stored, expectedStored(batch));
    const types = (stored.events as { event_type: string }[]).map((event) => event.event_type);
    assert.deepEqual([...types].sort(), [...SUPPORTED_EVENT_TYPES].sort());
    assert.equal(types.length, 17);
    assert.deepEqual(stored.user_identities, { email: 'a@example.com', customer_id: 'c-42' });
  });

  void it('uploadEvents: each event type on its own gets 202 and is stored', async () => {
    const sdk = sdkClient(server.url, API_KEY, API_SECRET);
    const before = (await server.records()).length;
    const sent = SUPPORTED_EVENT_TYPES.map((type) => sdkBatch(`sdk-type-${type}`, [type]));
    for (const batch of sent) assert.equal((await sdk.uploadEvents(batch)).status, 202);
    const stored = (await server.records()).slice(before).map((record) => parseJson(record.payload));
    assert.deepEqual(stored, sent.map(expectedStored));
  });

  void it('bulkUploadEvents: 100 batches get one 202 and are all stored, in order', async () => {
    const sdk = sdkClient(server.url, API_KEY, API_SECRET);
    const before = (await server.records()).length;
    const sent = Array.from({ length: 100 }, (_, i) =>
      sdkBatch(`sdk-bulk-${i}`, [SUPPORTED_EVENT_TYPES[i % SUPPORTED_EVENT_TYPES.length]]),
    );
    assert.deepEqual(await sdk.bulkUploadEvents(sent), { status: 202, body: '' });
    const stored = (await server.records()).slice(before).map((record) => parseJson(record.payload));
    assert.deepEqual(stored, sent.map(expectedStored));
  });

  void it('bulkUploadEvents: one invalid batch rejects the request whole, naming it', async () => {
    const sdk = sdkClient(server.url, API_KEY, API_SECRET);
    const before = (await server.records()).length;
    const sent = [sdkBatch('sdk-bad-0', ['screen_view']), sdkBatch('sdk-bad-1', ['screen_view'])];
    delete sent[1].environment;
    const outcome = await sdk.bulkUploadEvents(sent);
    assert.equal(outcome.status, 400);
    assert.deepEqual(JSON.parse(outcome.body), {
      errors: [
        {
          code: 'BAD_REQUEST',
          message: 'batches[1].environment: is required; expected "production" or "development"',
          reason: 'BAD_REQUEST',
        },
      ],
    });
    assert.equal((await server.records()).length, before);
  });

  void it('a wrong secret gets 403 through the SDK and nothing is stored', async () => {
    const sdk = sdkClient(server.url, API_KEY, 'not-the-secret');
    const before = (await server.records()).length;
    const outcome = await sdk.uploadEvents(sdkBatch('sdk-forbidden'));
    assert.equal(outcome.status, 403);
    assert.equal((JSON.parse(outcome.body) as { errors: { code: string }[] }).errors[0].code, 'FORBIDDEN');
    assert.equal((await server.records()).length, before);
  });
});
