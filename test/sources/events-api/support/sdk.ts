// The official mParticle Node SDK (npm `mparticle`), pointed at our server, and batches built with
// its own model classes covering all 17 supported event_type values.
import { createRequire } from 'node:module';
import { SUPPORTED_EVENT_TYPES } from '../../../../src/format/index.ts';

export type Model = Record<string, unknown>;
type ModelClass = new (...args: unknown[]) => Model;
interface SdkResponse {
  status: number;
  text?: string;
}
type Callback = (
  error: (Error & { status?: number; response?: SdkResponse }) | null,
  data: unknown,
  response: SdkResponse,
) => void;
interface EventsApi {
  uploadEvents(batch: Model, callback: Callback): void;
  bulkUploadEvents(batches: Model[], callback: Callback): void;
}
/** The SDK's client classes. */
interface MParticleApi {
  ApiClient: new () => { basePath: string };
  Configuration: new (key: string, secret: string) => unknown;
  EventsApi: new (configuration: unknown, client: unknown) => EventsApi;
}
/** The SDK's model classes (Batch, AppEvent, Product…), by name. */
interface MParticleModels {
  Batch: ModelClass;
  EventBase: ModelClass;
  [model: string]: ModelClass;
}

const sdk: unknown = createRequire(import.meta.url)('mparticle');
export const mParticle = sdk as MParticleModels;
const mParticleApi = sdk as MParticleApi;

export interface SdkOutcome {
  readonly status: number;
  readonly body: string;
}

/** The SDK's EventsApi aimed at `baseUrl`/v2, as NOTES.md says a user must do it. */
export function sdkClient(baseUrl: string, key: string, secret: string) {
  const client = new mParticleApi.ApiClient();
  client.basePath = `${baseUrl}/v2`;
  const api = new mParticleApi.EventsApi(new mParticleApi.Configuration(key, secret), client);
  const settle =
    (resolve: (outcome: SdkOutcome) => void) =>
    (error: Parameters<Callback>[0], _data: unknown, response: SdkResponse | undefined): void => {
      const status = response?.status ?? error?.status ?? error?.response?.status ?? 0;
      resolve({ status, body: response?.text ?? error?.response?.text ?? '' });
    };
  return {
    uploadEvents: (batch: Model) => new Promise<SdkOutcome>((resolve) => api.uploadEvents(batch, settle(resolve))),
    bulkUploadEvents: (batches: Model[]) =>
      new Promise<SdkOutcome>((resolve) => api.bulkUploadEvents(batches, settle(resolve))),
  };
}

export { SUPPORTED_EVENT_TYPES };

/** One event of each supported type, built with the SDK's classes where it has one. */
export function sdkEvents(): Record<(typeof SUPPORTED_EVENT_TYPES)[number], Model> {
  const withCommon = <T extends Model>(event: T): T =>
    Object.assign(event, {
      timestamp_unixtime_ms: 1700000000000,
      source_message_id: '3dbfc52e-164f-405e-885e-2b448b301f83',
      session_uuid: '84e1b361-a282-4adf-8a6d-1d31e6dd5a9e',
      custom_attributes: { plan: 'premium', note: 'Zoë 🎉' },
      location: new mParticle.GeoLocation(40.7142, -74.0064),
    });
  const product = new mParticle.Product('sku-1', 'Album', 9.99, 19.98);
  const commerce = new mParticle.CommerceEvent();
  commerce.product_action = new mParticle.ProductAction('purchase', 'T-1', 19.98, [product]);
  commerce.currency_code = 'EUR';
  commerce.product_impressions = [new mParticle.ProductImpression('Search', [product])];
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
    // The SDK has no model for these three; EventBase wraps a plain data object with its type.
    uninstall: { timestamp_unixtime_ms: 1700000000000 },
    user_attribute_change: {
      user_attribute_name: 'tier',
      new: 'gold',
      old: null,
      deleted: false,
      is_new_attribute: true,
    },
    user_identity_change: {
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
    },
  };
}

/** An SDK batch holding the given event types (all 17 by default) and the usual envelope. */
export function sdkBatch(
  sourceRequestId: string,
  types: readonly (typeof SUPPORTED_EVENT_TYPES)[number][] = SUPPORTED_EVENT_TYPES,
): Model {
  const batch = new mParticle.Batch('development') as Model & { addEvent(event: Model): void; events: Model[] };
  const events = sdkEvents();
  for (const type of types) {
    const event = events[type];
    if (typeof event.getEventType === 'function') batch.addEvent(event);
    else (batch.events ??= []).push(new mParticle.EventBase(event, type));
  }
  batch.mpid = 1234567890123;
  batch.source_request_id = sourceRequestId;
  batch.ip = '2001:db8::1';
  const identities = new mParticle.UserIdentities();
  Object.assign(identities, { customerid: 'c-42', email: 'a@example.com' });
  batch.user_identities = identities;
  batch.user_attributes = { $firstname: 'Zoë', favourites: ['a', 'b'] };
  batch.device_info = Object.assign(new mParticle.DeviceInformation(), { platform: 'Android', os_version: '14' });
  batch.application_info = Object.assign(new mParticle.ApplicationInformation(), { application_version: '5.2.1' });
  return batch;
}

/** What we expect to store for an SDK batch: what the SDK put on the wire, customerid renamed. */
export function expectedStored(batch: Model): Record<string, unknown> {
  const wire = JSON.parse(JSON.stringify(batch)) as Record<string, unknown>;
  const identities = wire.user_identities as Record<string, unknown> | undefined;
  if (identities && 'customerid' in identities) {
    const { customerid, ...rest } = identities;
    wire.user_identities = { ...rest, customer_id: customerid };
  }
  return wire;
}
