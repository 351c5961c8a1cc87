// Each connection setting, end to end: batches sent with the official mParticle SDK to a real
// forwarder, forwarded over SASL_SSL to the real broker, consumed back and compared.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/format/json-value.ts';
import { mParticle, sdkBatch, sdkClient, type Model } from '../sources/events-api/support/sdk.ts';
import {
  API_KEY,
  API_SECRET,
  backlogOf,
  consumeRecords,
  ControlledClock,
  intakeFor,
  metricsText,
  waitFor,
  SPOOL_KINDS,
  startKafkaTestForwarder,
  type SpoolKind,
  type ConsumedRecord,
  type KafkaTestForwarder,
} from '../support/forwarder.ts';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';

let cluster: KafkaCluster;
before(async () => {
  cluster = await getTestKafkaCluster(1);
});

const running = new Set<KafkaTestForwarder>();
after(async () => {
  await Promise.all([...running].map((forwarder) => forwarder.close()));
});

/** A full SDK batch: every supported event type, device name, mp_deviceid, batch location. */
function fullBatch(sourceRequestId: string, types?: Parameters<typeof sdkBatch>[1]): Model {
  const batch = sdkBatch(sourceRequestId, types);
  Object.assign(batch.device_info as Model, { device: 'Pixel 8' });
  batch.mp_deviceid = 'd1c3a9f0-0000-4000-8000-000000000001';
  batch.context = { location: { latitude: 52.52, longitude: 13.405, country_code: 'DE' } };
  batch.source_info = { channel: 'native', partner: 'none' };
  return batch;
}

/**
 * Sends the batches with the SDK through a forwarder with these connection settings and returns
 * the first `expected` records Kafka holds. Windows are 300 ms, so Send as Batch needs no waiting.
 */
async function forwardWith(
  kind: SpoolKind,
  settings: Record<string, unknown>,
  batches: Model[],
  expected: number,
): Promise<ConsumedRecord[]> {
  const topic = uniqueTopicName('settings');
  await cluster.createTopic(topic, { partitions: 2 });
  const forwarder = await startKafkaTestForwarder({
    cluster,
    topic,
    settings: { batch_window_ms: 300, ...settings },
    intake: intakeFor(kind),
  });
  running.add(forwarder);
  try {
    const sdk = sdkClient(forwarder.url, API_KEY, API_SECRET);
    for (const batch of batches) assert.equal((await sdk.uploadEvents(batch)).status, 202);
    return await consumeRecords(cluster, topic, expected);
  } finally {
    running.delete(forwarder);
    await forwarder.close();
  }
}

function eventsOf(record: ConsumedRecord): JsonObject[] {
  const events = record.value.events;
  assert.ok(Array.isArray(events));
  return events.filter(isJsonObject);
}

function typesOf(record: ConsumedRecord): JsonValue[] {
  return eventsOf(record).map((event) => event.event_type);
}

const ALL_FORWARDED_BY_DEFAULT = [
  'custom_event',
  'commerce_event',
  'screen_view',
  'session_start',
  'session_end',
  'crash_report',
  'network_performance',
  'breadcrumb',
  'first_run',
  'opt_out',
  'push_registration',
  'push_message',
  'application_state_transition',
  'profile',
  'uninstall',
];

// The same suite on both spools: the pipeline is the same code whichever holds the batches.
for (const kind of SPOOL_KINDS) {
  describe(`spool.kind: ${kind}`, () => {
    const forward = (settings: Record<string, unknown>, batches: Model[], expected: number) =>
      forwardWith(kind, settings, batches, expected);

    describe('defaults (mParticle’s)', () => {
      let record: ConsumedRecord;
      before(async () => {
        [record] = await forward({}, [fullBatch('defaults-1')], 1);
      });

      test('the record is the outgoing batch: schema_version 2, batch_id, receipt time, message ids, system_notifications', () => {
        const batch = record.value;
        assert.equal(batch.schema_version, 2);
        assert.ok(typeof batch.batch_id === 'bigint' || typeof batch.batch_id === 'number');
        assert.equal(typeof batch.timestamp_unixtime_ms, 'number');
        assert.deepEqual(batch.system_notifications, []);
        assert.equal(batch.environment, 'development');
        assert.equal(batch.source_request_id, 'defaults-1');
        for (const event of eventsOf(record)) {
          assert.match(event.message_id as string, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
          assert.equal(event.message_type, event.event_type);
          assert.ok(isJsonObject(event.data));
          assert.equal(event.data.event_start_unixtime_ms, event.data.timestamp_unixtime_ms);
        }
      });

      test('the key is the MPID', () => {
        assert.equal(record.key, '1234567890123');
      });

      test('user_identities take the outgoing array form (customerid becomes customer_id)', () => {
        assert.deepEqual(
          (record.value.user_identities as JsonObject[])
            .map(({ identity_type, identity }) => [identity_type, identity])
            .sort((a, b) => (a[0] as string).localeCompare(b[0] as string)),
          [
            ['customer_id', 'c-42'],
            ['email', 'a@example.com'],
          ],
        );
      });

      test('network performance events are sent; attribute and identity change events are not', () => {
        assert.deepEqual(typesOf(record), ALL_FORWARDED_BY_DEFAULT);
      });

      test('metadata, device name, IP and event locations are kept', () => {
        assert.ok(isJsonObject(record.value.device_info));
        assert.equal(record.value.device_info.device, 'Pixel 8');
        assert.ok(isJsonObject(record.value.application_info));
        assert.ok(isJsonObject(record.value.source_info));
        assert.equal(record.value.ip, '2001:db8::1');
        // The SDK-model events carry a location (sdkEvents gives each one); the plain ones do not.
        const located = eventsOf(record).filter(
          (event) => isJsonObject(event.data) && isJsonObject(event.data.location),
        );
        assert.equal(located.length, 14);
      });

      test('mp_deviceid, the batch location and unique_id are left out', () => {
        assert.equal('mp_deviceid' in record.value, false);
        assert.equal('unique_id' in record.value, false);
        assert.equal(isJsonObject(record.value.context) && 'location' in record.value.context, false);
      });
    });

    test('Include Metadata off drops application_info, device_info and source_info', async () => {
      const [record] = await forward({ include_metadata: false }, [fullBatch('meta-off')], 1);
      for (const field of ['application_info', 'device_info', 'source_info'])
        assert.equal(field in record.value, false, field);
      assert.equal(record.value.ip, '2001:db8::1');
    });

    test('Metadata Field Exclusion drops just device_info.device and ip', async () => {
      const [record] = await forward(
        { metadata_field_exclusion: ['device_name', 'ip_address'] },
        [fullBatch('exclude')],
        1,
      );
      assert.ok(isJsonObject(record.value.device_info));
      assert.equal('device' in record.value.device_info, false);
      assert.equal(record.value.device_info.platform, 'Android');
      assert.equal('ip' in record.value, false);
      assert.ok(isJsonObject(record.value.application_info));
    });

    test('Include Location Information off drops the events’ location', async () => {
      const [record] = await forward({ include_location_information: false }, [fullBatch('loc-off')], 1);
      assert.ok(eventsOf(record).every((event) => isJsonObject(event.data) && !('location' in event.data)));
    });

    test('Include Event Batch Location on keeps context.location', async () => {
      const [record] = await forward({ include_event_batch_location: true }, [fullBatch('batch-loc')], 1);
      assert.ok(isJsonObject(record.value.context));
      assert.deepEqual(record.value.context.location, { latitude: 52.52, longitude: 13.405, country_code: 'DE' });
    });

    test('Include MP DeviceId on forwards mp_deviceid', async () => {
      const [record] = await forward({ include_mp_device_id: true }, [fullBatch('device-id')], 1);
      assert.equal(record.value.mp_deviceid, 'd1c3a9f0-0000-4000-8000-000000000001');
    });

    test('Unique ID adds a top-level unique_id', async () => {
      const [record] = await forward({ unique_id: 'acme-prod-7' }, [fullBatch('unique')], 1);
      assert.equal(record.value.unique_id, 'acme-prod-7');
    });

    test('Send Network Performance Events off holds them back', async () => {
      const [record] = await forward({ send_network_performance_events: false }, [fullBatch('netperf')], 1);
      assert.deepEqual(
        typesOf(record),
        ALL_FORWARDED_BY_DEFAULT.filter((type) => type !== 'network_performance'),
      );
    });

    test('Include User Attribute / Identity Change Events on forwards them', async () => {
      const [record] = await forward(
        { include_user_attribute_change_events: true, include_user_identity_change_events: true },
        [fullBatch('changes')],
        1,
      );
      const types = typesOf(record);
      assert.ok(types.includes('user_attribute_change'));
      assert.ok(types.includes('user_identity_change'));
      assert.equal(types.length, 17);
    });

    describe('Send Batches without Events', () => {
      // A batch whose only event is filtered out, then an ordinary one for the same user.
      const batches = (): Model[] => [
        fullBatch('only-filtered', ['user_attribute_change']),
        fullBatch('ordinary', ['screen_view']),
      ];

      test('on (default): an eventless batch still makes a record', async () => {
        const records = await forward({ send_as_batch: false }, batches(), 2);
        assert.deepEqual(
          records.map((record) => [record.value.source_request_id, typesOf(record)]),
          [
            ['only-filtered', []],
            ['ordinary', ['screen_view']],
          ],
        );
      });

      test('off: a batch left without events makes none', async () => {
        const records = await forward({ send_as_batch: false, send_batches_without_events: false }, batches(), 1);
        assert.equal(records[0].value.source_request_id, 'ordinary');
      });
    });

    test('Send as Batch off: one record per event, each in its batch’s context', async () => {
      const records = await forward(
        { send_as_batch: false },
        [fullBatch('per-event', ['custom_event', 'screen_view', 'crash_report'])],
        3,
      );
      assert.deepEqual(records.map(typesOf), [['custom_event'], ['screen_view'], ['crash_report']]);
      assert.equal(new Set(records.map((record) => record.value.batch_id)).size, 1);
      for (const record of records) {
        assert.equal(record.value.source_request_id, 'per-event');
        assert.equal(record.key, '1234567890123');
        assert.ok(isJsonObject(record.value.device_info));
      }
    });

    test('Send as Batch on: a device’s batches in one window become one record (newest batch-level fields)', async () => {
      const first = fullBatch('window-1', ['session_start', 'custom_event']);
      const second = fullBatch('window-2', ['screen_view']);
      (second.application_info as Model).application_version = '5.2.2';
      const records = await forward({ batch_window_ms: 1500 }, [first, second], 1);
      assert.deepEqual(typesOf(records[0]), ['session_start', 'custom_event', 'screen_view']);
      assert.equal(records[0].value.source_request_id, 'window-2');
      assert.ok(isJsonObject(records[0].value.application_info));
      assert.equal(records[0].value.application_info.application_version, '5.2.2');
    });

    test('Wait for Complete Batch: a session’s events are held until session_end, then sent as one batch', async () => {
      const start = fullBatch('session-1', ['session_start', 'custom_event']);
      const middle = fullBatch('session-2', ['screen_view']);
      const end = fullBatch('session-3', ['session_end']);
      const records = await forward(
        { wait_for_complete_batch: true, session_timeout_ms: 600_000 },
        [start, middle, end],
        1,
      );
      assert.deepEqual(typesOf(records[0]), ['session_start', 'custom_event', 'screen_view', 'session_end']);
    });

    test('Wait for Complete Batch: a session with no session_end is sent once session_timeout_ms passes, by the clock', async () => {
      const topic = uniqueTopicName('settings-session');
      await cluster.createTopic(topic, { partitions: 2 });
      // The default session timeout (30 minutes) on a clock the test moves: nothing is sent until
      // it says the session has timed out, and then at once, with no real wait.
      const clock = new ControlledClock();
      const forwarder = await startKafkaTestForwarder(
        { cluster, topic, settings: { wait_for_complete_batch: true }, intake: intakeFor(kind) },
        { clock: clock.now },
      );
      running.add(forwarder);
      try {
        const sdk = sdkClient(forwarder.url, API_KEY, API_SECRET);
        for (const batch of [
          fullBatch('open-1', ['session_start', 'custom_event']),
          fullBatch('open-2', ['screen_view']),
        ])
          assert.equal((await sdk.uploadEvents(batch)).status, 202);
        await waitFor('the session to be held open', async () =>
          /kafka_forwarder_open_windows\{connection="app-to-kafka"\} 1/.test(await metricsText(forwarder.adminUrl))
            ? true
            : undefined,
        );
        clock.advance(29 * 60_000);
        await sleep(1_500);
        assert.equal(backlogOf(forwarder.forwarder), 2, 'still held a minute before the timeout');
        clock.advance(2 * 60_000);
        const [record] = await consumeRecords(cluster, topic, 1);
        assert.deepEqual(typesOf(record), ['session_start', 'custom_event', 'screen_view']);
      } finally {
        running.delete(forwarder);
        await forwarder.close();
      }
    });

    test('unsupported event types are never forwarded', async () => {
      const batch = fullBatch('unsupported', ['custom_event']);
      (batch.events as Model[]).push(
        new mParticle.EventBase({ timestamp_unixtime_ms: 1700000000000 }, 'push_reaction'),
      );
      const [record] = await forward({ send_as_batch: false }, [batch], 1);
      assert.deepEqual(typesOf(record), ['custom_event']);
    });
  });
}
