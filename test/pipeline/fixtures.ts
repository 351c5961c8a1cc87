// Shared test inputs: connection settings at mParticle's defaults, and an inbound batch that
// exercises every field the pipeline touches.
import { defaultConnectionSettings } from '../../src/config/index.ts';
import type { ConnectionSettings } from '../../src/config/types.ts';
import type { JsonObject } from '../../src/format/json-value.ts';
import { parseJson } from '../../src/format/lossless-json.ts';

/** The schema's defaults, which are mParticle's (test/config/load.test.ts states them one by one). */
export const defaults: Readonly<ConnectionSettings> = Object.freeze({ ...defaultConnectionSettings });

export function settings(overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return { ...defaults, ...overrides };
}

export const RECEIVED_AT = 1_700_000_000_000;
export const meta = { batchId: 42n, receivedAtMs: RECEIVED_AT };

/** Parsed with the lossless parser, so the 64-bit ids are bigints as in production. */
export function inboundBatch(): JsonObject {
  return parseJson(`{
    "schema_version": 1,
    "environment": "production",
    "api_key": "us1-abcdef",
    "batch_id": 123,
    "timestamp_unixtime_ms": 1,
    "mpid": -7636538281262557000,
    "mp_deviceid": "99999999-9fff-f999-9f99-99ed99000999",
    "ip": "172.217.12.142",
    "device_info": { "device": "John's iPhone", "platform": "iOS" },
    "application_info": { "package": "com.example.app" },
    "source_info": { "channel": "server_to_server" },
    "context": { "data_plan": { "plan_id": "p" }, "location": { "latitude": 40.7 } },
    "user_attributes": { "$age": "18" },
    "user_identities": { "customerid": "1234", "email": "a@example.com", "other": null },
    "events": [
      { "event_type": "custom_event", "data": { "event_name": "click", "custom_event_type": "navigation",
        "timestamp_unixtime_ms": 1700000000100, "event_id": 6004677780660780000, "location": { "latitude": 1.5 } } },
      { "event_type": "network_performance", "data": { "url": "https://x", "timestamp_unixtime_ms": 1700000000200 } },
      { "event_type": "user_attribute_change", "data": { "user_attribute_name": "a", "new": "b" } },
      { "event_type": "user_identity_change", "data": { "new": { "identity_type": "email", "identity": "a@example.com" } } },
      { "event_type": "pre_attribution", "data": {} },
      { "event_type": "push_reaction", "data": {} },
      { "event_type": "unknown", "data": {} },
      { "event_type": "session_end", "data": { "session_duration_ms": 60000, "timestamp_unixtime_ms": 1700000000300,
        "event_start_unixtime_ms": 1699999999000 } }
    ]
  }`) as JsonObject;
}

export function eventTypes(batch: JsonObject | null): unknown[] {
  return ((batch?.events ?? []) as JsonObject[]).map((event) => event.event_type);
}
