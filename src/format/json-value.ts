// The in-memory model of a JSON document that keeps 64-bit integers exact.
//
// mParticle's IDs (mpid, event_id, session_id, batch_id) are signed 64-bit integers and are
// often outside JavaScript's safe-integer range. The rule everywhere in kafka-forwarder:
// an integer that a JS number can hold exactly stays a `number`; any other integer is a
// `bigint`. A number whose text a double would not give back (`10.0`, `1e3`, `-0`, `1e400`,
// `0.10000000000000001`) is kept as its text, in a RawJsonNumber (V8's JSON.rawJSON object).
// Serialising writes each back exactly as it was read.
export type JsonPrimitive = null | boolean | number | bigint | string | RawJsonNumber;

/** A JSON number kept as its source text; JSON.stringify writes it back verbatim. */
export interface RawJsonNumber {
  readonly rawJSON: string;
}

const nativeJson = JSON as unknown as { rawJSON(text: string): RawJsonNumber; isRawJSON(value: unknown): boolean };

export function rawJsonNumber(text: string): RawJsonNumber {
  return nativeJson.rawJSON(text);
}

export function isRawJsonNumber(value: unknown): value is RawJsonNumber {
  return nativeJson.isRawJSON(value);
}
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isRawJsonNumber(value);
}
