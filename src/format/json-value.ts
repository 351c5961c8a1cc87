// The in-memory model of a JSON document that keeps 64-bit integers exact.
//
// mParticle's IDs (mpid, event_id, session_id, batch_id) are signed 64-bit integers and are
// often outside JavaScript's safe-integer range. The rule everywhere in kafka-forwarder:
// an integer that a JS number can hold exactly stays a `number`; any other integer is a
// `bigint`. Fractions and exponents stay `number`. Serialising writes a bigint back as the
// same digits it was read from.
export type JsonPrimitive = null | boolean | number | bigint | string;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
