import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseJson, stringifyJson } from '../../../src/format/lossless-json.ts';
import { recordKeyOf } from '../../../src/sinks/kafka/record-key.ts';
import type { JsonObject, JsonValue } from '../../../src/format/json-value.ts';
import { SUPPORTED_EVENT_TYPES } from '../../../src/format/batch.ts';
import { validateBatch } from '../../../src/sources/events-api/validate-batch.ts';
import type { BatchValidationError } from '../../../src/sources/events-api/validate-batch.ts';

function errorsOf(value: JsonValue, options?: Parameters<typeof validateBatch>[1]): readonly BatchValidationError[] {
  const result = validateBatch(value, options);
  assert.equal(result.ok, false, 'expected the batch to be rejected');
  return result.ok ? [] : result.errors;
}

function acceptedBatch(value: JsonValue): JsonObject {
  const result = validateBatch(value);
  assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.message).join('\n'));
  return result.batch;
}

const parse = (text: string): JsonObject => parseJson(text) as JsonObject;

void describe('validateBatch: the envelope', () => {
  void it("accepts mParticle's own sample batch", () => {
    acceptedBatch(parseJson(readFileSync(new URL('../../fixtures/eventsapi.sample.json', import.meta.url))));
  });

  void it('requires environment, naming the allowed values', () => {
    const [error] = errorsOf({ events: [] });
    assert.equal(error.message, 'environment: is required; expected "production" or "development"');
    assert.match(
      errorsOf({ environment: 'staging' })[0].message,
      /^environment: "staging" is not allowed; expected one of "production", "development"$/,
    );
  });

  void it('takes an empty ip as absent, and IPv4 and IPv6 addresses', () => {
    for (const ip of ['', null, '203.0.113.9', '2001:db8::1']) acceptedBatch({ environment: 'production', ip });
  });

  void it('takes an integral number written with a fraction or exponent wherever an integer is expected, as written', () => {
    const batch = acceptedBatch(
      parse(
        '{"environment":"production","mpid":8000000000001528368.0,"timestamp_unixtime_ms":13.0,' +
          '"events":[{"event_type":"custom_event","data":{"event_name":"e","custom_event_type":"other","event_id":-1505126866959.0,"timestamp_unixtime_ms":1.7e12}}]}',
      ),
    );
    assert.equal(
      stringifyJson(batch),
      '{"environment":"production","mpid":8000000000001528368.0,"timestamp_unixtime_ms":13.0,' +
        '"events":[{"event_type":"custom_event","data":{"event_name":"e","custom_event_type":"other","event_id":-1505126866959.0,"timestamp_unixtime_ms":1.7e12}}]}',
      'forwarded byte for byte as the client wrote it',
    );
    assert.equal(recordKeyOf(batch), '8000000000001528368', 'the key is the MPID digits');
    assert.match(
      errorsOf(parse('{"environment":"production","mpid":13.5}'))[0].message,
      /^mpid: .* is not a signed 64-bit integer/,
    );
    assert.match(
      errorsOf(parse('{"environment":"production","mpid":1e19}'))[0].message,
      /^mpid: .* is not a signed 64-bit integer/,
    );
  });

  void it('rejects a batch that is not an object', () => {
    assert.match(errorsOf([1, 2])[0].message, /an array is not a batch; expected a JSON object/);
  });

  void it('rejects wrong types with the path and the value', () => {
    assert.equal(
      errorsOf({ environment: 'production', events: {} })[0].message,
      'events: an object is not an array or null',
    );
    assert.equal(
      errorsOf({ environment: 'production', user_attributes: { 'a b': { x: 1 } } })[0].message,
      'user_attributes["a b"]: an object is not a string, number, boolean, null or an array of them',
    );
    assert.equal(
      errorsOf({ environment: 'production', ip: 'not-an-ip' })[0].message,
      'ip: "not-an-ip" is not an IPv4 or IPv6 address, an empty string or null',
    );
    assert.equal(
      errorsOf({ environment: 'production', device_info: { is_tablet: 'yes' } })[0].message,
      'device_info.is_tablet: "yes" is not true or false or null',
    );
  });

  void it('accepts bigint and in-range Int64 values and rejects out-of-range ones', () => {
    acceptedBatch(
      parse(
        '{"environment":"production","mpid":9223372036854775807,"batch_id":-9223372036854775808,"timestamp_unixtime_ms":1700000000000}',
      ),
    );
    acceptedBatch({ environment: 'production', mpid: -(2 ** 63) });
    assert.equal(
      errorsOf(parse('{"environment":"production","mpid":9223372036854775808}'))[0].message,
      'mpid: 9223372036854775808 is not a signed 64-bit integer (-9223372036854775808 to 9223372036854775807) or null',
    );
    assert.match(
      errorsOf(parse('{"environment":"production","mpid":-9223372036854775809}'))[0].message,
      /^mpid: -9223372036854775809 is not a signed 64-bit/,
    );
    assert.match(errorsOf({ environment: 'production', mpid: 1.5 })[0].message, /^mpid: 1.5 is not a signed 64-bit/);
    assert.match(
      errorsOf({ environment: 'production', mpid: '123' })[0].message,
      /^mpid: "123" is not a signed 64-bit/,
    );
  });

  void it('accepts bigints where the schema allows any scalar or a number', () => {
    acceptedBatch(
      parse(
        '{"environment":"production","user_attributes":{"big":123456789012345678901},"events":[{"event_type":"commerce_event","data":{"product_action":{"action":"purchase","total_amount":99999999999999999999}}}]}',
      ),
    );
  });

  void it("accepts schema_version, unknown top-level fields and the docs' ccpa consent", () => {
    acceptedBatch({
      environment: 'production',
      schema_version: 2,
      partner_identities: { partner_id: '1' },
      something_new: { kept: true },
      consent_state: {
        gdpr: { parental: { consented: false, document: 'v2' } },
        ccpa: { data_sale_opt_out: { consented: true, document: null } },
      },
    });
  });

  void it('normalises user_identities.customerid to customer_id without touching the input', () => {
    const input = { environment: 'production', user_identities: { customerid: 'c-1', email: 'a@b.c' } } as JsonObject;
    const batch = acceptedBatch(input);
    assert.deepEqual(batch.user_identities, { email: 'a@b.c', customer_id: 'c-1' });
    assert.deepEqual(input.user_identities, { customerid: 'c-1', email: 'a@b.c' });
    const both = acceptedBatch({
      environment: 'production',
      user_identities: { customerid: 'old', customer_id: 'canonical' },
    });
    assert.deepEqual(both.user_identities, { customer_id: 'canonical' });
  });

  void it('normalises batch_context to context and validates it as context', () => {
    const batch = acceptedBatch({
      environment: 'production',
      batch_context: { data_plan: { plan_id: 'p', plan_version: 2 } },
    });
    assert.deepEqual(batch.context, { data_plan: { plan_id: 'p', plan_version: 2 } });
    assert.equal('batch_context' in batch, false);
    assert.equal(
      errorsOf({ environment: 'production', batch_context: { data_plan: {} } })[0].message,
      'context.data_plan.plan_id: is required',
    );
  });
});

void describe('validateBatch: events', () => {
  const batchWith = (...events: JsonValue[]): JsonObject => ({ environment: 'production', events });

  void it('rejects an unknown event_type, listing the supported ones', () => {
    const [error] = errorsOf(
      batchWith(
        { event_type: 'custom_event', data: { event_name: 'a', custom_event_type: 'other' } },
        {},
        {},
        { event_type: 'foo', data: {} },
      ),
    );
    assert.equal(errorsOf(batchWith({ event_type: 'foo', data: {} }))[0].path, 'events[0].event_type');
    assert.equal(error.path, 'events[1].event_type');
    const unknown = errorsOf(batchWith({}, {}, {}, { event_type: 'foo', data: {} }))[3];
    assert.match(
      unknown.message,
      /^events\[3\]\.event_type: "foo" is not a supported event_type; expected one of custom_event, commerce_event, /,
    );
  });

  void it('reports one error per failing event, not a dump of branch errors', () => {
    const errors = errorsOf(
      batchWith(
        { event_type: 'custom_event', data: { custom_event_type: 'other' } },
        { event_type: 'session_start', data: {} },
        { event_type: 'opt_out', data: { is_opted_out: 'no' } },
      ),
    );
    assert.deepEqual(
      errors.map((e) => e.message),
      ['events[0].data.event_name: is required', 'events[2].data.is_opted_out: "no" is not true or false or null'],
    );
  });

  void it('checks data against the type named by event_type', () => {
    assert.equal(
      errorsOf(batchWith({ event_type: 'custom_event', data: { event_name: 42, custom_event_type: 'other' } }))[0]
        .message,
      'events[0].data.event_name: 42 is not a string',
    );
    assert.match(
      errorsOf(batchWith({ event_type: 'custom_event', data: { event_name: 'x', custom_event_type: 'bogus' } }))[0]
        .message,
      /^events\[0\]\.data\.custom_event_type: "bogus" is not allowed; expected one of "navigation", /,
    );
    assert.equal(
      errorsOf(batchWith({ event_type: 'session_end', data: { session_duration_ms: 'long' } }))[0].message,
      'events[0].data.session_duration_ms: "long" is not a signed 64-bit integer (-9223372036854775808 to 9223372036854775807) or null',
    );
    assert.equal(
      errorsOf(batchWith({ event_type: 'screen_view' }))[0].message,
      'events[0].data: is required (an object)',
    );
    assert.equal(errorsOf(batchWith({ data: {} }))[0].path, 'events[0].event_type');
    assert.equal(errorsOf(batchWith('x'))[0].message, 'events[0]: "x" is not an event object ({"event_type", "data"})');
  });

  void it('accepts pre_attribution, push_reaction and unknown (they are filtered later, not forwarded)', () => {
    acceptedBatch(
      batchWith(
        { event_type: 'pre_attribution', data: {} },
        { event_type: 'push_reaction', data: {} },
        { event_type: 'unknown', data: {} },
      ),
    );
  });

  void it('accepts unicode and very long strings, and shortens them in messages', () => {
    const long = 'é'.repeat(100_000);
    acceptedBatch(
      batchWith({
        event_type: 'custom_event',
        data: { event_name: `日本語 🎉 ${long}`, custom_event_type: 'other', custom_attributes: { 'ключ 🔑': long } },
      }),
    );
    const [error] = errorsOf({ environment: long });
    assert.ok(error.message.length < 200, error.message);
    assert.match(error.message, /…\(100000 characters\)|… \(100000 characters\)/);
  });

  void it('validates 64-bit IDs inside events', () => {
    acceptedBatch(
      parse(
        '{"environment":"production","events":[{"event_type":"profile","data":{"previous_mpid":-9223372036854775808,"current_mpid":9223372036854775807,"event_id":-7636538281262557000,"profile_event_type":"login"}}]}',
      ),
    );
    assert.equal(
      errorsOf(
        parse(
          '{"environment":"production","events":[{"event_type":"first_run","data":{"session_id":10000000000000000000}}]}',
        ),
      )[0].path,
      'events[0].data.session_id',
    );
  });

  void it('prefixes every path for bulk requests', () => {
    const [error] = errorsOf(batchWith({ event_type: 'foo', data: {} }), { pathPrefix: 'batches[7]' });
    assert.equal(error.path, 'batches[7].events[0].event_type');
    assert.match(error.message, /^batches\[7\]\.events\[0\]\.event_type: "foo"/);
    assert.equal(errorsOf({}, { pathPrefix: 'batches[2]' })[0].path, 'batches[2].environment');
  });

  void it('caps the number of errors', () => {
    const events = Array.from({ length: 50 }, () => ({ event_type: 'nope', data: {} }));
    assert.equal(errorsOf(batchWith(...events)).length, 10);
    assert.equal(errorsOf(batchWith(...events), { maxErrors: 3 }).length, 3);
  });

  void it('enforces the documented per-event limits only when asked', () => {
    const batch = batchWith({
      event_type: 'custom_event',
      data: {
        event_name: 'n'.repeat(257),
        custom_event_type: 'other',
        custom_attributes: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, 'v'])),
      },
    });
    acceptedBatch(batch);
    assert.deepEqual(
      errorsOf(batch, { enforceLimits: true }).map((e) => e.message),
      [
        'events[0].data.event_name: is 257 characters; at most 256 are allowed',
        'events[0].data.custom_attributes: has 101 attributes; at most 100 are allowed',
      ],
    );
    assert.equal(
      errorsOf(
        batchWith({
          event_type: 'screen_view',
          data: { screen_name: 's', custom_attributes: { k: 'v'.repeat(4097) } },
        }),
        { enforceLimits: true },
      )[0].message,
      'events[0].data.custom_attributes.k: the value is longer than 4096 characters',
    );
  });
});

// --- change events ------------------------------------------------------------------------

void describe('validateBatch: change events', () => {
  const batchWith = (...events: JsonValue[]): JsonObject => ({ environment: 'production', events });
  const change = (data: JsonObject): JsonObject => ({ event_type: 'user_attribute_change', data });
  const identityChange = (data: JsonObject): JsonObject => ({ event_type: 'user_identity_change', data });
  const identity = (value: string): JsonObject => ({
    identity_type: 'email',
    identity: value,
    timestamp_unixtime_ms: 1700000000000,
  });

  void it("accepts the user attribute changes mParticle's Python SDK builds without new or old, as sent", () => {
    // UserAttributeChangeEvent(...) defaults every argument to None, and the SDK leaves None out.
    const text =
      '{"environment":"production","events":[' +
      '{"event_type":"user_attribute_change","data":{"user_attribute_name":"tier","deleted":true}},' +
      '{"event_type":"user_attribute_change","data":{"user_attribute_name":"plan","new":"gold","is_new_attribute":true}},' +
      '{"event_type":"user_attribute_change","data":{"user_attribute_name":"seats","old":3,"deleted":true}},' +
      '{"event_type":"user_attribute_change","data":{"new":["a","b"]}},' +
      '{"event_type":"user_attribute_change","data":{}}]}';
    const batch = acceptedBatch(parse(text));
    assert.equal(stringifyJson(batch), text, 'forwarded as sent: nothing added, nothing dropped');
  });

  void it('still checks the fields a user attribute change carries', () => {
    assert.deepEqual(
      errorsOf(
        batchWith(
          change({ user_attribute_name: 5 }),
          change({ user_attribute_name: 'tier', deleted: 'yes' }),
          change({ user_attribute_name: 'tier', new: { nested: 'object' } }),
          change({ user_attribute_name: 'tier', old: [['nested']] }),
          change({ user_attribute_name: 'tier', is_new_attribute: 1 }),
        ),
      ).map((e) => e.message),
      [
        'events[0].data.user_attribute_name: 5 is not a string',
        'events[1].data.deleted: "yes" is not true or false or null',
        'events[2].data.new: an object is not a string, number, boolean, null or an array of them',
        'events[3].data.old: an array is not a string, number, boolean, null or an array of them',
        'events[4].data.is_new_attribute: 1 is not true or false or null',
      ],
    );
  });

  void it("accepts a user identity change with what mParticle's schema leaves optional left out or null", () => {
    // A new identity has no old one, a removed one no new one (mParticle's own sample sends
    // `"old": null`); created_this_batch is optional.
    acceptedBatch(
      batchWith(
        identityChange({ new: identity('a@example.com'), old: null }),
        identityChange({ new: null, old: identity('b@example.com') }),
        identityChange({
          new: { ...identity('a@example.com'), created_this_batch: true },
          old: identity('b@example.com'),
        }),
      ),
    );
  });

  void it("requires of a user identity change what mParticle's schema requires (no SDK builds one)", () => {
    assert.deepEqual(
      errorsOf(
        batchWith(
          identityChange({ old: null }),
          identityChange({ new: null }),
          identityChange({ new: { identity_type: 'email', identity: 'a@example.com' }, old: null }),
          identityChange({ new: { identity: 'a@example.com', timestamp_unixtime_ms: 1 }, old: null }),
          identityChange({ new: { identity_type: 'email', timestamp_unixtime_ms: 1 }, old: null }),
        ),
      ).map((e) => e.message),
      [
        'events[0].data.new: is required',
        'events[1].data.old: is required',
        'events[2].data.new.timestamp_unixtime_ms: is required',
        'events[3].data.new.identity_type: is required',
        'events[4].data.new.identity: is required',
      ],
    );
  });
});

// --- batches built by the official Node SDK -------------------------------------------------

type Model = Record<string, unknown>;
type ModelClass = new (...args: unknown[]) => Model;
interface MParticleSdk {
  Batch: ModelClass;
  EventBase: ModelClass;
  [model: string]: ModelClass;
}
const mParticle = createRequire(import.meta.url)('mparticle') as MParticleSdk;

/** Every one of the 17 supported types, built with the SDK's model classes. */
function sdkEvents(): Record<(typeof SUPPORTED_EVENT_TYPES)[number], Model> {
  const withCommon = <T extends Model>(event: T): T => {
    Object.assign(event, {
      timestamp_unixtime_ms: 1700000000000,
      source_message_id: '3dbfc52e-164f-405e-885e-2b448b301f83',
      session_uuid: '84e1b361-a282-4adf-8a6d-1d31e6dd5a9e',
      custom_attributes: { plan: 'premium', note: 'Zoë 🎉' },
      location: new mParticle.GeoLocation(40.7142, -74.0064),
    });
    return event;
  };
  const product = new mParticle.Product('sku-1', 'Album', 9.99, 19.98);
  const commerce = new mParticle.CommerceEvent();
  commerce.product_action = new mParticle.ProductAction('purchase', 'T-1', 19.98, [product]);
  commerce.currency_code = 'EUR';
  commerce.promotion_action = new mParticle.PromotionAction('view', [
    new mParticle.Promotion('p1', 'Spring', 'banner', 'top'),
  ]);
  commerce.product_impressions = [new mParticle.ProductImpression('Search', [product])];
  commerce.shopping_cart = new mParticle.ShoppingCart([product]);
  // The SDK has no model for these three: EventBase takes a plain data object and a type.
  const plain = (data: Model): Model => data;
  return {
    custom_event: withCommon(new mParticle.AppEvent('navigation', 'Opened playlist')),
    commerce_event: withCommon(commerce),
    screen_view: withCommon(new mParticle.ScreenViewEvent('Home')),
    session_start: withCommon(new mParticle.SessionStartEvent()),
    session_end: withCommon(new mParticle.SessionEndEvent(120000)),
    crash_report: withCommon(new mParticle.CrashReportEvent('NullPointerException', 'boom', 'at a.b(c.java:1)', false)),
    network_performance: withCommon(
      new mParticle.NetworkPerformanceEvent('GET', 'https://example.com/', 120, 2048, 512, 200),
    ),
    breadcrumb: withCommon(new mParticle.BreadcrumbEvent(3, 'tapped play')),
    first_run: withCommon(new mParticle.FirstRunEvent()),
    opt_out: withCommon(new mParticle.OptOutEvent(true)),
    push_registration: withCommon(new mParticle.PushRegistrationEvent(true, 'token-123')),
    push_message: withCommon(new mParticle.PushMessageEvent('token-123', 'received', '{"aps":{}}', 'background')),
    application_state_transition: withCommon(new mParticle.ApplicationStateTransitionEvent('application_initialized')),
    profile: withCommon(new mParticle.ProfileEvent('new profile', 'old profile', 'login')),
    uninstall: plain({ timestamp_unixtime_ms: 1700000000000 }),
    user_attribute_change: plain({
      user_attribute_name: 'tier',
      new: 'gold',
      old: null,
      deleted: false,
      is_new_attribute: true,
    }),
    user_identity_change: plain({
      new: {
        identity_type: 'email',
        identity: 'a@example.com',
        timestamp_unixtime_ms: 1700000000000,
        created_this_batch: true,
      },
      old: {
        identity_type: 'email',
        identity: 'b@example.com',
        timestamp_unixtime_ms: 1600000000000,
        created_this_batch: false,
      },
    }),
  };
}

function sdkBatch(): Model {
  const batch = new mParticle.Batch('development') as Model & { addEvent(event: Model): void; events: Model[] };
  const events = sdkEvents();
  for (const [type, event] of Object.entries(events)) {
    if (typeof event.getEventType === 'function') batch.addEvent(event);
    else (batch.events ??= []).push(new mParticle.EventBase(event, type));
  }
  batch.mpid = 1234567890123;
  batch.source_request_id = 'f2c9b4b0-1a7b-4c38-9c59-7cfae2c0e1e4';
  batch.ip = '2001:db8::1';
  batch.schema_version = 2;
  batch.mp_deviceid = '8b8dfaa2-17c7-43e8-88ee-5f2dcf016d56';
  const identities = new mParticle.UserIdentities();
  Object.assign(identities, {
    customerid: 'c-42',
    email: 'a@example.com',
    other_id_5: 'x',
    mobile_number: '800-555-1111',
  });
  batch.user_identities = identities;
  batch.user_attributes = { $firstname: 'Zoë', favourites: ['a', 'b'] };
  const device = new mParticle.DeviceInformation();
  Object.assign(device, {
    platform: 'Android',
    os_version: '14',
    android_advertising_id: '00000000-0000-0000-0000-000000000000',
  });
  batch.device_info = device;
  batch.application_info = Object.assign(new mParticle.ApplicationInformation(), {
    application_version: '5.2.1',
    os: 'Android',
  });
  const consent = new mParticle.ConsentState();
  (consent.gdpr as Model).parental = new mParticle.GDPRConsentState('v2', true, 1700000000000, 'home', 'IDFA:x');
  (consent.ccpa as Model).data_sale_opt_out = new mParticle.CCPAConsentState(null, true, 1700000000000, null, null);
  batch.consent_state = consent;
  const context = new mParticle.BatchContext();
  context.data_plan = Object.assign(new mParticle.DataPlanContext(), { plan_id: 'mobile', plan_version: 2 });
  batch.context = context;
  return batch;
}

void describe('validateBatch: batches the official Node SDK builds', () => {
  void it('accepts an SDK batch with all 17 supported event types, as the SDK serialises it', () => {
    // The SDK hands the model to superagent, which sends JSON.stringify of it.
    const sent = JSON.stringify(sdkBatch());
    const batch = acceptedBatch(parseJson(sent));
    const types = (batch.events as JsonObject[]).map((event) => event.event_type);
    assert.deepEqual([...types].sort(), [...SUPPORTED_EVENT_TYPES].sort());
    assert.deepEqual(batch.user_identities, {
      email: 'a@example.com',
      other_id_5: 'x',
      mobile_number: '800-555-1111',
      customer_id: 'c-42',
    });
  });

  void it('accepts an SDK batch carrying explicit nulls', () => {
    const batch = sdkBatch();
    (batch.events as Model[]).push(
      new mParticle.EventBase(new mParticle.CrashReportEvent(null, null, null, null), 'crash_report'),
    );
    const ua = new mParticle.AppEvent('other', 'x');
    ua.custom_flags = null;
    ua.custom_attributes = null;
    (batch.addEvent as (event: Model) => void)(ua);
    acceptedBatch(parseJson(JSON.stringify(batch)));
  });

  void it('accepts the events the SDK builds with their fields left out (they are its constructor arguments)', () => {
    const batch = new mParticle.Batch('production') as Model & { addEvent(event: Model): void };
    batch.addEvent(new mParticle.ScreenViewEvent());
    batch.addEvent(new mParticle.PushMessageEvent());
    batch.addEvent(new mParticle.NetworkPerformanceEvent());
    batch.addEvent(new mParticle.SessionEndEvent());
    batch.addEvent(new mParticle.PushRegistrationEvent());
    batch.addEvent(new mParticle.OptOutEvent());
    batch.addEvent(new mParticle.BreadcrumbEvent());
    batch.addEvent(new mParticle.ApplicationStateTransitionEvent());
    const accepted = acceptedBatch(parseJson(JSON.stringify(batch)));
    assert.equal((accepted.events as unknown[]).length, 8);
  });

  void it('accepts a user attribute change EventBase wraps without new or old, as sent', () => {
    // The Node SDK has no change event model; EventBase wraps any data with the type it is given.
    const batch = new mParticle.Batch('production') as Model & { events?: Model[] };
    batch.events = [
      new mParticle.EventBase({ user_attribute_name: 'tier', deleted: true }, 'user_attribute_change'),
      new mParticle.EventBase(
        { user_attribute_name: 'plan', new: 'gold', is_new_attribute: true },
        'user_attribute_change',
      ),
    ];
    const sent = JSON.stringify(batch);
    assert.equal(stringifyJson(acceptedBatch(parseJson(sent))), sent);
  });

  void it('still rejects a custom event without the name that both SDKs insist on', () => {
    const batch = new mParticle.Batch('production') as Model & { addEvent(event: Model): void };
    batch.addEvent(new mParticle.AppEvent('other'));
    assert.equal(errorsOf(parseJson(JSON.stringify(batch)))[0].message, 'events[0].data.event_name: is required');
  });
});
