import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JsonObject } from '../../src/format/json-value.ts';
import { mergeSessionWindow, mergeWindow, sessionBatchId } from '../../src/pipeline/merge-window.ts';
import { buildOutgoingBatch } from '../../src/pipeline/outgoing-batch.ts';
import { settings } from './fixtures.ts';

function event(name: string, session?: string): JsonObject {
  const data: JsonObject = { event_name: name, custom_event_type: 'other' };
  if (session !== undefined) data.session_uuid = session;
  return { event_type: 'custom_event', data };
}

void describe('mergeWindow (Send as Batch)', () => {
  void test('batch-level fields come from the newest batch; events are concatenated in arrival order', () => {
    const older: JsonObject = {
      batch_id: 1,
      mpid: 7,
      user_attributes: { plan: 'free' },
      device_info: { platform: 'iOS' },
      events: [event('a'), event('b')],
    };
    const newer: JsonObject = { batch_id: 2, mpid: 7, user_attributes: { plan: 'pro' }, events: [event('c')] };
    const merged = mergeWindow([older, newer]);
    assert.equal(merged?.batch_id, 2);
    assert.deepEqual(merged?.user_attributes, { plan: 'pro' });
    assert.deepEqual(merged?.device_info, { platform: 'iOS' }, 'a field only an older batch has is kept');
    assert.deepEqual(
      (merged?.events as JsonObject[]).map((e) => (e.data as JsonObject).event_name),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(older.events, [event('a'), event('b')], 'inputs are not modified');
  });

  void test('one batch is itself; no batches give null', () => {
    const only: JsonObject = { batch_id: 1, events: [] };
    assert.equal(mergeWindow([only]), only);
    assert.equal(mergeWindow([]), null);
  });

  void test('events keep the message ids their own batches gave them', () => {
    const inbound = (name: string): JsonObject => ({ mpid: 1, events: [event(name)] });
    const first = buildOutgoingBatch(inbound('a'), { batchId: 10n, receivedAtMs: 1 }, settings()).batch!;
    const second = buildOutgoingBatch(inbound('b'), { batchId: 11n, receivedAtMs: 2 }, settings()).batch!;
    const merged = mergeWindow([first, second])!;
    assert.deepEqual(
      (merged.events as JsonObject[]).map((e) => e.message_id),
      [(first.events as JsonObject[])[0].message_id, (second.events as JsonObject[])[0].message_id],
    );
    assert.equal(merged.timestamp_unixtime_ms, 2);
  });
});

void describe('mergeSessionWindow (Wait for Complete Batch)', () => {
  void test('one outgoing batch per session, in order of first appearance', () => {
    const b1: JsonObject = { batch_id: 1, mpid: 5, events: [event('s1-a', 'S1'), event('s1-b', 'S1')] };
    const b2: JsonObject = {
      batch_id: 2,
      mpid: 5,
      events: [event('s1-c', 'S1'), { event_type: 'session_end', data: { session_uuid: 'S1' } }, event('s2-a', 'S2')],
    };
    const sessions = mergeSessionWindow([b1, b2]);
    assert.equal(sessions.length, 2);
    assert.deepEqual(
      (sessions[0].events as JsonObject[]).map((e) => [e.event_type, (e.data as JsonObject).event_name]),
      [
        ['custom_event', 's1-a'],
        ['custom_event', 's1-b'],
        ['custom_event', 's1-c'],
        ['session_end', undefined],
      ],
    );
    assert.deepEqual(
      (sessions[1].events as JsonObject[]).map((e) => (e.data as JsonObject).event_name),
      ['s2-a'],
    );
    assert.equal(sessions[0].mpid, 5);
    assert.equal(sessions[1].mpid, 5);
  });

  void test('each session batch takes the batch_id of the newest batch that contributed to it', () => {
    const b1: JsonObject = { batch_id: 1, events: [event('x', 'S1')] };
    const b2: JsonObject = { batch_id: 2, events: [event('y', 'S2')] };
    const b3: JsonObject = { batch_id: 3, events: [event('z', 'S2')] };
    assert.deepEqual(
      mergeSessionWindow([b1, b2, b3]).map((s) => s.batch_id),
      [1, 3],
    );
  });

  void test('sessions whose newest batch is the same get distinct, stable, signed 64-bit batch_ids', () => {
    // b2 holds session A's end and session B's start: both sessions' newest batch is b2.
    const newestId = 1882725931937693696n;
    const b1: JsonObject = { batch_id: newestId - 1n, events: [event('a1', 'A')] };
    const b2: JsonObject = {
      batch_id: newestId,
      events: [
        { event_type: 'session_end', data: { session_uuid: 'A' } },
        { event_type: 'session_start', data: { session_uuid: 'B' } },
      ],
    };
    const ids = mergeSessionWindow([b1, b2]).map((s) => BigInt(s.batch_id as number | bigint));
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1], 'a consumer de-duplicating by batch_id keeps both sessions');
    for (const id of ids) {
      assert.ok(id >= -(2n ** 63n) && id < 0n, `${id} is a negative signed 64-bit integer`);
      assert.ok(id !== newestId - 1n && id !== newestId, 'never a batch_id the spool issued (all positive)');
    }
    assert.deepEqual(
      mergeSessionWindow([structuredClone(b1), structuredClone(b2)]).map((s) => BigInt(s.batch_id as number | bigint)),
      ids,
      'the same window gives the same ids (after a restart, say)',
    );
    assert.deepEqual(ids, [BigInt(sessionBatchId(newestId, 'uuid:A')), BigInt(sessionBatchId(newestId, 'uuid:B'))]);
  });

  void test('a batch_id only one session uses stays the newest batch id; shared ones are derived per session', () => {
    const b1: JsonObject = { batch_id: 1, events: [event('x', 'S1')] };
    const b2: JsonObject = { batch_id: 2, events: [event('y', 'S1'), event('z', 'S2')] };
    const b3: JsonObject = { batch_id: 3, events: [event('w', 'S3')] };
    const ids = mergeSessionWindow([b1, b2, b3]).map((s) => s.batch_id);
    assert.deepEqual(ids, [sessionBatchId(2, 'uuid:S1'), sessionBatchId(2, 'uuid:S2'), 3]);
    assert.equal(new Set(ids).size, 3);
  });

  void test('derived ids depend on both the batch id and the session, and stay exact past 2^53', () => {
    const ids = [
      sessionBatchId(2, 'uuid:S1'),
      sessionBatchId(3, 'uuid:S1'),
      sessionBatchId(2, 'uuid:S2'),
      sessionBatchId(2n ** 62n, 'uuid:S1'),
      sessionBatchId(2n ** 62n + 1n, 'uuid:S1'),
    ];
    assert.equal(new Set(ids.map(String)).size, ids.length);
    for (const id of ids) {
      if (typeof id === 'number') assert.ok(Number.isSafeInteger(id), 'a number only when it is exact');
      else assert.ok(id < BigInt(Number.MIN_SAFE_INTEGER));
    }
  });

  void test('session_id identifies a session when session_uuid is absent', () => {
    const withId = (id: bigint): JsonObject => ({ event_type: 'screen_view', data: { session_id: id } });
    const sessions = mergeSessionWindow([{ batch_id: 1, events: [withId(-1n), withId(2n ** 62n), withId(-1n)] }]);
    assert.deepEqual(
      sessions.map((s) => (s.events as JsonObject[]).length),
      [2, 1],
    );
  });

  void test('events without session info join the session of the event before them (or the first one)', () => {
    const sessions = mergeSessionWindow([
      { batch_id: 1, events: [event('lead'), event('a', 'S1'), event('b'), event('c', 'S2'), event('d')] },
    ]);
    assert.deepEqual(
      sessions.map((s) => (s.events as JsonObject[]).map((e) => (e.data as JsonObject).event_name)),
      [
        ['lead', 'a', 'b'],
        ['c', 'd'],
      ],
    );
  });

  void test('a single session, or none, gives one batch; no batches give none', () => {
    const batch: JsonObject = { batch_id: 1, events: [event('a')] };
    assert.deepEqual(mergeSessionWindow([batch]), [batch]);
    assert.deepEqual(mergeSessionWindow([{ batch_id: 1, events: [] }]), [{ batch_id: 1, events: [] }]);
    assert.deepEqual(mergeSessionWindow([]), []);
  });
});
