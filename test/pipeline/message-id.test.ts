import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { MESSAGE_ID_NAMESPACE, messageIdFor } from '../../src/pipeline/message-id.ts';

void test('message ids are RFC 9562 version-5 UUIDs over the namespace and "batchId/index"', () => {
  const hash = createHash('sha1')
    .update(Buffer.from(MESSAGE_ID_NAMESPACE.replaceAll('-', ''), 'hex'))
    .update('-9000000000000000000/3')
    .digest('hex');
  const id = messageIdFor(-9000000000000000000n, 3);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // Everything but the version and variant bits is the hash.
  assert.equal(id.replaceAll('-', '').slice(0, 12), hash.slice(0, 12));
  assert.equal(id.replaceAll('-', '').slice(20), hash.slice(20, 32));
});

void test('the same event always gets the same id; other events and batches get others', () => {
  assert.equal(messageIdFor(7n, 0), messageIdFor(7n, 0));
  const ids = new Set<string>();
  for (let batch = 0n; batch < 50n; batch++)
    for (let index = 0; index < 20; index++) ids.add(messageIdFor(batch, index));
  assert.equal(ids.size, 1000);
  assert.notEqual(messageIdFor(1n, 11), messageIdFor(11n, 1));
});
