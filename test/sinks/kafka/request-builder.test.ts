import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJson, stringifyJson } from '../../../src/format/lossless-json.ts';
import type { JsonObject } from '../../../src/format/json-value.ts';
import { buildRecords, splitRecord, type OutgoingRecord } from '../../../src/sinks/kafka/request-builder.ts';
import { backoffDelayMs } from '../../../src/sinks/kafka/service.ts';

function batchWith(mpid: number | bigint | null, eventPads: number[]): JsonObject {
  return {
    ...(mpid !== null && { mpid }),
    environment: 'production',
    events: eventPads.map((pad, n) => ({
      event_type: 'custom_event',
      data: { n, pad: 'x'.repeat(pad) },
      message_id: `m${n}`,
    })),
  };
}

const ONE_BATCH = { seqs: [5n] };

function build(batch: JsonObject, maxRecordBytes: number, perEvent = false) {
  return buildRecords(batch, ONE_BATCH, { maxRecordBytes, perEvent });
}

/** The record's metadata agrees with its value: each span is that event's JSON text, in order. */
function assertSpans(record: OutgoingRecord): void {
  const value = parseJson(record.value) as { events: JsonObject[] };
  assert.equal(record.events.length, value.events.length);
  record.events.forEach((event, index) => {
    assert.equal(record.value.subarray(event.start, event.end).toString('utf8'), stringifyJson(value.events[index]));
    assert.equal(event.messageId, value.events[index].message_id);
  });
}

/** A batch with what the writer must get exactly right: 64-bit digits, escapes, non-ASCII, raw numbers. */
function trickyBatch(): JsonObject {
  const parsed = parseJson(
    '{"mpid":-9223372036854775808,"ip":"","user_attributes":{"naïve \\"q\\"":"日本","n":13.0},' +
      '"events":[{"event_type":"custom_event","message_id":"a","data":{"v":18446744073709551615,"s":"\\u2028é"}},' +
      '{"event_type":"screen_view","message_id":"b","data":{"screen_name":"😀"}}],' +
      '"context":{"data_plan":{"plan_id":"p"}},"environment":"production"}',
  );
  assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed));
  return parsed as JsonObject;
}

test('a batch that fits is one record keyed by the exact MPID digits', () => {
  const { records, oversized } = build(batchWith(-9223372036854775808n, [10]), 10_000);
  assert.equal(records.length, 1);
  assert.equal(records[0].key, '-9223372036854775808');
  assert.match(records[0].value.toString(), /^\{"mpid":-9223372036854775808,/);
  assert.deepEqual(oversized, []);
});

test('no MPID gives a null key, never an empty one', () => {
  assert.equal(build(batchWith(null, [1]), 10_000).records[0].key, null);
});

test('a batch too large is split by events into records that each fit, in event order', () => {
  const batch = batchWith(7, [300, 300, 300, 300, 300]);
  const { records, oversized } = build(batch, 800);
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
  const { records, oversized } = build(batchWith(7, [10, 2000, 10]), 800);
  assert.equal(oversized.length, 1);
  assert.equal(oversized[0].limit, 800);
  assert.equal(oversized[0].messageId, 'm1');
  assert.deepEqual(oversized[0].batches, [5n]);
  const events = records.flatMap((record) => (parseJson(record.value) as { events: { data: { n: number } }[] }).events);
  assert.deepEqual(
    events.map((event) => event.data.n),
    [0, 2],
  );
});

test('a record is byte for byte the batch as stringifyJson writes it, with each event located in it', () => {
  const batch = trickyBatch();
  const { records } = build(batch, 1_000_000);
  assert.equal(records.length, 1);
  assert.equal(records[0].value.toString('utf8'), stringifyJson(batch));
  assertSpans(records[0]);
  assert.deepEqual(records[0].batches, [5n]);
  // Wherever the events member stands: first, last, or alone.
  const { events, ...rest } = batch;
  for (const shaped of [{ events, ...rest }, { ...rest, events }, { events }]) {
    const [record] = build(shaped, 1_000_000).records;
    assert.equal(record.value.toString('utf8'), stringifyJson(shaped));
    assertSpans(record);
  }
});

test('per-event: one record per event, each exactly the batch with just that event', () => {
  const batch = trickyBatch();
  const { records } = build(batch, 1_000_000, true);
  assert.equal(records.length, 2);
  records.forEach((record, index) => {
    const events = [(batch.events as JsonObject[])[index]];
    assert.equal(record.value.toString('utf8'), stringifyJson({ ...batch, events }));
    assertSpans(record);
  });
});

test('a batch without events is one record naming every batch of its origin; too large, it is oversized', () => {
  const batch = { environment: 'production', mpid: 1, events: [], context: { a: 'x'.repeat(100) } };
  const origin = { seqs: [3n, 4n] };
  const { records } = buildRecords(batch, origin, { maxRecordBytes: 10_000 });
  assert.equal(records[0].value.toString('utf8'), stringifyJson(batch));
  assert.deepEqual(records[0].events, []);
  assert.deepEqual(records[0].batches, [3n, 4n]);
  const tooLarge = buildRecords(batch, origin, { maxRecordBytes: 50 });
  assert.deepEqual(tooLarge.records, []);
  assert.deepEqual(
    tooLarge.oversized.map((o) => [o.messageId, o.batches]),
    [[undefined, [3n, 4n]]],
  );
});

test('a window’s record says which spool batch each event came from', () => {
  const batch = batchWith(7, [1, 1, 1]);
  const eventSeqs = new Map([
    ['m0', 10n],
    ['m1', 11n],
    ['m2', 11n],
  ]);
  const [record] = buildRecords(batch, { seqs: [10n, 11n], eventSeqs }, { maxRecordBytes: 10_000 }).records;
  assert.deepEqual(
    record.events.map((event) => [event.messageId, event.seq]),
    [
      ['m0', 10n],
      ['m1', 11n],
      ['m2', 11n],
    ],
  );
  assert.deepEqual(record.batches, [10n, 11n]);
  assert.throws(
    () => buildRecords(batch, { seqs: [10n, 11n], eventSeqs: new Map() }, { maxRecordBytes: 10_000 }),
    /no spool batch/,
  );
});

test('splitRecord: two halves by events, each exactly the batch with its events, metadata following', () => {
  const batch = trickyBatch();
  (batch.events as JsonObject[]).push({ event_type: 'custom_event', message_id: 'c', data: {} });
  const [whole] = build(batch, 1_000_000).records;
  const halves = splitRecord(whole);
  assert.ok(halves !== undefined);
  const events = batch.events as JsonObject[];
  assert.equal(halves[0].value.toString('utf8'), stringifyJson({ ...batch, events: events.slice(0, 2) }));
  assert.equal(halves[1].value.toString('utf8'), stringifyJson({ ...batch, events: events.slice(2) }));
  for (const half of halves) {
    assert.equal(half.key, whole.key);
    assertSpans(half);
  }
  // Halves split again down to single events; a single event does not split.
  const quarter = splitRecord(halves[0]);
  assert.ok(quarter !== undefined);
  assert.equal(quarter[1].value.toString('utf8'), stringifyJson({ ...batch, events: [events[1]] }));
  assert.equal(splitRecord(quarter[1]), undefined);
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

void test('headers: the batch-wide ones on every record, message_id and event_type on per-event records only', () => {
  const batch = { batch_id: 77, source_request_id: 'req-1', ...batchWith(1, [1, 1]) };
  const fields = ['batch_id', 'message_id', 'event_type', 'input', 'source_request_id', 'content-type'] as const;
  const perEvent = buildRecords(batch, ONE_BATCH, {
    maxRecordBytes: 100_000,
    perEvent: true,
    headers: { fields, input: 'web' },
  });
  assert.deepEqual(
    perEvent.records.map((record) => record.headers),
    [0, 1].map((n) => [
      ['batch_id', '77'],
      ['input', 'web'],
      ['source_request_id', 'req-1'],
      ['content-type', 'application/json'],
      ['message_id', `m${n}`],
      ['event_type', 'custom_event'],
    ]),
  );
  const batched = buildRecords(batch, ONE_BATCH, { maxRecordBytes: 100_000, headers: { fields, input: 'web' } });
  assert.equal(batched.records.length, 1);
  assert.deepEqual(batched.records[0].headers, [
    ['batch_id', '77'],
    ['input', 'web'],
    ['source_request_id', 'req-1'],
    ['content-type', 'application/json'],
  ]);
  // A split keeps them.
  const halves = splitRecord(batched.records[0]);
  assert.deepEqual(halves?.[1].headers, batched.records[0].headers);
  // None asked for, none set; a value the batch lacks is left out.
  assert.equal(build(batch, 100_000, true).records[0].headers, undefined);
  const bare = buildRecords(batchWith(1, [1]), ONE_BATCH, {
    maxRecordBytes: 100_000,
    headers: { fields: ['source_request_id', 'input'], input: 'web' },
  });
  assert.deepEqual(bare.records[0].headers, [['input', 'web']]);
});
