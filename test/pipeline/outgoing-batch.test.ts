import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JsonObject } from '../../src/format/json-value.ts';
import { parseJson, stringifyJson } from '../../src/format/lossless-json.ts';
import { messageIdFor } from '../../src/pipeline/message-id.ts';
import { buildOutgoingBatch, forwardingModeOf } from '../../src/pipeline/outgoing-batch.ts';
import { buildRecords } from '../../src/sinks/kafka/request-builder.ts';
import { eventTypes, inboundBatch, meta, RECEIVED_AT, settings } from './fixtures.ts';

function build(overrides: Parameters<typeof settings>[0] = {}, inbound: JsonObject = inboundBatch()) {
  return buildOutgoingBatch(inbound, meta, settings(overrides));
}

function outgoing(overrides: Parameters<typeof settings>[0] = {}, inbound: JsonObject = inboundBatch()): JsonObject {
  const { batch } = build(overrides, inbound);
  assert.ok(batch);
  return batch;
}

void describe('outgoing batch: fields mParticle adds', () => {
  void test('adds schema_version 2, the spool batch_id, the receipt timestamp and empty system_notifications', () => {
    const batch = outgoing();
    assert.equal(batch.schema_version, 2);
    assert.equal(batch.batch_id, 42);
    assert.equal(batch.timestamp_unixtime_ms, RECEIVED_AT);
    assert.deepEqual(batch.system_notifications, []);
  });

  void test('a spool batch id beyond 2^53 stays exact', () => {
    const big = 2n ** 60n + 1n;
    const { batch } = buildOutgoingBatch(inboundBatch(), { batchId: big, receivedAtMs: RECEIVED_AT }, settings());
    assert.ok(batch);
    assert.equal(batch.batch_id, big);
    assert.match(stringifyJson(batch), /"batch_id":1152921504606846977[,}]/);
  });

  void test('never forwards api_key or api_keys', () => {
    const inbound = { ...inboundBatch(), api_keys: ['k1'] };
    const batch = outgoing({}, inbound);
    assert.equal('api_key' in batch, false);
    assert.equal('api_keys' in batch, false);
  });

  void test('passes other inbound fields through, 64-bit ids exact', () => {
    const batch = outgoing();
    assert.equal(batch.mpid, -7636538281262557000n);
    assert.equal(batch.environment, 'production');
    assert.deepEqual(batch.user_attributes, { $age: '18' });
    const first = (batch.events as JsonObject[])[0];
    assert.equal((first.data as JsonObject).event_id, 6004677780660780000n);
  });

  void test('each event gets message_type = event_type and a stable v5-shaped message_id', () => {
    const events = outgoing().events as JsonObject[];
    assert.equal(events[0].message_type, 'custom_event');
    assert.equal(events[1].message_type, 'network_performance');
    assert.match(
      events[0].message_id as string,
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    // Index in the inbound batch, so filtered events do not shift the ids of the others.
    assert.equal(events[0].message_id, messageIdFor(42n, 0));
    assert.equal(events[2].message_id, messageIdFor(42n, 7));
    assert.notEqual(events[0].message_id, events[1].message_id);
    assert.deepEqual(outgoing(), outgoing(), 'the same input always gives the same output');
    const other = buildOutgoingBatch(inboundBatch(), { batchId: 43n, receivedAtMs: RECEIVED_AT }, settings()).batch;
    assert.notEqual((other?.events as JsonObject[])[0].message_id, events[0].message_id);
  });

  void test('event_start_unixtime_ms defaults to the event timestamp, and a missing timestamp to the receipt time', () => {
    const inbound = inboundBatch();
    (inbound.events as JsonObject[]).push({ event_type: 'screen_view', data: { screen_name: 'home' } });
    const events = outgoing({}, inbound).events as JsonObject[];
    assert.equal((events[0].data as JsonObject).event_start_unixtime_ms, 1700000000100);
    assert.equal((events[2].data as JsonObject).event_start_unixtime_ms, 1699999999000, 'an existing value is kept');
    const screen = events[3].data as JsonObject;
    assert.equal(screen.timestamp_unixtime_ms, RECEIVED_AT);
    assert.equal(screen.event_start_unixtime_ms, RECEIVED_AT);
  });

  void test('user_identities becomes the outgoing array form, customerid read as customer_id, nulls left out', () => {
    assert.deepEqual(outgoing().user_identities, [
      { identity_type: 'customer_id', identity: '1234', timestamp_unixtime_ms: RECEIVED_AT },
      { identity_type: 'email', identity: 'a@example.com', timestamp_unixtime_ms: RECEIVED_AT },
    ]);
  });

  void test('batch_context (the OpenAPI name) is forwarded as context', () => {
    const inbound = inboundBatch();
    inbound.batch_context = inbound.context;
    delete inbound.context;
    assert.deepEqual(outgoing({}, inbound).context, { data_plan: { plan_id: 'p' } });
    assert.equal('batch_context' in outgoing({}, inbound), false);
  });

  void test('does not modify the inbound batch', () => {
    const inbound = inboundBatch();
    const before = stringifyJson(inbound);
    build(
      { includeMetadata: false, includeLocationInformation: false, metadataFieldExclusion: ['device_name'] },
      inbound,
    );
    assert.equal(stringifyJson(inbound), before);
  });
});

void describe('outgoing batch: connection settings', () => {
  void test('Unique ID: unset adds nothing; set adds top-level unique_id', () => {
    assert.equal('unique_id' in outgoing(), false);
    assert.equal(outgoing({ uniqueId: 'my-app' }).unique_id, 'my-app');
  });

  void test('Include Metadata off drops application_info, device_info and source_info', () => {
    assert.ok(outgoing().device_info && outgoing().application_info && outgoing().source_info);
    const batch = outgoing({ includeMetadata: false });
    for (const field of ['application_info', 'device_info', 'source_info']) assert.equal(field in batch, false, field);
    assert.equal(batch.ip, '172.217.12.142', 'ip is not metadata');
  });

  void test('Metadata Field Exclusion device_name drops only device_info.device', () => {
    const batch = outgoing({ metadataFieldExclusion: ['device_name'] });
    assert.deepEqual(batch.device_info, { platform: 'iOS' });
    assert.equal(batch.ip, '172.217.12.142');
  });

  void test('Metadata Field Exclusion ip_address drops only ip', () => {
    const batch = outgoing({ metadataFieldExclusion: ['ip_address'] });
    assert.equal('ip' in batch, false);
    assert.deepEqual(batch.device_info, { device: "John's iPhone", platform: 'iOS' });
  });

  void test('Include Location Information off drops each event data.location', () => {
    const withLocation = (outgoing().events as JsonObject[])[0].data as JsonObject;
    assert.deepEqual(withLocation.location, { latitude: 1.5 });
    const without = (outgoing({ includeLocationInformation: false }).events as JsonObject[])[0].data as JsonObject;
    assert.equal('location' in without, false);
    assert.equal(without.event_name, 'click');
  });

  void test('Include Event Batch Location: off (default) drops context.location, on keeps it', () => {
    assert.deepEqual(outgoing().context, { data_plan: { plan_id: 'p' } });
    assert.deepEqual(outgoing({ includeEventBatchLocation: true }).context, {
      data_plan: { plan_id: 'p' },
      location: { latitude: 40.7 },
    });
    const onlyLocation = { ...inboundBatch(), context: { location: { latitude: 1 } } };
    assert.equal('context' in outgoing({}, onlyLocation), false, 'a context left empty is not sent');
  });

  void test('Include MP DeviceId: off (default) drops mp_deviceid, on keeps it', () => {
    assert.equal('mp_deviceid' in outgoing(), false);
    assert.equal(outgoing({ includeMpDeviceId: true }).mp_deviceid, '99999999-9fff-f999-9f99-99ed99000999');
  });

  void test('Send Network Performance Events off filters network_performance and counts it', () => {
    assert.ok(eventTypes(outgoing()).includes('network_performance'));
    const result = build({ sendNetworkPerformanceEvents: false });
    assert.equal(eventTypes(result.batch).includes('network_performance'), false);
    assert.equal(result.filtered.network_performance_disabled, 1);
  });

  void test('Include User Attribute Change Events: off (default) filters them, on forwards them', () => {
    const off = build();
    assert.equal(eventTypes(off.batch).includes('user_attribute_change'), false);
    assert.equal(off.filtered.user_attribute_change_disabled, 1);
    const on = build({ includeUserAttributeChangeEvents: true });
    assert.ok(eventTypes(on.batch).includes('user_attribute_change'));
    assert.equal(on.filtered.user_attribute_change_disabled, 0);
  });

  void test('Include User Identity Change Events: off (default) filters them, on forwards them', () => {
    const off = build();
    assert.equal(eventTypes(off.batch).includes('user_identity_change'), false);
    assert.equal(off.filtered.user_identity_change_disabled, 1);
    const on = build({ includeUserIdentityChangeEvents: true });
    assert.ok(eventTypes(on.batch).includes('user_identity_change'));
  });

  void test("change events without new or old (as mParticle's Python SDK builds them) are forwarded as sent", () => {
    const inbound = inboundBatch();
    inbound.events = [
      {
        event_type: 'user_attribute_change',
        data: { user_attribute_name: 'tier', deleted: true, timestamp_unixtime_ms: 1700000000500 },
      },
      {
        event_type: 'user_attribute_change',
        data: { user_attribute_name: 'plan', new: 'gold', is_new_attribute: true },
      },
      { event_type: 'user_attribute_change', data: {} },
      {
        event_type: 'user_identity_change',
        data: { new: { identity_type: 'email', identity: 'a@example.com', timestamp_unixtime_ms: 1 }, old: null },
      },
    ];
    const sent = structuredClone(inbound.events);
    const batch = outgoing({ includeUserAttributeChangeEvents: true, includeUserIdentityChangeEvents: true }, inbound);
    assert.deepEqual(inbound.events, sent, 'the inbound batch is not modified');
    // Only what mParticle adds to every event: message_id, message_type, and the event times.
    const events = batch.events as JsonObject[];
    assert.deepEqual(
      events.map((event) => event.message_id),
      [0, 1, 2, 3].map((index) => messageIdFor(42n, index)),
    );
    assert.deepEqual(
      events.map(({ message_id: _, ...event }) => event),
      [
        {
          event_type: 'user_attribute_change',
          message_type: 'user_attribute_change',
          data: {
            user_attribute_name: 'tier',
            deleted: true,
            timestamp_unixtime_ms: 1700000000500,
            event_start_unixtime_ms: 1700000000500,
          },
        },
        {
          event_type: 'user_attribute_change',
          message_type: 'user_attribute_change',
          data: {
            user_attribute_name: 'plan',
            new: 'gold',
            is_new_attribute: true,
            timestamp_unixtime_ms: RECEIVED_AT,
            event_start_unixtime_ms: RECEIVED_AT,
          },
        },
        {
          event_type: 'user_attribute_change',
          message_type: 'user_attribute_change',
          data: { timestamp_unixtime_ms: RECEIVED_AT, event_start_unixtime_ms: RECEIVED_AT },
        },
        {
          event_type: 'user_identity_change',
          message_type: 'user_identity_change',
          data: {
            new: { identity_type: 'email', identity: 'a@example.com', timestamp_unixtime_ms: 1 },
            old: null,
            timestamp_unixtime_ms: RECEIVED_AT,
            event_start_unixtime_ms: RECEIVED_AT,
          },
        },
      ],
    );
    // Per-event records (Send as Batch off) carry each event unchanged, with no new or old invented.
    const { records } = buildRecords(batch, { seqs: [7n] }, { maxRecordBytes: 1_000_000, perEvent: true });
    assert.deepEqual(
      records.map((record) => (parseJson(record.value) as JsonObject).events),
      events.map((event) => [event]),
    );
    assert.doesNotMatch(records[0].value.toString(), /"(new|old)"/);
  });

  void test('unsupported event types are never forwarded, whatever the settings', () => {
    const inbound = inboundBatch();
    (inbound.events as JsonObject[]).push({ event_type: 'something_new', data: {} }, { data: {} });
    const result = build({ includeUserAttributeChangeEvents: true, includeUserIdentityChangeEvents: true }, inbound);
    assert.deepEqual(eventTypes(result.batch), [
      'custom_event',
      'network_performance',
      'user_attribute_change',
      'user_identity_change',
      'session_end',
    ]);
    assert.equal(result.filtered.unsupported_event_type, 5);
    assert.equal(result.eventsIn, 10);
    assert.equal(result.eventsOut, 5);
  });

  void test('default settings: counts for every reason', () => {
    const result = build();
    assert.deepEqual(result.filtered, {
      network_performance_disabled: 0,
      user_attribute_change_disabled: 1,
      user_identity_change_disabled: 1,
      unsupported_event_type: 3,
    });
    assert.deepEqual(eventTypes(result.batch), ['custom_event', 'network_performance', 'session_end']);
  });

  void test('Send Batches without Events on: a batch left with no events is still sent, with events []', () => {
    const inbound = inboundBatch();
    inbound.events = [{ event_type: 'unknown', data: {} }];
    const result = build({}, inbound);
    assert.deepEqual(result.batch?.events, []);
    assert.equal(result.skippedEmpty, false);
    const none = build({}, { ...inboundBatch(), events: [] });
    assert.deepEqual(none.batch?.events, []);
    const absent = inboundBatch();
    delete absent.events;
    assert.deepEqual(build({}, absent).batch?.events, [], 'a batch sent without events gets events []');
  });

  void test('Send Batches without Events off: a batch left with no events gives null', () => {
    const inbound = inboundBatch();
    inbound.events = [{ event_type: 'unknown', data: {} }];
    const result = build({ sendBatchesWithoutEvents: false }, inbound);
    assert.equal(result.batch, null);
    assert.equal(result.skippedEmpty, true);
    assert.equal(result.filtered.unsupported_event_type, 1);
    assert.equal(build({ sendBatchesWithoutEvents: false }, { ...inboundBatch(), events: [] }).batch, null);
    assert.ok(build({ sendBatchesWithoutEvents: false }).batch, 'a batch with events is sent');
  });
});

void describe('forwarding mode and per-event split', () => {
  void test('Wait for Complete Batch overrides Send as Batch; both off is per-event', () => {
    assert.equal(forwardingModeOf(settings()), 'device-window');
    assert.equal(forwardingModeOf(settings({ waitForCompleteBatch: true })), 'session');
    assert.equal(forwardingModeOf(settings({ waitForCompleteBatch: true, sendAsBatch: false })), 'session');
    assert.equal(forwardingModeOf(settings({ sendAsBatch: false })), 'per-event');
  });

  void test('per-event mode: one record per event, each with the whole batch context', () => {
    const batch = outgoing();
    const built = buildRecords(batch, { seqs: [7n] }, { maxRecordBytes: 1_000_000, perEvent: true });
    const records = built.records.map((record) => parseJson(record.value) as JsonObject);
    assert.equal(records.length, 3);
    assert.deepEqual(
      built.records.map((record) => record.events.map((event) => event.messageId)),
      (batch.events as JsonObject[]).map((event) => [event.message_id]),
    );
    records.forEach((record, index) => {
      assert.deepEqual(record.events, [(batch.events as JsonObject[])[index]]);
      assert.equal(record.mpid, batch.mpid);
      assert.equal(record.batch_id, batch.batch_id);
      assert.deepEqual(record.user_identities, batch.user_identities);
      assert.deepEqual(record.device_info, batch.device_info);
    });
  });

  void test('per-event mode: an eventless batch stays one record', () => {
    const batch = outgoing({}, { ...inboundBatch(), events: [] });
    const { records } = buildRecords(batch, { seqs: [7n] }, { maxRecordBytes: 1_000_000, perEvent: true });
    assert.deepEqual(
      records.map((record) => parseJson(record.value)),
      [batch],
    );
    assert.deepEqual(records[0].batches, [7n], 'the eventless record still names its batch');
  });
});

void test('the outgoing batch round-trips through the lossless JSON writer and parser', () => {
  const batch = outgoing({ includeUserAttributeChangeEvents: true });
  assert.deepEqual(parseJson(stringifyJson(batch)), batch);
});
