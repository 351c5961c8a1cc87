import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonObject } from '../../../src/format/json-value.ts';
import { parseJson } from '../../../src/format/lossless-json.ts';
import { recordKeyOf } from '../../../src/sinks/kafka/record-key.ts';

function keyOf(json: string): string | null {
  return recordKeyOf(parseJson(json) as JsonObject);
}

void test('a safe-integer MPID keys the record with its digits', () => {
  assert.equal(keyOf('{"mpid": 1234567}'), '1234567');
  assert.equal(keyOf('{"mpid": 0}'), '0');
});

void test('a negative MPID keeps its sign', () => {
  assert.equal(keyOf('{"mpid": -42}'), '-42');
});

void test('an MPID beyond 2^53 keeps every digit (no rounding, no exponent)', () => {
  assert.equal(keyOf('{"mpid": 7346244611012968789}'), '7346244611012968789');
  assert.equal(keyOf('{"mpid": -7636538281262557001}'), '-7636538281262557001');
  assert.equal(keyOf('{"mpid": -9223372036854775808}'), '-9223372036854775808');
  assert.equal(recordKeyOf({ mpid: 2n ** 63n - 1n }), '9223372036854775807');
});

void test('no MPID gives a null key, never an empty string', () => {
  assert.equal(keyOf('{"events": []}'), null);
  assert.equal(keyOf('{"mpid": null}'), null);
  assert.equal(recordKeyOf({ mpid: 1.5 }), null, 'not an integer');
  assert.equal(recordKeyOf({ mpid: 2n ** 64n }), null, 'outside the signed 64-bit range');
});

void test('key: customer_id reads it from user_identities as sent ({customer_id}) and as forwarded ([{identity_type}])', () => {
  const sent = parseJson('{"mpid": 1, "user_identities": {"customer_id": "c-7", "email": "a@b.c"}}') as JsonObject;
  assert.equal(recordKeyOf(sent, 'customer_id'), 'c-7');
  const forwarded = parseJson(
    '{"mpid": 1, "user_identities": [{"identity_type": "email", "identity": "a@b.c"}, {"identity_type": "customer_id", "identity": "c-8"}]}',
  ) as JsonObject;
  assert.equal(recordKeyOf(forwarded, 'customer_id'), 'c-8');
  assert.equal(recordKeyOf(parseJson('{"mpid": 1}') as JsonObject, 'customer_id'), null, 'none: no key');
  assert.equal(
    recordKeyOf(parseJson('{"mpid": 1, "user_identities": {"customer_id": ""}}') as JsonObject, 'customer_id'),
    null,
    'an empty one is none',
  );
});

void test('key: mp_deviceid is the batch’s device id, or no key without one', () => {
  const batch = parseJson('{"mpid": 1, "mp_deviceid": "dev-1"}') as JsonObject;
  assert.equal(recordKeyOf(batch, 'mp_deviceid'), 'dev-1');
  assert.equal(recordKeyOf(batch, 'mpid'), '1');
  assert.equal(recordKeyOf(parseJson('{"mpid": 1}') as JsonObject, 'mp_deviceid'), null);
});
