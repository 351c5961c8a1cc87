// Validates and normalises one inbound Events API batch (already parsed by the lossless parser).
//
// The envelope is checked by one ajv validator; each event is dispatched on its `event_type` and
// its `data` checked by that type's validator (batch-schema.ts says why not a oneOf). The answer
// is one precise message per failing part (`events[3].event_type: "foo" is not a supported ...`),
// never a dump of ajv branch errors. Everything is compiled once, at module load.
import { isIPv4, isIPv6 } from 'node:net';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import {
  INT64_MAX,
  INT64_MIN,
  SUPPORTED_EVENT_TYPES,
  UNSUPPORTED_EVENT_TYPES,
  int64Value,
  isKnownEventType,
} from '../../format/index.ts';
import type { EventType } from '../../format/index.ts';
import { isJsonObject, isRawJsonNumber } from '../../format/index.ts';
import type { JsonObject, JsonValue } from '../../format/index.ts';
import { batchEnvelopeSchema, definitions, eventDataSchemas } from './batch-schema.ts';

export interface BatchValidationError {
  /** Where, in the style `events[3].data.event_name` (prefixed with `pathPrefix` if given). */
  readonly path: string;
  /** What was wrong, without the path. */
  readonly problem: string;
  /** `path: problem`, ready for an API answer. */
  readonly message: string;
}

export type BatchValidationResult =
  | { readonly ok: true; readonly batch: JsonObject }
  | { readonly ok: false; readonly errors: readonly BatchValidationError[] };

export interface ValidateBatchOptions {
  /** Prefix for every path, e.g. `batches[7]` for the eighth batch of a bulk request. */
  readonly pathPrefix?: string;
  /** At most this many errors are reported (one per failing event at most). Default 10. */
  readonly maxErrors?: number;
  /**
   * Also reject batches beyond mParticle's documented per-event limits (event name ≤ 256 chars,
   * ≤ 100 attributes per event and per user, attribute names ≤ 256 and values ≤ 4096 chars).
   * Off by default: mParticle says exceeding them "may" fail a request, not that it does.
   */
  readonly enforceLimits?: boolean;
}

// --- ajv, compiled once -------------------------------------------------------------------

function isJsonScalar(data: unknown): boolean {
  const type = typeof data;
  return (
    data === null ||
    type === 'string' ||
    type === 'number' ||
    type === 'boolean' ||
    type === 'bigint' ||
    isRawJsonNumber(data)
  );
}

const ajv = new Ajv({ allErrors: false, allowUnionTypes: true, verbose: true, strict: true });
ajv.addKeyword({
  keyword: 'int64',
  schemaType: 'boolean',
  errors: false,
  validate: (_: boolean, data: unknown) => data === null || int64Value(data) !== undefined,
});
ajv.addKeyword({
  keyword: 'jsonScalar',
  schemaType: 'boolean',
  errors: false,
  validate: (_: boolean, data: unknown) => isJsonScalar(data),
});
ajv.addKeyword({
  keyword: 'jsonNumber',
  schemaType: 'boolean',
  errors: false,
  validate: (_: boolean, data: unknown) =>
    data === null || typeof data === 'number' || typeof data === 'bigint' || isRawJsonNumber(data),
});
// The standard formats the published schema names, checked as Node checks addresses.
ajv.addFormat('ipv4', { type: 'string', validate: (address: string) => isIPv4(address) });
ajv.addFormat('ipv6', { type: 'string', validate: (address: string) => isIPv6(address) });

const validateEnvelope = ajv.compile(batchEnvelopeSchema);
// All event data schemas live in one root schema beside the shared definitions, so ajv compiles
// each shared definition once for all 17 validators (compiling 17 roots that each carried the
// definitions cost about 25 MB of heap more).
const EVENTS_SCHEMA_ID = 'https://kafka-forwarder.invalid/schema/eventsapi.event-data.json';
ajv.addSchema({
  $id: EVENTS_SCHEMA_ID,
  definitions: {
    ...definitions,
    ...Object.fromEntries(Object.entries(eventDataSchemas).map(([type, schema]) => [`event_data_${type}`, schema])),
  },
});
const dataValidators = new Map<string, ValidateFunction>(
  (Object.keys(eventDataSchemas) as EventType[]).map((type) => {
    const validate = ajv.getSchema(`${EVENTS_SCHEMA_ID}#/definitions/event_data_${type}`);
    if (validate === undefined) throw new TypeError(`no validator for event type ${type}`);
    return [type, validate];
  }),
);

// --- normalisation ------------------------------------------------------------------------

/**
 * Renames what real clients send to the names the schema uses: `batch_context` (the OpenAPI
 * file's name) → `context`, and `user_identities.customerid` (Node and Python SDKs) →
 * `customer_id`. When both names are present the canonical one wins and the alias is dropped.
 * Returns the input itself when nothing changes, else a shallow copy.
 */
export function normaliseBatch(batch: JsonObject): JsonObject {
  let result = batch;
  if ('batch_context' in batch) {
    const { batch_context: batchContext, ...rest } = batch;
    result = rest;
    if (result.context === undefined || result.context === null) result.context = batchContext;
  }
  const identities = result.user_identities;
  if (isJsonObject(identities) && 'customerid' in identities) {
    const { customerid, ...otherIdentities } = identities;
    if (otherIdentities.customer_id === undefined || otherIdentities.customer_id === null) {
      otherIdentities.customer_id = customerid;
    }
    result = { ...result, user_identities: otherIdentities };
  }
  return result;
}

// --- errors -------------------------------------------------------------------------------

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function appendKey(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function pointerToPath(base: string, pointer: string): string {
  if (pointer === '') return base;
  let path = base;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = appendKey(path, /^\d+$/.test(key) ? Number(key) : key);
  }
  return path;
}

const MAX_SHOWN_STRING = 60;

/** The value as a short, readable token for a message. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (isRawJsonNumber(value)) return value.rawJSON;
  if (typeof value === 'string') {
    const chars = [...value];
    return chars.length > MAX_SHOWN_STRING
      ? `${JSON.stringify(chars.slice(0, MAX_SHOWN_STRING).join(''))}… (${chars.length} characters)`
      : JSON.stringify(value);
  }
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function typeList(types: unknown): string {
  const names = (Array.isArray(types) ? types : [types]).map((type) => TYPE_NAMES[String(type)] ?? String(type));
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

function quotedList(values: readonly unknown[]): string {
  return values.map((value) => JSON.stringify(value)).join(', ');
}

const INT64_RANGE = `a signed 64-bit integer (${INT64_MIN} to ${INT64_MAX}) or null`;

/** One ajv error as path + problem. */
function explain(error: ErrorObject, base: string): { path: string; problem: string } {
  const path = pointerToPath(base, error.instancePath);
  const value: unknown = error.data;
  const got = describe(value);
  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      const where = appendKey(path, missing);
      return where === 'environment' || where.endsWith('.environment')
        ? { path: where, problem: 'is required; expected "production" or "development"' }
        : { path: where, problem: 'is required' };
    }
    case 'type':
      return { path, problem: `${got} is not ${typeList((error.params as { type: unknown }).type)}` };
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      return { path, problem: `${got} is not allowed; expected one of ${quotedList(allowed)}` };
    }
    case 'int64':
      return { path, problem: `${got} is not ${INT64_RANGE}` };
    case 'jsonNumber':
      return { path, problem: `${got} is not a number or null` };
    case 'jsonScalar':
      return { path, problem: `${got} is not a string, number, boolean or null` };
    case 'pattern':
      return { path, problem: `${got} is not a UUID (8-4-4-4-12 hexadecimal digits)` };
    case 'format':
      return { path, problem: `${got} is not an IPv4 or IPv6 address` };
    case 'anyOf':
      // Two anyOfs exist: the address (null, empty, IPv4 or IPv6) and StringOrArray.
      if ((error.schema as { format?: string }[]).some((branch) => branch.format === 'ipv4'))
        return { path, problem: `${got} is not an IPv4 or IPv6 address, an empty string or null` };
      return { path, problem: `${got} is not a string, number, boolean, null or an array of them` };
    default:
      return { path, problem: `${got} ${error.message ?? 'is not valid'}` };
  }
}

/** ajv reports an anyOf's failing branches before the anyOf itself; the anyOf says it best. */
function firstError(
  errors: readonly ErrorObject[] | null | undefined,
  base: string,
): { path: string; problem: string } {
  const list = errors ?? [];
  const chosen = list.find((error) => error.keyword === 'anyOf') ?? list[0];
  return chosen ? explain(chosen, base) : { path: base, problem: 'is not valid' };
}

function makeError(path: string, problem: string): BatchValidationError {
  return { path, problem, message: path === '' ? problem : `${path}: ${problem}` };
}

// --- validation ---------------------------------------------------------------------------

const KNOWN_TYPES_TEXT = `${SUPPORTED_EVENT_TYPES.join(', ')} (or ${UNSUPPORTED_EVENT_TYPES.join(', ')}, which are accepted but not forwarded)`;

/** The first problem with one event, or undefined when it is valid. */
function checkEvent(event: JsonValue, path: string): { path: string; problem: string } | undefined {
  if (!isJsonObject(event))
    return { path, problem: `${describe(event)} is not an event object ({"event_type", "data"})` };
  const type = event.event_type;
  if (type === undefined || type === null || type === '') {
    return { path: appendKey(path, 'event_type'), problem: `is required; expected one of ${KNOWN_TYPES_TEXT}` };
  }
  if (!isKnownEventType(type)) {
    return {
      path: appendKey(path, 'event_type'),
      problem: `${describe(type)} is not a supported event_type; expected one of ${KNOWN_TYPES_TEXT}`,
    };
  }
  const data = event.data;
  const dataPath = appendKey(path, 'data');
  if (data === undefined) return { path: dataPath, problem: 'is required (an object)' };
  if (!isJsonObject(data)) return { path: dataPath, problem: `${describe(data)} is not an object` };
  const validateData = dataValidators.get(type);
  if (validateData && !validateData(data)) return firstError(validateData.errors, dataPath);
  return undefined;
}

/** Validates one batch and returns it normalised, or the errors that make it unacceptable. */
export function validateBatch(value: JsonValue, options: ValidateBatchOptions = {}): BatchValidationResult {
  const prefix = options.pathPrefix ?? '';
  const maxErrors = options.maxErrors ?? 10;
  if (!isJsonObject(value)) {
    return { ok: false, errors: [makeError(prefix, `${describe(value)} is not a batch; expected a JSON object`)] };
  }
  const batch = normaliseBatch(value);
  const errors: BatchValidationError[] = [];
  if (!validateEnvelope(batch)) {
    const { path, problem } = firstError(validateEnvelope.errors, prefix);
    errors.push(makeError(path, problem));
  }
  const events = batch.events;
  if (Array.isArray(events)) {
    const eventsPath = appendKey(prefix, 'events');
    for (let i = 0; i < events.length && errors.length < maxErrors; i++) {
      const failure = checkEvent(events[i], `${eventsPath}[${i}]`);
      if (failure) errors.push(makeError(failure.path, failure.problem));
    }
  }
  if (options.enforceLimits && errors.length === 0) {
    for (const failure of checkLimits(batch, prefix)) {
      if (errors.length >= maxErrors) break;
      errors.push(makeError(failure.path, failure.problem));
    }
  }
  return errors.length === 0 ? { ok: true, batch } : { ok: false, errors };
}

// --- mParticle's per-event limits (opt-in) --------------------------------------------------

export const EVENT_LIMITS = {
  eventNameChars: 256,
  attributesPerEvent: 100,
  attributeNameChars: 256,
  attributeValueChars: 4096,
  userAttributesPerBatch: 100,
} as const;

function charCount(text: string): number {
  // Characters as people count them (code points), not UTF-16 units.
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function* checkAttributes(attributes: JsonValue | undefined, path: string, kind: string, maxCount: number) {
  if (!isJsonObject(attributes)) return;
  const names = Object.keys(attributes);
  if (names.length > maxCount) yield { path, problem: `has ${names.length} ${kind}; at most ${maxCount} are allowed` };
  for (const name of names) {
    if (charCount(name) > EVENT_LIMITS.attributeNameChars) {
      yield {
        path: appendKey(path, name),
        problem: `the name is longer than ${EVENT_LIMITS.attributeNameChars} characters`,
      };
    }
    const value = attributes[name];
    const values = Array.isArray(value) ? value : [value];
    if (values.some((item) => typeof item === 'string' && charCount(item) > EVENT_LIMITS.attributeValueChars)) {
      yield {
        path: appendKey(path, name),
        problem: `the value is longer than ${EVENT_LIMITS.attributeValueChars} characters`,
      };
    }
  }
}

function* checkLimits(batch: JsonObject, prefix: string): Generator<{ path: string; problem: string }> {
  yield* checkAttributes(
    batch.user_attributes,
    appendKey(prefix, 'user_attributes'),
    'user attributes',
    EVENT_LIMITS.userAttributesPerBatch,
  );
  const events = Array.isArray(batch.events) ? batch.events : [];
  for (let i = 0; i < events.length; i++) {
    const data = (events[i] as JsonObject).data as JsonObject;
    const dataPath = `${appendKey(prefix, 'events')}[${i}].data`;
    const name = data.event_name;
    if (typeof name === 'string' && charCount(name) > EVENT_LIMITS.eventNameChars) {
      yield {
        path: `${dataPath}.event_name`,
        problem: `is ${charCount(name)} characters; at most ${EVENT_LIMITS.eventNameChars} are allowed`,
      };
    }
    yield* checkAttributes(
      data.custom_attributes,
      `${dataPath}.custom_attributes`,
      'attributes',
      EVENT_LIMITS.attributesPerEvent,
    );
  }
}
