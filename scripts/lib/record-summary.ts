// One line about a forwarded Kafka record (an outgoing mParticle batch), for the demo's listing:
// the event types it holds and the field that says most about each.
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/format/index.ts';

function text(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function field(data: JsonObject, ...path: string[]): JsonValue | undefined {
  let value: JsonValue | undefined = data;
  for (const key of path) value = isJsonObject(value) ? value[key] : undefined;
  return value;
}

/** What an event is about, from the fields its type defines. */
export function describeEvent(event: JsonObject): string {
  const type = text(event.event_type);
  const data = isJsonObject(event.data) ? event.data : {};
  switch (type) {
    case 'custom_event':
      return `custom_event "${text(data.event_name)}" (${text(data.custom_event_type)})`;
    case 'screen_view':
      return `screen_view "${text(data.screen_name)}"`;
    case 'commerce_event': {
      const products = field(data, 'product_action', 'products');
      return `commerce_event ${text(field(data, 'product_action', 'action'))} ${text(field(data, 'product_action', 'transaction_id'))}, ${Array.isArray(products) ? products.length : 0} product(s), total ${text(field(data, 'product_action', 'total_amount'))} ${text(data.currency_code)}`;
    }
    case 'session_end':
      return `session_end after ${text(data.session_duration_ms)} ms`;
    case 'crash_report':
      return `crash_report ${text(data.class_name)}: ${text(data.message)}`;
    case 'network_performance':
      return `network_performance ${text(data.http_verb)} ${text(data.url)} → ${text(data.response_code)} in ${text(data.time_elapsed)} ms`;
    case 'breadcrumb':
      return `breadcrumb "${text(data.label)}"`;
    case 'push_registration':
      return `push_registration register=${text(data.register)}`;
    case 'push_message':
      return `push_message ${text(data.push_message_type)}`;
    case 'application_state_transition':
      return `application_state_transition ${text(data.application_transition_type)}`;
    case 'profile':
      return `profile ${text(data.profile_event_type)}`;
    case 'user_attribute_change':
      return `user_attribute_change ${text(data.user_attribute_name)}: ${text(data.old)} → ${text(data.new)}`;
    case 'user_identity_change':
      return `user_identity_change ${text(field(data, 'new', 'identity_type'))} set`;
    case 'opt_out':
      return `opt_out is_opted_out=${text(data.is_opted_out)}`;
    default:
      return type;
  }
}

export function summarizeRecord(batch: JsonValue): string {
  if (!isJsonObject(batch)) return '(not a JSON object)';
  const events = Array.isArray(batch.events) ? batch.events.filter(isJsonObject) : [];
  const what =
    events.length === 0
      ? 'no events'
      : events.length === 1
        ? describeEvent(events[0])
        : `${events.length} events: ${events.map((e) => text(e.event_type)).join(', ')}`;
  return `mpid ${text(batch.mpid)}: ${what}`;
}
