// Lossless JSON for mParticle batches: 64-bit integers come out exactly as they came in.
//
// Built on V8's own JSON.parse/JSON.stringify (Node 24): the reviver's third argument,
// `context.source`, gives the exact text of each number, and JSON.rawJSON lets stringify
// write a bigint as bare digits. No JSON grammar is implemented here. `npm run bench:json`
// compares this with plain JSON and with the npm libraries that do the same job.
//
// Model (src/format/json-value.ts): an integer literal within ±(2^53 - 1) stays `number`; any
// other integer literal becomes `bigint`; fractions and exponents stay `number`.
import { ForwarderError } from '../errors.ts';
import type { JsonValue } from './json-value.ts';

// Typings for the ES2025 JSON features that the project's TypeScript lib (es2024) lacks.
interface ReviverContext {
  readonly source?: string;
}
type SourceReviver = (this: unknown, key: string, value: unknown, context: ReviverContext) => unknown;
interface JsonWithRaw {
  parse(text: string, reviver: SourceReviver): unknown;
  rawJSON(text: string): unknown;
}
const nativeJson = JSON as unknown as JsonWithRaw;

// Every integer literal of at most 15 digits is below 2^53, so a document without a run of 16
// digits parses exactly with plain JSON.parse, and skips the slower reviver path.
const SIXTEEN_DIGITS = /\d{16}/;
const INTEGER_LITERAL = /^-?\d+$/;

// A double can hold some integers past 2^53 exactly (e.g. -2^63), but JS writes them back in
// shortest form ("-9223372036854776000"), not as the digits read. So every integer literal
// outside the safe range becomes a bigint: `typeof v === 'number'` then always means the number
// round-trips, and an integer number is always a safe integer.
function reviveInt64(_key: string, value: unknown, context: ReviverContext): unknown {
  if (typeof value !== 'number' || Number.isSafeInteger(value)) return value;
  const source = context.source;
  return source !== undefined && INTEGER_LITERAL.test(source) ? BigInt(source) : value;
}

/** Parses JSON text, keeping every integer exact. Throws ForwarderError BAD_JSON on malformed input. */
export function parseJson(text: string | Buffer): JsonValue {
  const source = typeof text === 'string' ? text : text.toString('utf8');
  try {
    return (SIXTEEN_DIGITS.test(source) ? nativeJson.parse(source, reviveInt64) : JSON.parse(source)) as JsonValue;
  } catch (error) {
    throw new ForwarderError('BAD_JSON', { reason: describeSyntaxError(error) }, { cause: error });
  }
}

// V8's messages already name the position ("... in JSON at position 12 (line 1 column 13)") or
// quote the offending text; keep them, minus a trailing period that the template adds itself.
function describeSyntaxError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\.$/, '');
}

function replaceInt64(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? nativeJson.rawJSON(value.toString()) : value;
}

/** Writes compact JSON (no spaces); bigints are written as their digits. */
export function stringifyJson(value: JsonValue): string {
  return JSON.stringify(value, replaceInt64);
}

/** stringifyJson as UTF-8 bytes, for the spool and for Kafka record values. */
export function stringifyJsonToBuffer(value: JsonValue): Buffer {
  return Buffer.from(stringifyJson(value), 'utf8');
}
