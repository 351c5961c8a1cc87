// Turns one spooled inbound batch into mParticle's standard outgoing JSON for one connection
// (json-reference.md, "Differences between incoming and outgoing JSON"), applying that
// connection's settings. Pure: the same batch, spool metadata and settings always give the
// same output, byte for byte, which is what lets a restart re-send identical records.
//
// What is added: schema_version 2, batch_id (the spool's id), the top-level
// timestamp_unixtime_ms (receipt time), system_notifications [], unique_id (when set); on each
// event message_id (stable, see message-id.ts), message_type (the event_type string), and in
// its data event_start_unixtime_ms (and timestamp_unixtime_ms, the receipt time, when the
// client sent none, as mParticle does). user_identities becomes the outgoing array form.
//
// What is dropped: api_key / api_keys (input routing, never forwarded), events of types the
// settings or the supported list exclude, and the fields the settings switch off.
import type { ConnectionSettings } from '../config/index.ts';
import type { JsonObject, JsonValue } from '../format/index.ts';
import { isJsonObject } from '../format/index.ts';
import { FILTER_REASONS, filterReasonFor } from './event-types.ts';
import type { FilterReason } from './event-types.ts';
import { messageIdFor } from './message-id.ts';

/** What the spool knows about a stored batch. */
export interface SpoolMeta {
  /** The spool's unique id for the batch; becomes the outgoing `batch_id`. */
  readonly batchId: bigint;
  /** When the batch was accepted (ms since the epoch). */
  readonly receivedAtMs: number;
}

export type FilterCounts = Record<FilterReason, number>;

export interface OutgoingBatchResult {
  /** The outgoing batch, or null when nothing is to be sent (see `skippedEmpty`). */
  readonly batch: JsonObject | null;
  /** Events in the inbound batch. */
  readonly eventsIn: number;
  /** Events in the outgoing batch (0 when `batch` is null). */
  readonly eventsOut: number;
  /** The message_id given to each event of the outgoing batch, in order (empty when `batch` is null). */
  readonly messageIds: readonly string[];
  /** Events held back, by reason (every reason present, 0 when none). */
  readonly filtered: FilterCounts;
  /** True when the batch is null because it has no events left and Send Batches without Events is off. */
  readonly skippedEmpty: boolean;
}

/** How a connection groups outgoing records (Wait for Complete Batch overrides Send as Batch). */
export type ForwardingMode = 'per-event' | 'device-window' | 'session';

export function forwardingModeOf(settings: ConnectionSettings): ForwardingMode {
  if (settings.waitForCompleteBatch) return 'session';
  return settings.sendAsBatch ? 'device-window' : 'per-event';
}

/** Top-level inbound fields that are never forwarded: they route input, and api_key is a credential's half. */
const INPUT_ONLY_FIELDS: ReadonlySet<string> = new Set(['api_key', 'api_keys']);
/** Fields covered by "Include Metadata". */
const METADATA_FIELDS: ReadonlySet<string> = new Set(['application_info', 'device_info', 'source_info']);
/** Fields this module sets itself; inbound values are replaced. */
const ASSIGNED_FIELDS: ReadonlySet<string> = new Set(['schema_version', 'batch_id', 'timestamp_unixtime_ms']);

export function emptyFilterCounts(): FilterCounts {
  const counts = {} as FilterCounts;
  for (const reason of FILTER_REASONS) counts[reason] = 0;
  return counts;
}

/** A bigint as our JSON model holds integers: a number when exactly representable. */
function jsonInteger(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/**
 * Builds the outgoing batch for one connection. The inbound batch must already be validated
 * and normalised (an object with an `events` array, when present); it is not modified.
 */
export function buildOutgoingBatch(
  inbound: JsonObject,
  meta: SpoolMeta,
  settings: ConnectionSettings,
): OutgoingBatchResult {
  const filtered = emptyFilterCounts();
  const inboundEvents = Array.isArray(inbound.events) ? inbound.events : [];
  const events: JsonValue[] = [];
  const messageIds: string[] = [];
  for (let index = 0; index < inboundEvents.length; index++) {
    const event = inboundEvents[index];
    const reason = filterReasonFor(isJsonObject(event) ? event.event_type : undefined, settings);
    if (reason !== undefined) {
      filtered[reason]++;
      continue;
    }
    const messageId = messageIdFor(meta.batchId, index);
    messageIds.push(messageId);
    events.push(outgoingEvent(event as JsonObject, messageId, meta, settings));
  }

  const base = { eventsIn: inboundEvents.length, filtered };
  if (events.length === 0 && !settings.sendBatchesWithoutEvents) {
    return { ...base, batch: null, eventsOut: 0, messageIds: [], skippedEmpty: true };
  }
  return {
    ...base,
    batch: outgoingBatchFields(inbound, events, meta, settings),
    eventsOut: events.length,
    messageIds,
    skippedEmpty: false,
  };
}

function outgoingBatchFields(
  inbound: JsonObject,
  events: JsonValue[],
  meta: SpoolMeta,
  settings: ConnectionSettings,
): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(inbound)) {
    if (INPUT_ONLY_FIELDS.has(key) || ASSIGNED_FIELDS.has(key)) continue;
    if (!settings.includeMetadata && METADATA_FIELDS.has(key)) continue;
    const value = inbound[key];
    switch (key) {
      case 'events':
        out.events = events;
        break;
      case 'ip':
        // An empty ip (SDKs send one when they know none) is an absent one.
        if (value !== '' && !settings.metadataFieldExclusion.includes('ip_address')) out.ip = value;
        break;
      case 'device_info':
        out.device_info = settings.metadataFieldExclusion.includes('device_name') ? without(value, 'device') : value;
        break;
      case 'mp_deviceid':
        if (settings.includeMpDeviceId) out.mp_deviceid = value;
        break;
      case 'context':
      case 'batch_context': {
        // The OpenAPI file calls it batch_context; the outgoing format knows only `context`.
        if (key === 'batch_context' && 'context' in inbound) break;
        const context = settings.includeEventBatchLocation ? value : without(value, 'location');
        if (!isJsonObject(context) || Object.keys(context).length > 0) out.context = context;
        break;
      }
      case 'user_identities':
        out.user_identities = outgoingUserIdentities(value, meta.receivedAtMs);
        break;
      default:
        out[key] = value;
    }
  }
  out.events ??= events;
  out.schema_version = 2;
  out.batch_id = jsonInteger(meta.batchId);
  out.timestamp_unixtime_ms = meta.receivedAtMs;
  if (!Array.isArray(out.system_notifications)) out.system_notifications = [];
  if (settings.uniqueId !== undefined && settings.uniqueId !== '') out.unique_id = settings.uniqueId;
  return out;
}

function outgoingEvent(
  event: JsonObject,
  messageId: string,
  meta: SpoolMeta,
  settings: ConnectionSettings,
): JsonObject {
  const data: JsonObject = isJsonObject(event.data) ? { ...event.data } : {};
  if (!settings.includeLocationInformation) delete data.location;
  // mParticle stamps events that carry no timestamp with the server time of receipt.
  if (data.timestamp_unixtime_ms === undefined || data.timestamp_unixtime_ms === null) {
    data.timestamp_unixtime_ms = meta.receivedAtMs;
  }
  if (data.event_start_unixtime_ms === undefined || data.event_start_unixtime_ms === null) {
    data.event_start_unixtime_ms = data.timestamp_unixtime_ms;
  }
  return {
    ...event,
    data,
    message_id: messageId,
    message_type: event.event_type,
  };
}

/** A copy of `value` without `key` when it is an object holding that key; otherwise `value` itself. */
function without(value: JsonValue, key: string): JsonValue {
  if (!isJsonObject(value) || !(key in value)) return value;
  const copy = { ...value };
  delete copy[key];
  return copy;
}

/**
 * Inbound `{customer_id: "1234", email: "…"}` becomes outgoing
 * `[{identity_type, identity, timestamp_unixtime_ms}]`. The inbound map carries no time for an
 * identity, so each gets the batch's receipt time. `customerid` (what mParticle's Node and
 * Python SDKs send) is `customer_id`. Null or empty identities are left out; an array (already
 * in outgoing form) passes through.
 */
export function outgoingUserIdentities(value: JsonValue, receivedAtMs: number): JsonValue {
  if (!isJsonObject(value)) return value;
  const identities: JsonObject[] = [];
  for (const [type, identity] of Object.entries(value)) {
    const text =
      typeof identity === 'string'
        ? identity
        : typeof identity === 'number' || typeof identity === 'bigint'
          ? String(identity)
          : '';
    if (text === '') continue;
    if (type === 'customerid' && 'customer_id' in value) continue; // the canonical name wins
    identities.push({
      identity_type: type === 'customerid' ? 'customer_id' : type,
      identity: text,
      timestamp_unixtime_ms: receivedAtMs,
    });
  }
  return identities;
}
