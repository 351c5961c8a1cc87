// Lossless JSON for mParticle batches: every number comes out exactly as it came in, 64-bit
// integers above all.
//
// Built on V8's own JSON.parse/JSON.stringify (Node 24): long integer literals are marked before
// parsing (see parseMarked) or, as a fallback, read through the reviver's `context.source`; and
// JSON.rawJSON lets stringify write a bigint as bare digits. No JSON grammar is implemented here. `npm run bench:json`
// compares this with plain JSON and with the npm libraries that do the same job.
//
// Model (src/format/json-value.ts): an integer literal within ±(2^53 - 1) stays `number`; any
// other integer literal becomes `bigint`; a fraction or exponent stays `number` when the double
// writes back the same text, and is kept as its text (RawJsonNumber) when it would not.
import { isUtf8 } from 'node:buffer';
import { ForwarderError } from '../errors.ts';
import { isJsonObject, rawJsonNumber } from './json-value.ts';
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

/** True when JS would write `value` back as `text`: then a plain number keeps it exact. */
function roundTrips(value: number, text: string): boolean {
  return String(value) === text;
}
const nativeJson = JSON as unknown as JsonWithRaw;

// Every integer literal of at most 15 digits is below 2^53 and writes back as read (but "-0"), so
// a document without a run of 16 digits, a fraction, an exponent or a minus zero parses exactly
// with plain JSON.parse.
const MAYBE_INEXACT = /\d{16}|\d[.eE]|-0/;
const INTEGER_LITERAL = /^-?\d+$/;

// A double can hold some integers past 2^53 exactly (e.g. -2^63), but JS writes them back in
// shortest form ("-9223372036854776000"), not as the digits read. So every integer literal
// outside the safe range becomes a bigint: `typeof v === 'number'` then always means the number
// round-trips, and an integer number is always a safe integer.
function reviveExact(_key: string, value: unknown, context: ReviverContext): unknown {
  const source = context.source;
  if (typeof value !== 'number' || source === undefined || roundTrips(value, source)) return value;
  if (INTEGER_LITERAL.test(source) && source !== '-0') return BigInt(source);
  return rawJsonNumber(source);
}

/** Parses JSON text, keeping every integer exact. Throws ForwarderError BAD_JSON on malformed input. */
export function parseJson(text: string | Buffer): JsonValue {
  const source = typeof text === 'string' ? text : decodeUtf8(text);
  if (nestingExceeds(source, MAX_NESTING_DEPTH)) {
    throw new ForwarderError('BAD_JSON', { reason: `arrays and objects nest deeper than ${MAX_NESTING_DEPTH} levels` });
  }
  try {
    if (!MAYBE_INEXACT.test(source)) return JSON.parse(source) as JsonValue;
    // The text already holds a "\u0000" escape, so a marker could collide with real data: take the
    // slower reviver path, which needs no marker.
    if (source.includes(MARKER_ESCAPE)) return nativeJson.parse(source, reviveExact) as JsonValue;
    return parseMarked(source);
  } catch (error) {
    if (error instanceof ForwarderError) throw error;
    throw new ForwarderError('BAD_JSON', { reason: describeSyntaxError(error) }, { cause: error });
  }
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * JSON bytes are UTF-8 (RFC 8259). Buffer's own decoding would turn any invalid sequence into
 * U+FFFD and so change the data without a word; invalid bytes are refused instead, naming where.
 * A leading byte order mark is ignored, as RFC 8259 allows.
 */
function decodeUtf8(bytes: Buffer): string {
  const body = bytes.subarray(0, 3).equals(UTF8_BOM) ? bytes.subarray(3) : bytes;
  if (!isUtf8(body)) {
    const offset = firstInvalidUtf8(body) + (body === bytes ? 0 : 3);
    const byte = bytes[offset] ?? 0;
    throw new ForwarderError('BAD_JSON', {
      reason: `the body is not valid UTF-8: byte 0x${byte.toString(16).padStart(2, '0')} at offset ${offset} begins no well-formed UTF-8 character`,
    });
  }
  return body.toString('utf8');
}

/** Offset of the first byte that begins no well-formed UTF-8 sequence (Unicode table 3-7), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      else if (b === 0xed) high = 0x9f; // no UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      else if (b === 0xf4) high = 0x8f; // nothing above U+10FFFF
    } else return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? low : 0x80) || c > (k === 1 ? high : 0xbf)) return i;
    }
    i += length;
  }
  return -1;
}

/**
 * How deep arrays and objects may nest. mParticle batches nest about 8 levels; a limit keeps a
 * hostile document from reaching the recursion in this module, in JSON.stringify or in consumers.
 */
export const MAX_NESTING_DEPTH = 64;

/** True when brackets outside strings nest deeper than `limit`. One pass over char codes. */
function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: up to the next quote that is not escaped.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

// The fast path for documents with long integers. A reviver costs a JS call and a source slice
// per value, which made it 4-5x slower than plain JSON.parse. Instead, one regex pass finds each
// number token outside strings (it steps over whole string tokens, so digits inside strings are
// never touched); a token a double would not give back exactly is quoted behind a marker that no
// parsed string can start with ("\u0000#" for integers, "\u0000~" for other numbers); plain
// JSON.parse then reads the document, and a walk turns the marked strings back into exact values.
// Grammar is still V8's: the regex only rewrites number tokens V8 would accept, whole, and a
// marker found in a key means the input had a bare number where a key belongs, which is malformed.
const MARKER_ESCAPE = '\\u0000';
const MARKER_INTEGER = '\u0000#';
const MARKER_RAW = '\u0000~';
const STRING_OR_NUMBER = /"[^"\\]*(?:\\.[^"\\]*)*"|(?<![\w.+-])-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.+-])/g;

function parseMarked(source: string): JsonValue {
  let marked = false;
  const rewritten = source.replace(STRING_OR_NUMBER, (token) => {
    if (token.charCodeAt(0) === 0x22) return token;
    if (INTEGER_LITERAL.test(token)) {
      if (token.length < 16 && token !== '-0') return token;
      if (token !== '-0') {
        marked = true;
        return `"${MARKER_ESCAPE}#${token}"`;
      }
    } else if (roundTrips(Number(token), token)) {
      return token;
    }
    marked = true;
    return `"${MARKER_ESCAPE}~${token}"`;
  });
  const value = JSON.parse(rewritten) as JsonValue;
  return marked ? unmark(value) : value;
}

function isMarked(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.charCodeAt(0) === 0 &&
    (value.startsWith(MARKER_INTEGER) || value.startsWith(MARKER_RAW))
  );
}

function valueOf(marked: string): JsonValue {
  const text = marked.slice(MARKER_INTEGER.length);
  if (marked.startsWith(MARKER_RAW)) return rawJsonNumber(text);
  const value = BigInt(text);
  return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value;
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// Called only on what JSON.parse returned, so objects here are plain objects and arrays.
function unmark(value: JsonValue): JsonValue {
  if (isMarked(value)) return valueOf(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (typeof item === 'object' || isMarked(item)) value[i] = unmark(item);
    }
  } else if (isJsonObject(value)) {
    for (const key in value) {
      if (isMarked(key)) {
        throw new ForwarderError('BAD_JSON', {
          reason: `a number (${key.slice(MARKER_INTEGER.length)}) stands where a key belongs`,
        });
      }
      const item = value[key];
      if (typeof item === 'object' || isMarked(item)) value[key] = unmark(item);
    }
  }
  return value;
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
