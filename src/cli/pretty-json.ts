// Indented JSON for people (dlq show, the demo) that keeps every number exact: bigints and raw
// numbers from the lossless parser are written as their digits, as in the records themselves.
import type { JsonValue } from '../format/index.ts';

const nativeJson = JSON as unknown as { rawJSON(text: string): unknown };

export function prettyJson(value: JsonValue, indent = ''): string {
  const text = JSON.stringify(
    value,
    (_key, item: unknown) => (typeof item === 'bigint' ? nativeJson.rawJSON(item.toString()) : item),
    2,
  );
  return indent === '' ? text : text.replaceAll('\n', `\n${indent}`);
}
