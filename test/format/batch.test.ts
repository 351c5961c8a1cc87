import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  SUPPORTED_EVENT_TYPES,
  UNSUPPORTED_EVENT_TYPES,
  batchEnvironment,
  batchEvents,
  batchId,
  batchMpid,
  deviceId,
  eventId,
  int64ToString,
  isInt64,
  isKnownEventType,
  isSupportedEventType,
  userIdentities,
} from '../../src/format/batch.ts';
import type { BatchEvent } from '../../src/format/batch.ts';
import { parseJson } from '../../src/format/lossless-json.ts';
import type { JsonObject } from '../../src/format/json-value.ts';

void describe('event types', () => {
  void it('lists the 17 supported types and three known-but-unsupported ones', () => {
    assert.equal(SUPPORTED_EVENT_TYPES.length, 17);
    assert.deepEqual([...UNSUPPORTED_EVENT_TYPES], ['pre_attribution', 'push_reaction', 'unknown']);
    assert.ok(isSupportedEventType('user_identity_change'));
    assert.ok(!isSupportedEventType('push_reaction'));
    assert.ok(isKnownEventType('push_reaction'));
    assert.ok(!isKnownEventType('foo'));
  });
});

void describe('isInt64', () => {
  void it('accepts the signed 64-bit range and rejects what is outside it or not an integer', () => {
    for (const value of [0, -1, 2 ** 53, -(2 ** 63), 9223372036854775807n, -9223372036854775808n])
      assert.ok(isInt64(value), String(value));
    for (const value of [2 ** 63, 9223372036854775808n, -9223372036854775809n, 1.5, '1', null])
      assert.ok(!isInt64(value), String(value));
  });
});

void describe('batch accessors', () => {
  const batch = parseJson(
    '{"environment":"development","mpid":-7636538281262557000,"batch_id":42,"mp_deviceid":"8b8dfaa2-17c7-43e8-88ee-5f2dcf016d56",' +
      '"user_identities":{"customer_id":"c1"},"events":[{"event_type":"custom_event","data":{"event_id":9223372036854775807}}]}',
  ) as JsonObject;

  void it('reads the MPID, batch ID, environment and events exactly', () => {
    assert.equal(batchMpid(batch), -7636538281262557000n);
    assert.equal(batchId(batch), 42);
    assert.equal(batchEnvironment(batch), 'development');
    const events = batchEvents(batch);
    assert.equal(events.length, 1);
    assert.equal(eventId(events[0]), 9223372036854775807n);
    assert.deepEqual(userIdentities(batch), { customer_id: 'c1' });
  });

  void it('gives mp_deviceid as the device ID, else the MPID as digits, else nothing', () => {
    assert.equal(deviceId(batch), '8b8dfaa2-17c7-43e8-88ee-5f2dcf016d56');
    assert.equal(deviceId({ ...batch, mp_deviceid: null }), '-7636538281262557000');
    assert.equal(deviceId({ environment: 'production' }), undefined);
  });

  void it('ignores IDs that are not 64-bit integers and events that are not objects', () => {
    assert.equal(batchMpid({ mpid: '123' }), undefined);
    assert.equal(batchMpid({ mpid: 9223372036854775808n }), undefined);
    assert.deepEqual(batchEvents({ events: [1, { event_type: 'first_run', data: {} }] }), [
      { event_type: 'first_run', data: {} },
    ] as BatchEvent[]);
    assert.deepEqual(batchEvents({}), []);
  });

  void it('writes Int64 values as exact digits', () => {
    assert.equal(int64ToString(-9223372036854775808n), '-9223372036854775808');
    assert.equal(int64ToString(-(2 ** 63)), '-9223372036854775808');
    assert.equal(int64ToString(12), '12');
  });
});
