// The mParticle event batch, as kafka-forwarder holds it: a JsonObject straight from the lossless
// parser (64-bit IDs are bigints when they don't fit a safe integer), after Events API
// validation has normalised it. These are the names and accessors the rest of the code shares.
import { isJsonObject, isRawJsonNumber } from './json-value.ts';
import type { JsonObject, JsonValue } from './json-value.ts';

/** The event types the mParticle Kafka integration forwards (its "Supported Events"). */
export const SUPPORTED_EVENT_TYPES = [
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
  'user_attribute_change',
  'user_identity_change',
] as const;
export type SupportedEventType = (typeof SUPPORTED_EVENT_TYPES)[number];

/**
 * Types that mParticle's schema or SDKs name but that no event output receives. The Events API
 * accepts them (mParticle's schema does), and the forwarder filters them out instead of sending them.
 */
export const UNSUPPORTED_EVENT_TYPES = ['pre_attribution', 'push_reaction', 'unknown'] as const;
export type UnsupportedEventType = (typeof UNSUPPORTED_EVENT_TYPES)[number];

export type EventType = SupportedEventType | UnsupportedEventType;

const supported: ReadonlySet<string> = new Set(SUPPORTED_EVENT_TYPES);
const known: ReadonlySet<string> = new Set([...SUPPORTED_EVENT_TYPES, ...UNSUPPORTED_EVENT_TYPES]);

export function isSupportedEventType(value: unknown): value is SupportedEventType {
  return typeof value === 'string' && supported.has(value);
}

export function isKnownEventType(value: unknown): value is EventType {
  return typeof value === 'string' && known.has(value);
}

export type Environment = 'production' | 'development';

/** A 64-bit integer as the lossless parser gives it. */
export type Int64 = number | bigint;

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** True for a JSON integer that fits a signed 64-bit integer. */
export function isInt64(value: unknown): value is Int64 {
  if (typeof value === 'bigint') return value >= INT64_MIN && value <= INT64_MAX;
  // The parser keeps only safe integers as numbers; callers that build batches by hand may not,
  // so bound numbers too (-2^63 is a double; 2^63 is the first one past the range).
  return typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * The integer a JSON number literal stands for, when it stands for one: JSON Schema counts `13.0`,
 * `-1505126866959.0` and `1e3` as integers, and so do we. Undefined for a fraction, or for an
 * integer too far outside the 64-bit range to matter (the text is then never expanded).
 */
export function integerOfLiteral(text: string): bigint | undefined {
  const match = DECIMAL.exec(text);
  if (match === null) return undefined;
  const [, sign, whole, fraction = '', exponentText = '0'] = match;
  const digits = (whole + fraction).replace(/^0+(?=\d)/, '');
  const exponent = Number(exponentText) - fraction.length;
  if (/^0+$/.test(digits)) return 0n;
  let value: bigint;
  if (exponent >= 0) {
    if (digits.length + exponent > 40) return undefined; // far beyond 2^63
    value = BigInt(digits) * 10n ** BigInt(exponent);
  } else {
    const cut = digits.length + exponent;
    if (cut <= 0 || !/^0*$/.test(digits.slice(cut))) return undefined;
    value = BigInt(digits.slice(0, cut));
  }
  return sign === '-' ? -value : value;
}

/**
 * The value of a 64-bit integer field as the lossless parser may give it: a number, a bigint, or an
 * integral number written with a fraction or exponent (kept as its text, so that it is forwarded as
 * the client wrote it). Undefined for anything else.
 */
export function int64Value(value: unknown): Int64 | undefined {
  if (isInt64(value)) return value;
  if (!isRawJsonNumber(value)) return undefined;
  const integer = integerOfLiteral(value.rawJSON);
  if (integer === undefined || integer < INT64_MIN || integer > INT64_MAX) return undefined;
  return integer >= BigInt(Number.MIN_SAFE_INTEGER) && integer <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(integer)
    : integer;
}

/** One event of a batch: `{ event_type, data }`. */
export interface BatchEvent extends JsonObject {
  event_type: EventType;
  data: JsonObject;
}

export function batchEvents(batch: JsonObject): BatchEvent[] {
  const events = batch.events;
  return Array.isArray(events) ? (events.filter(isJsonObject) as BatchEvent[]) : [];
}

export function batchEnvironment(batch: JsonObject): Environment | undefined {
  const environment = batch.environment;
  return environment === 'production' || environment === 'development' ? environment : undefined;
}

function int64Field(object: JsonObject, name: string): Int64 | undefined {
  return int64Value(object[name]);
}

/** The batch's MPID (mParticle user ID), if it carries one. */
export function batchMpid(batch: JsonObject): Int64 | undefined {
  return int64Field(batch, 'mpid');
}

/** The batch's own ID (`batch_id`), if it carries one. */
export function batchId(batch: JsonObject): Int64 | undefined {
  return int64Field(batch, 'batch_id');
}

/** The event's ID (`data.event_id`), if it carries one. */
export function eventId(event: BatchEvent): Int64 | undefined {
  return int64Field(event.data, 'event_id');
}

/** An Int64 as the decimal digits mParticle writes (bigints and numbers alike). */
export function int64ToString(value: Int64): string {
  // String() would write an unsafe number in shortest form ("9223372036854776000"), not its digits.
  return typeof value === 'bigint' || !Number.isSafeInteger(value) ? BigInt(value).toString() : String(value);
}

/**
 * The device ID an output reports: `mp_deviceid` when the batch has one, else the MPID as a
 * string (mParticle's rule), else undefined.
 */
export function deviceId(batch: JsonObject): string | undefined {
  const mpDeviceId = batch.mp_deviceid;
  if (typeof mpDeviceId === 'string' && mpDeviceId !== '') return mpDeviceId;
  const mpid = batchMpid(batch);
  return mpid === undefined ? undefined : int64ToString(mpid);
}

/** `user_identities` as the inbound map (identity type → value), or undefined. */
export function userIdentities(batch: JsonObject): JsonObject | undefined {
  const identities: JsonValue | undefined = batch.user_identities;
  return isJsonObject(identities) ? identities : undefined;
}
