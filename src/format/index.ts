// The public face of format/: what other folders of src/ may import from it.
export {
  INT64_MAX,
  INT64_MIN,
  SUPPORTED_EVENT_TYPES,
  UNSUPPORTED_EVENT_TYPES,
  batchMpid,
  int64ToString,
  int64Value,
  isKnownEventType,
  isSupportedEventType,
} from './batch.ts';
export type { EventType } from './batch.ts';
export { isJsonObject, isRawJsonNumber } from './json-value.ts';
export type { JsonObject, JsonValue } from './json-value.ts';
export { parseJson, stringifyJson, stringifyJsonToBuffer } from './lossless-json.ts';
