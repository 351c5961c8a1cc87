// Realistic mParticle batches built with the official Node SDK's model classes (npm `mparticle`),
// for `send-sample` and the demo. Each batch is one user's app session holding every event type
// the Kafka integration supports (16 types, 17 event_type values: Session Start/End are two), in
// the order an app would produce them; users, devices and values vary from batch to batch.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { SUPPORTED_EVENT_TYPES } from '../format/index.ts';

type Model = Record<string, unknown>;
type ModelClass = new (...args: unknown[]) => Model;

/** The parts of the SDK used here (it ships no type declarations). */
export interface MParticleSdk {
  ApiClient: new () => { basePath: string; timeout?: number };
  Configuration: new (apiKey: string, apiSecret: string) => object;
  EventsApi: new (
    configuration: object,
    client: object,
  ) => {
    uploadEvents(batch: object, callback: SdkCallback): void;
    bulkUploadEvents(batches: object[], callback: SdkCallback): void;
  };
  Batch: ModelClass;
  EventBase: ModelClass;
  [model: string]: unknown;
}

export type SdkCallback = (error: SdkError | null, data: unknown, response: { status: number } | undefined) => void;
export interface SdkError extends Error {
  status?: number;
  response?: { status?: number; text?: string };
}

export const mParticle = createRequire(import.meta.url)('mparticle') as MParticleSdk;

function model(name: string, ...args: unknown[]): Model {
  const ModelClass = mParticle[name] as ModelClass;
  return new ModelClass(...args);
}

interface Persona {
  mpid: number;
  customerId: string;
  email: string;
  firstName: string;
  platform: 'iOS' | 'Android';
  osVersion: string;
  appVersion: string;
  city: { name: string; country: string; region: string; lat: number; lon: number };
  ip: string;
}

// Negative and positive MPIDs, as mParticle assigns them; kept within 2^53 because the SDK
// models mpid as a JavaScript number.
const PERSONAS: readonly Persona[] = [
  {
    mpid: -4321987654321987,
    customerId: 'cust-1001',
    email: 'ada@example.com',
    firstName: 'Ada',
    platform: 'iOS',
    osVersion: '17.4',
    appVersion: '5.2.1',
    city: { name: 'London', country: 'GB', region: 'ENG', lat: 51.5072, lon: -0.1276 },
    ip: '203.0.113.17',
  },
  {
    mpid: 8123456789012345,
    customerId: 'cust-1002',
    email: 'zoe@example.com',
    firstName: 'Zoë',
    platform: 'Android',
    osVersion: '14',
    appVersion: '5.2.0',
    city: { name: 'Lyon', country: 'FR', region: 'ARA', lat: 45.764, lon: 4.8357 },
    ip: '198.51.100.42',
  },
  {
    mpid: -1987654321012345,
    customerId: 'cust-1003',
    email: 'kenji@example.com',
    firstName: 'Kenji',
    platform: 'iOS',
    osVersion: '16.7',
    appVersion: '5.1.9',
    city: { name: 'Osaka', country: 'JP', region: '27', lat: 34.6937, lon: 135.5023 },
    ip: '2001:db8::7',
  },
];

const PRODUCTS = [
  { sku: 'sku-hp-01', name: 'Wireless headphones', price: 129.0 },
  { sku: 'sku-cs-07', name: 'Phone case', price: 19.5 },
  { sku: 'sku-ch-12', name: 'USB-C charger', price: 24.99 },
];

export interface SampleBatch {
  /** The SDK model, as the SDK serialises and sends it. */
  batch: Model;
  mpid: number;
  eventTypes: string[];
}

/** `count` batches, one session each, cycling through the sample users. */
export function buildSampleBatches(count: number, now = Date.now()): SampleBatch[] {
  return Array.from({ length: count }, (_, index) => buildSessionBatch(PERSONAS[index % PERSONAS.length], index, now));
}

function buildSessionBatch(persona: Persona, index: number, now: number): SampleBatch {
  const sessionUuid = randomUUID();
  const sessionStart = now - 5 * 60_000 + index * 1000;
  let clock = sessionStart;
  const location = model('GeoLocation', persona.city.lat, persona.city.lon);
  const common = <T extends Model>(event: T, attributes: Record<string, string> = {}): T => {
    clock += 7_000;
    Object.assign(event, {
      timestamp_unixtime_ms: clock,
      source_message_id: randomUUID(),
      session_uuid: sessionUuid,
      session_start_unixtime_ms: sessionStart,
      location,
      custom_attributes: { app_section: 'shop', ...attributes },
    });
    return event;
  };
  const product = PRODUCTS[index % PRODUCTS.length];
  const quantity = 1 + (index % 2);
  const sdkProduct = model('Product', product.sku, product.name, product.price, product.price * quantity);
  Object.assign(sdkProduct, { quantity, brand: 'Acme', category: 'Electronics' });
  const commerce = model('CommerceEvent');
  commerce.product_action = model('ProductAction', 'purchase', `T-${10000 + index}`, product.price * quantity, [
    sdkProduct,
  ]);
  commerce.currency_code = 'EUR';
  commerce.product_impressions = [model('ProductImpression', 'Recommended', [sdkProduct])];

  // The SDK has no model for these three types; EventBase wraps plain data with its type.
  const plain = (data: Model, type: string): Model => model('EventBase', common(data), type);
  const events: Model[] = [
    common(model('FirstRunEvent')),
    common(model('ApplicationStateTransitionEvent', 'application_initialized'), { launch: 'cold' }),
    common(model('SessionStartEvent')),
    common(model('PushRegistrationEvent', true, `push-token-${persona.customerId}`)),
    common(model('ScreenViewEvent', 'Home'), { referrer: 'launcher' }),
    common(model('AppEvent', 'navigation', 'Browse catalog'), { category: 'headphones' }),
    common(model('BreadcrumbEvent', index + 1, 'opened product page')),
    common(model('NetworkPerformanceEvent', 'GET', 'https://api.example.com/v1/catalog', 184, 18_432, 512, 200)),
    common(commerce, { coupon: index % 2 === 0 ? 'SPRING10' : 'none' }),
    common(
      model(
        'PushMessageEvent',
        `push-token-${persona.customerId}`,
        'received',
        '{"aps":{"alert":"Your order shipped"}}',
        'background',
      ),
    ),
    plain(
      {
        user_attribute_name: 'loyalty_tier',
        new: index % 2 === 0 ? 'gold' : 'silver',
        old: 'bronze',
        deleted: false,
        is_new_attribute: false,
      },
      'user_attribute_change',
    ),
    plain(
      {
        new: {
          identity_type: 'email',
          identity: persona.email,
          timestamp_unixtime_ms: clock,
          created_this_batch: true,
        },
        old: {
          identity_type: 'email',
          identity: `old.${persona.email}`,
          timestamp_unixtime_ms: clock,
          created_this_batch: false,
        },
      },
      'user_identity_change',
    ),
    common(Object.assign(model('ProfileEvent', persona.customerId, null, 'login'), { current_mpid: persona.mpid })),
    common(
      model(
        'CrashReportEvent',
        'java.lang.IllegalStateException',
        'Image cache full',
        'at com.acme.Cache.put(Cache.java:42)',
        true,
      ),
    ),
    common(model('OptOutEvent', false)),
    common(model('SessionEndEvent', clock + 7_000 - sessionStart)),
    plain({}, 'uninstall'),
  ];

  const batch = model('Batch', 'development') as Model & { addEvent(event: Model): void; events?: Model[] };
  for (const event of events) {
    if (event.event_type !== undefined && event.data !== undefined) (batch.events ??= []).push(event);
    else batch.addEvent(event);
  }
  batch.mpid = persona.mpid;
  batch.source_request_id = randomUUID();
  batch.ip = persona.ip;
  batch.mp_deviceid = randomUUID();
  batch.user_identities = Object.assign(model('UserIdentities'), {
    customerid: persona.customerId,
    email: persona.email,
  });
  batch.user_attributes = {
    $firstname: persona.firstName,
    $city: persona.city.name,
    favourite_categories: ['audio', 'accessories'],
  };
  batch.device_info = Object.assign(model('DeviceInformation'), {
    platform: persona.platform,
    os_version: persona.osVersion,
    brand: persona.platform === 'iOS' ? 'Apple' : 'Google',
    product: persona.platform === 'iOS' ? 'iPhone15,2' : 'Pixel 8',
    device: `${persona.firstName}'s phone`,
  });
  batch.application_info = Object.assign(model('ApplicationInformation'), {
    application_name: 'Acme Shop',
    application_version: persona.appVersion,
    package: 'com.acme.shop',
    os: persona.platform,
  });
  batch.context = Object.assign(model('BatchContext'), {
    location: { city_name: persona.city.name, country_code: persona.city.country, region_code: persona.city.region },
  });
  const eventTypes = (batch.events ?? []).map((event) => String(event.event_type));
  return { batch, mpid: persona.mpid, eventTypes };
}

/** Every supported event_type appears in each sample batch (checked by the tests). */
export const SAMPLE_EVENT_TYPES: readonly string[] = SUPPORTED_EVENT_TYPES;
