import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJson } from '../../../src/format/lossless-json.ts';
import type { JsonObject } from '../../../src/format/json-value.ts';
import { buildRecords } from '../../../src/sinks/kafka/request-builder.ts';
import { backoffDelayMs } from '../../../src/sinks/kafka/service.ts';

function batchWith(mpid: number | bigint | null, eventPads: number[]): JsonObject {
  return {
    ...(mpid !== null && { mpid }),
    environment: 'production',
    events: eventPads.map((pad, n) => ({ event_type: 'custom_event', data: { n, pad: 'x'.repeat(pad) } })),
  };
}

test('a batch that fits is one record keyed by the exact MPID digits', () => {
  const { records, oversized } = buildRecords(batchWith(-9223372036854775808n, [10]), 10_000);
  assert.equal(records.length, 1);
  assert.equal(records[0].key, '-9223372036854775808');
  assert.match(records[0].value.toString(), /^\{"mpid":-9223372036854775808,/);
  assert.deepEqual(oversized, []);
});

test('no MPID gives a null key, never an empty one', () => {
  assert.equal(buildRecords(batchWith(null, [1]), 10_000).records[0].key, null);
});

test('a batch too large is split by events into records that each fit, in event order', () => {
  const batch = batchWith(7, [300, 300, 300, 300, 300]);
  const { records, oversized } = buildRecords(batch, 800);
  assert.deepEqual(oversized, []);
  assert.ok(records.length >= 3);
  for (const record of records) assert.ok(record.value.length <= 800, `${record.value.length} bytes`);
  const events = records.flatMap((record) => (parseJson(record.value) as { events: { data: { n: number } }[] }).events);
  assert.deepEqual(
    events.map((event) => event.data.n),
    [0, 1, 2, 3, 4],
  );
  assert.ok(records.every((record) => (parseJson(record.value) as JsonObject).environment === 'production'));
});

test('an event too large even alone is reported oversized; the rest are sent', () => {
  const { records, oversized } = buildRecords(batchWith(7, [10, 2000, 10]), 800);
  assert.equal(oversized.length, 1);
  assert.equal(oversized[0].limit, 800);
  const events = records.flatMap((record) => (parseJson(record.value) as { events: { data: { n: number } }[] }).events);
  assert.deepEqual(
    events.map((event) => event.data.n),
    [0, 2],
  );
});

test('backoff doubles from the minimum up to the maximum, with at most half of it random', () => {
  assert.equal(
    backoffDelayMs(1, 100, 30_000, () => 0),
    50,
  );
  assert.equal(
    backoffDelayMs(1, 100, 30_000, () => 0.999999),
    100,
  );
  assert.equal(
    backoffDelayMs(4, 100, 30_000, () => 0),
    400,
  );
  assert.equal(
    backoffDelayMs(40, 100, 30_000, () => 0),
    15_000,
  );
  assert.equal(
    backoffDelayMs(40, 100, 30_000, () => 0.999999),
    30_000,
  );
});
