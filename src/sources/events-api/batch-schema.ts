// The JSON Schema (draft-07) of one inbound Events API batch, as kafka-forwarder accepts it.
//
// Derived from mParticle's published eventsapi.schema.json, corrected where mParticle's own docs,
// samples and SDKs disagree with it (the published schema rejects mParticle's own sample batch):
// - Int64 fields (`mpid`, `event_id`, `session_id`, `batch_id`, `previous_mpid`, ...) arrive as
//   bigints from the lossless parser; the `Int64` definition checks the signed 64-bit range.
// - `String` (the schema's "any scalar") also admits bigints; `Number` admits bigints.
// - Unknown properties are accepted everywhere and forwarded as they came: the docs' samples send
//   `schema_version` and `partner_identities`, SDKs send `ccpa` consent, `media_info`, extra
//   identity types, and replays of outgoing batches carry `message_id`/`message_type`.
// - Enums are kept where forwarding depends on the value (environment, event_type, custom event,
//   transition, profile, push and commerce action types) and dropped on descriptive metadata
//   (os, platform, orientation, channel...), where mParticle's sample itself has other values.
// - Required fields follow the published schema, except the ones the docs call read-only or the
//   official SDKs never send: `session_start.session_id`, `profile.previous_mpid/current_mpid`,
//   and `location.latitude/longitude` (a batch location may be only a country). And an event's
//   data requires only what the official SDKs (Node and Python) insist on when building it: a
//   custom event's `event_name` and `custom_event_type`. The SDKs build every other event type
//   they have a model for with any field left out (the Python SDK's UserAttributeChangeEvent
//   too: a deleted attribute has no `new`, a new one no `old`), and refusing such an event
//   would lose its whole batch at the client; the optional fields are listed in
//   docs/events-api.md. `user_identity_change`, which no SDK has a model for, keeps the fields
//   the published schema requires.
// - `ip` is null, empty (taken as absent), or an `ipv4` or `ipv6` address: an anyOf, since the
//   published oneOf of v4/v6 rejects null, which both branches match.
// - `consent_state` follows the JSON reference: `gdpr` and `ccpa` map purposes to consent records.
//
// Event data is validated by dispatching on `event_type` (validate-batch.ts) rather than through
// a oneOf over 17 shapes, whose errors are unreadable. `batchJsonSchema` still states the whole
// batch with that oneOf, for documents such as GET /openapi.json.
import { SUPPORTED_EVENT_TYPES, UNSUPPORTED_EVENT_TYPES } from '../../format/index.ts';
import type { EventType } from '../../format/index.ts';

// A JSON Schema fragment. Plain data: kept JSON-serialisable so it can be published as is.
export type Schema = { [keyword: string]: unknown };

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const STRING = ref('String');
const INT64 = ref('Int64');
const NUMBER = ref('Number');
const BOOLEAN = ref('Boolean');
const UUID = ref('Uuid');
const strictString: Schema = { type: 'string' };
const nullableString: Schema = { type: ['string', 'null'] };
const stringMap: Schema = { type: ['object', 'null'], additionalProperties: STRING };

function object(properties: Record<string, Schema>, required?: string[]): Schema {
  return required ? { type: ['object', 'null'], properties, required } : { type: ['object', 'null'], properties };
}

function oneOfStrings(values: readonly string[]): Schema {
  return { type: 'string', enum: [...values] };
}

function props(names: string, schema: Schema): Record<string, Schema> {
  return Object.fromEntries(names.split(/\s+/).map((name) => [name, schema]));
}

const CUSTOM_EVENT_TYPES = [
  'navigation',
  'location',
  'search',
  'transaction',
  'user_content',
  'user_preference',
  'social',
  'other',
  'media',
  'attribution',
  'unknown', // the Node SDK's AppEvent.CustomEventType has it
];
const PRODUCT_ACTIONS = [
  'add_to_cart',
  'remove_from_cart',
  'checkout',
  'checkout_option',
  'click',
  'view_detail',
  'purchase',
  'refund',
  'add_to_wishlist',
  'remove_from_wishlist',
  'remove_from_wish_list', // the published ProductAction enum's spelling
];
const COMMERCE_CUSTOM_EVENT_TYPES = [
  ...CUSTOM_EVENT_TYPES,
  ...PRODUCT_ACTIONS,
  'promotion_view',
  'promotion_click',
  'impression',
  'consent_granted',
  'consent_denied',
];
// Identity names from the JSON reference; `customerid` (Node and Python SDKs) is normalised to
// `customer_id` before validation. Other names pass as unknown properties.
const IDENTITY_TYPES = [
  'other',
  'customer_id',
  'facebook',
  'twitter',
  'google',
  'microsoft',
  'yahoo',
  'email',
  'alias',
  'facebook_custom_audience_id',
  'other_id_2',
  'other_id_3',
  'other_id_4',
  'other_id_5',
  'other_id_6',
  'other_id_7',
  'other_id_8',
  'other_id_9',
  'other_id_10',
  'mobile_number',
  'phone_number_2',
  'phone_number_3',
];

const location = object({
  latitude: NUMBER,
  longitude: NUMBER,
  accuracy: NUMBER,
  ...props('country_code region_code city_name postal_code location_source', STRING),
  dma_code: INT64,
});

const consentRecord = object(
  {
    ...props('regulation document location hardware_id', STRING),
    consented: BOOLEAN,
    timestamp_unixtime_ms: INT64,
  },
  ['consented'],
);

const product = object({
  id: STRING,
  name: STRING,
  ...props('brand category variant coupon_code', STRING),
  position: INT64,
  ...props('price quantity total_product_amount', NUMBER),
  added_to_cart_time_ms: INT64,
  custom_attributes: stringMap,
});
const productList: Schema = { type: ['array', 'null'], items: ref('Product') };

export const definitions: Record<string, Schema> = {
  // Scalars. `Int64` and the bigint-aware keywords are defined for ajv in validate-batch.ts; the
  // published form of these three is in `publishedScalarDefinitions` below.
  Int64: { int64: true },
  Number: { jsonNumber: true },
  String: { jsonScalar: true },
  Boolean: { type: ['boolean', 'null'] },
  Uuid: {
    type: ['string', 'null'],
    pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  },
  StringOrArray: { anyOf: [STRING, { type: ['array', 'null'], items: STRING }] },
  GeoLocation: location,
  Product: product,

  DeviceInformation: object({
    ...props(
      'brand product device android_uuid device_manufacturer platform os_version device_model device_country ' +
        'locale_language locale_country network_country network_carrier network_code network_mobile_country_code ' +
        'build_identifier http_header_user_agent att_authorization_status push_token cpu_architecture ' +
        'radio_access_technology bluetooth_version build_version_release amp_id microsoft_advertising_id ' +
        'microsoft_publisher_id',
      STRING,
    ),
    ...props(
      'screen_height screen_width screen_dpi timezone_offset att_timestamp_unixtime_ms', // timezone_offset: hours
      INT64,
    ),
    ...props(
      'is_tablet push_notification_sound_enabled push_notification_vibrate_enabled supports_telephony has_nfc ' +
        'bluetooth_enabled limit_ad_tracking is_dst',
      BOOLEAN,
    ),
    ...props(
      'ios_advertising_id ios_idfv android_advertising_id roku_advertising_id roku_publisher_id fire_advertising_id',
      UUID,
    ),
  }),
  ApplicationInformation: object({
    ...props('application_name application_version application_build_number install_referrer package os', STRING),
    apple_search_ads_attributes: { type: ['object', 'null'], additionalProperties: stringMap },
  }),
  SourceInformation: object(
    { ...props('channel partner replay_request_id replay_job_id', STRING), is_historical: BOOLEAN },
    ['channel'],
  ),
  AttributionInfo: object(props('service_provider publisher campaign', STRING), [
    'service_provider',
    'publisher',
    'campaign',
  ]),
  BatchContext: object({
    data_plan: object({ plan_id: strictString, plan_version: INT64 }, ['plan_id']),
    location,
  }),
  ConsentState: object({
    gdpr: { type: ['object', 'null'], additionalProperties: consentRecord },
    ccpa: { type: ['object', 'null'], additionalProperties: consentRecord },
  }),
  UserIdentities: object(props(IDENTITY_TYPES.join(' '), STRING)),
  UserIdentity: object(
    {
      identity_type: oneOfStrings(IDENTITY_TYPES),
      identity: STRING,
      timestamp_unixtime_ms: INT64,
      created_this_batch: BOOLEAN,
    },
    ['identity_type', 'identity', 'timestamp_unixtime_ms'],
  ),
  DeviceCurrentState: object({
    ...props(
      'time_since_start_ms total_system_memory_usage_bytes disk_space_free_bytes external_disk_space_free_bytes',
      INT64,
    ),
    ...props(
      'battery_level system_memory_available_bytes system_memory_threshold_bytes application_memory_available_bytes ' +
        'application_memory_max_bytes application_memory_total_bytes',
      NUMBER,
    ),
    ...props('data_connection_type data_connection_type_detail cpu device_orientation status_bar_orientation', STRING),
    ...props('gps_state system_memory_low', BOOLEAN),
  }),
  ProductAction: object(
    {
      action: oneOfStrings(PRODUCT_ACTIONS),
      checkout_step: INT64,
      ...props('checkout_options product_action_list product_list_source affiliation coupon_code', STRING),
      transaction_id: nullableString,
      ...props('total_amount tax_amount shipping_amount', NUMBER),
      products: productList,
    },
    ['action'],
  ),
  PromotionAction: object(
    {
      action: oneOfStrings(['view', 'click']),
      promotions: {
        type: ['array', 'null'],
        items: object({ id: STRING, name: STRING, creative: STRING, position: STRING }),
      },
    },
    ['action'],
  ),
  ProductImpression: object({ product_impression_list: STRING, products: productList }, [
    'product_impression_list',
    'products',
  ]),
};

/** Fields every event's `data` may carry. */
const commonEventData: Record<string, Schema> = {
  ...props('timestamp_unixtime_ms event_id session_id session_start_unixtime_ms event_start_unixtime_ms', INT64),
  ...props('source_message_id session_uuid', UUID),
  event_num: INT64,
  custom_attributes: { type: ['object', 'null'], additionalProperties: ref('StringOrArray') },
  custom_flags: { type: ['object', 'null'], additionalProperties: ref('StringOrArray') },
  location: ref('GeoLocation'),
  device_current_state: ref('DeviceCurrentState'),
  ...props('is_goal_defined is_main_thread', BOOLEAN),
  lifetime_value_change: NUMBER,
  ...props('lifetime_value_attribute_name data_connection_type view_controller canonical_name', STRING),
  event_system_notification_info: object({ type: STRING }),
};

function eventData(properties: Record<string, Schema> = {}, required: string[] = []): Schema {
  const schema: Schema = { type: 'object', properties: { ...commonEventData, ...properties } };
  if (required.length > 0) schema.required = required;
  return schema;
}

const breadcrumbData = eventData({ session_number: INT64, label: strictString });

/** The schema of `data` for each event type, keyed by `event_type`. */
export const eventDataSchemas: Record<EventType, Schema> = {
  custom_event: eventData(
    {
      event_name: strictString,
      custom_event_type: oneOfStrings(CUSTOM_EVENT_TYPES),
      media_info: { type: ['object', 'null'] },
    },
    ['event_name', 'custom_event_type'],
  ),
  commerce_event: eventData({
    product_action: ref('ProductAction'),
    promotion_action: ref('PromotionAction'),
    product_impressions: { type: ['array', 'null'], items: ref('ProductImpression') },
    shopping_cart: object({ products: productList }, ['products']),
    ...props('currency_code screen_name event_name', STRING),
    is_non_interactive: BOOLEAN,
    custom_event_type: oneOfStrings(COMMERCE_CUSTOM_EVENT_TYPES),
  }),
  screen_view: eventData({ screen_name: strictString, activity_type: STRING }),
  session_start: eventData(),
  session_end: eventData({ session_duration_ms: INT64 }),
  crash_report: eventData({
    breadcrumbs: { type: ['array', 'null'], items: { type: 'object', properties: { data: breadcrumbData } } },
    ...props(
      'class_name severity message stack_trace topmost_context pl_crash_report_file_base64 exception_title',
      STRING,
    ),
    exception_handled: BOOLEAN,
    ...props('ios_image_base_address ios_image_size session_number', INT64),
  }),
  network_performance: eventData({
    http_verb: nullableString,
    url: strictString,
    ...props('time_elapsed bytes_in bytes_out response_code', INT64),
    data: STRING,
  }),
  breadcrumb: breadcrumbData,
  first_run: eventData(),
  opt_out: eventData({ is_opted_out: BOOLEAN }),
  push_registration: eventData({ register: BOOLEAN, registration_token: strictString }),
  push_message: eventData({
    ...props(
      'push_message_token message network push_notification_payload application_state action_identifier ' +
        'push_message_behavior',
      STRING,
    ),
    push_message_type: oneOfStrings(['sent', 'received', 'action']),
  }),
  application_state_transition: eventData({
    ...props('successfully_closed is_first_run is_upgrade', BOOLEAN),
    ...props('push_notification_payload launch_referral', STRING),
    application_transition_type: oneOfStrings([
      'application_initialized',
      'application_exit',
      'application_background',
      'application_foreground',
    ]),
  }),
  profile: eventData({
    ...props('previous_mpid current_mpid', INT64),
    ...props('profile_name previous_profile_name', STRING), // the Node SDK's ProfileEvent sends these
    profile_event_type: oneOfStrings(['signup', 'login', 'logout', 'update', 'delete', 'unknown']),
  }),
  uninstall: eventData(),
  user_attribute_change: eventData({
    user_attribute_name: strictString,
    new: ref('StringOrArray'),
    old: ref('StringOrArray'),
    ...props('deleted is_new_attribute', BOOLEAN),
  }),
  user_identity_change: eventData({ new: ref('UserIdentity'), old: ref('UserIdentity') }, ['new', 'old']),
  // Accepted at ingest (mParticle's schema lists the first two, the SDKs the third) and filtered
  // out before forwarding: no event output receives them. Their data has no known shape.
  pre_attribution: eventData(),
  push_reaction: eventData(),
  unknown: eventData(),
};

/**
 * The batch envelope: every top-level property. `events` items are checked by validate-batch.ts
 * against `eventDataSchemas`, so here they only need to be objects.
 */
export const batchEnvelopeSchema: Schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://kafka-forwarder.invalid/schema/eventsapi.batch.envelope.json',
  type: 'object',
  required: ['environment'],
  properties: {
    environment: oneOfStrings(['production', 'development']),
    events: { type: ['array', 'null'] },
    source_request_id: STRING,
    device_info: ref('DeviceInformation'),
    application_info: ref('ApplicationInformation'),
    user_attributes: { type: ['object', 'null'], additionalProperties: ref('StringOrArray') },
    deleted_user_attributes: { type: ['array', 'null'], items: strictString },
    user_identities: ref('UserIdentities'),
    partner_identities: stringMap,
    partner_identity: STRING,
    api_key: STRING,
    api_keys: { type: ['array', 'null'], items: strictString },
    // Standard formats any JSON Schema tool enforces; an empty string (sent by SDKs that know no
    // address) counts as absent.
    ip: {
      anyOf: [
        { type: 'null' },
        { type: 'string', maxLength: 0 },
        { type: 'string', format: 'ipv4' },
        { type: 'string', format: 'ipv6' },
      ],
    },
    integration_attributes: { type: ['object', 'null'], additionalProperties: stringMap },
    context: ref('BatchContext'),
    source_info: ref('SourceInformation'),
    mp_deviceid: UUID,
    attribution_info: ref('AttributionInfo'),
    ...props('timestamp_unixtime_ms batch_id mpid origin_mpid', INT64),
    sdk_version: STRING,
    consent_state: ref('ConsentState'),
    job_id: STRING,
    schema_version: INT64,
  },
  definitions,
};

/** Published forms of the bigint-aware scalars: what a client sees in the JSON Schema. */
export const publishedScalarDefinitions: Record<string, Schema> = {
  Int64: {
    type: ['integer', 'null'],
    format: 'int64',
    description:
      'Signed 64-bit integer (-9223372036854775808 to 9223372036854775807); send exact digits, values beyond 2^53 are kept exactly.',
  },
  Number: { type: ['number', 'null'] },
  String: { type: ['string', 'null', 'boolean', 'number'], description: 'A scalar; non-strings are accepted as is.' },
};

const ALL_EVENT_TYPES: readonly EventType[] = [...SUPPORTED_EVENT_TYPES, ...UNSUPPORTED_EVENT_TYPES];

function publishedDefinitions(): Record<string, Schema> {
  const all: Record<string, Schema> = { ...definitions, ...publishedScalarDefinitions };
  for (const type of ALL_EVENT_TYPES) {
    all[eventDefinitionName(type)] = {
      type: 'object',
      properties: { event_type: { const: type }, data: eventDataSchemas[type] },
      required: ['event_type', 'data'],
    };
  }
  return all;
}

export function eventDefinitionName(type: EventType): string {
  return `Event_${type}`;
}

/** The whole batch as one draft-07 JSON Schema, events as a oneOf keyed by `event_type`. */
export const batchJsonSchema: Schema = {
  ...batchEnvelopeSchema,
  $id: 'https://kafka-forwarder.invalid/schema/eventsapi.batch.json',
  description: 'mParticle Events API batch, as accepted by kafka-forwarder',
  properties: {
    ...(batchEnvelopeSchema.properties as Record<string, Schema>),
    events: {
      type: ['array', 'null'],
      items: { oneOf: ALL_EVENT_TYPES.map((type) => ref(eventDefinitionName(type))) },
    },
  },
  definitions: publishedDefinitions(),
};

/** POST /v2/bulkevents: an array of at most 100 batches. */
export const bulkJsonSchema: Schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://kafka-forwarder.invalid/schema/eventsapi.bulk.json',
  description: 'mParticle Events API bulk request: an array of batches',
  type: 'array',
  maxItems: 100,
  items: { $ref: 'https://kafka-forwarder.invalid/schema/eventsapi.batch.json' },
};
