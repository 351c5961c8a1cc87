// An outgoing batch → the Kafka record(s) that carry it, each with its metadata beside the value
// (as Vector's KafkaRequestMetadata), so that nothing downstream ever parses a record value:
//   key      the MPID digits (null without one, never '')
//   value    the batch's compact JSON (64-bit IDs as exact digits)
//   events   each event's message_id, the spool batch (seq) it came from, and where its text sits
//            in the value
//   batches  the spool batches the record holds, for a record without events
// splitRecord() cuts a record in two by events with three slices of its value; it is the one
// place a record is split, for the pipeline (a batch over max_message_bytes) and for the service
// (a topic whose max.message.bytes is below ours) alike.
//
// A record may not pass the output's max_message_bytes. A batch whose JSON is larger is split by
// events into several records that each fit, each with the whole batch context (the config
// documents this); an event that is too large even alone cannot be sent and is reported as
// oversized, for the caller to dead-letter.
import type { JsonObject, JsonValue } from '../../format/index.ts';
import { isJsonObject, stringifyJson } from '../../format/index.ts';
import { recordKeyOf, type RecordKeyField } from './record-key.ts';

/** One event of a record. */
export interface RecordEvent {
  readonly messageId: string;
  /** The spool batch the event came from. */
  readonly seq: bigint;
  /** The event's JSON text is value[start, end). */
  readonly start: number;
  readonly end: number;
}

export interface OutgoingRecord {
  /** MPID as decimal digits, or null (the sink then spreads such records over the partitions). */
  readonly key: string | null;
  readonly value: Buffer;
  /** Kafka record headers (outputs[].headers), in order; none by default, as at mParticle. */
  readonly headers?: readonly (readonly [string, string])[];
  /** The topic when not the output's own (outputs[].topic_by_event_type, per-event records). */
  readonly topic?: string;
  /** In order. Empty for a batch sent without events (Send Batches without Events). */
  readonly events: readonly RecordEvent[];
  /** The spool batches whose events (or, without events, whose context) the record carries. */
  readonly batches: readonly bigint[];
}

/** Where the batch's events came from: one spool batch, or a window of several. */
export interface RecordOrigin {
  /** Every spool batch the outgoing batch was made from, oldest first. */
  readonly seqs: readonly bigint[];
  /** The spool batch of each event, by message_id; not needed when seqs holds one batch. */
  readonly eventSeqs?: ReadonlyMap<string, bigint>;
}

/** An event too large for a record even alone, or a batch without events whose context alone is. */
export interface OversizedEvent {
  /** Undefined: the batch itself (it has no events). */
  readonly messageId: string | undefined;
  /** The spool batches it came from. */
  readonly batches: readonly bigint[];
  /** Bytes of the smallest record that could carry it. */
  readonly bytes: number;
  readonly limit: number;
}

export interface BuiltRecords {
  readonly records: OutgoingRecord[];
  /** Events that do not fit a record even alone (their batch goes to the dead letters). */
  readonly oversized: OversizedEvent[];
}

export interface BuildOptions {
  /** Largest record value; a batch is split by events to fit. */
  readonly maxRecordBytes: number;
  /** One record per event (Send as Batch off), each with the whole batch context. */
  readonly perEvent?: boolean;
  /** What the record key is made of (outputs[].key); the MPID when omitted. */
  readonly keyField?: RecordKeyField;
  /** The record headers to set (outputs[].headers), and the input the batch came in on. */
  readonly headers?: { readonly fields: readonly HeaderField[]; readonly input: string };
  /** Per-event records of these event types go to these topics (outputs[].topic_by_event_type). */
  readonly topicByEventType?: Readonly<Record<string, string>>;
}

/** The record headers an output may set (outputs[].headers). */
export type HeaderField = 'batch_id' | 'message_id' | 'event_type' | 'input' | 'source_request_id' | 'content-type';

/** A batch's JSON text cut around its events: head + event texts joined by ',' + tail. */
interface Frame {
  readonly key: string | null;
  /** The headers every record of the batch carries. */
  readonly headers: readonly (readonly [string, string])[];
  readonly head: Buffer;
  readonly tail: Buffer;
  readonly events: readonly {
    readonly messageId: string;
    readonly eventType: string | undefined;
    readonly seq: bigint;
    readonly text: Buffer;
  }[];
  readonly batches: readonly bigint[];
}

const COMMA = Buffer.from(',');

/** The records for one outgoing batch, each value at most maxRecordBytes long. */
export function buildRecords(batch: JsonObject, origin: RecordOrigin, options: BuildOptions): BuiltRecords {
  const frame = frameOf(batch, origin, options.keyField ?? 'mpid', options.headers);
  const perEventHeaders = options.perEvent === true ? (options.headers?.fields ?? []) : [];
  const routes = options.perEvent === true ? options.topicByEventType : undefined;
  const recordOf = (from: number, to: number) => recordOfFrame(frame, from, to, perEventHeaders, routes);
  const limit = options.maxRecordBytes;
  const baseBytes = frame.head.length + frame.tail.length;
  if (frame.events.length === 0) {
    if (baseBytes <= limit) return { records: [recordOf(0, 0)], oversized: [] };
    return { records: [], oversized: [{ messageId: undefined, batches: frame.batches, bytes: baseBytes, limit }] };
  }
  const records: OutgoingRecord[] = [];
  const oversized: OversizedEvent[] = [];
  // Greedy, in event order: a chunk grows while head + its events + the commas between + tail fit.
  let first = -1;
  let chunkBytes = 0;
  const flush = (end: number): void => {
    if (first >= 0) records.push(recordOf(first, end));
    first = -1;
  };
  for (let index = 0; index < frame.events.length; index++) {
    const event = frame.events[index];
    const alone = baseBytes + event.text.length;
    if (alone > limit) {
      flush(index);
      oversized.push({ messageId: event.messageId, batches: [event.seq], bytes: alone, limit });
      continue;
    }
    if (first >= 0 && (options.perEvent === true || chunkBytes + 1 + event.text.length > limit)) flush(index);
    if (first < 0) {
      first = index;
      chunkBytes = alone;
    } else chunkBytes += 1 + event.text.length;
  }
  flush(frame.events.length);
  return { records, oversized };
}

/**
 * The record as two records of half its events each (same key, same batch context), in order;
 * undefined when it holds fewer than two events.
 */
export function splitRecord(record: OutgoingRecord): [OutgoingRecord, OutgoingRecord] | undefined {
  const { events, value } = record;
  if (events.length < 2) return undefined;
  const head = value.subarray(0, events[0].start);
  const tail = value.subarray(events[events.length - 1].end);
  const middle = Math.ceil(events.length / 2);
  const part = (from: number, to: number): OutgoingRecord => {
    const start = events[from].start;
    const shift = head.length - start;
    const partEvents = events
      .slice(from, to)
      .map((event) => ({ ...event, start: event.start + shift, end: event.end + shift }));
    return {
      key: record.key,
      ...(record.headers !== undefined && { headers: record.headers }),
      value: Buffer.concat([head, value.subarray(start, events[to - 1].end), tail]),
      events: partEvents,
      batches: batchesOf(partEvents),
    };
  };
  return [part(0, middle), part(middle, events.length)];
}

/**
 * Compact JSON of `{...batch, events: [e1, …, en]}` is exactly the batch's other members as
 * stringifyJson writes them, with `"events":[` + each event's text joined by ',' + `]` in the
 * events member's place. So each member and each event is written once, and any run of
 * consecutive events is one record: head + their texts + tail.
 */
function frameOf(
  batch: JsonObject,
  origin: RecordOrigin,
  keyField: RecordKeyField,
  headers: BuildOptions['headers'],
): Frame {
  const batchHeaders = headers === undefined ? [] : batchHeadersOf(batch, headers.fields, headers.input);
  const before: string[] = [];
  const after: string[] = [];
  let events: JsonValue[] | undefined;
  for (const name of Object.keys(batch)) {
    const value = batch[name];
    if (value === undefined) continue;
    if (name === 'events' && Array.isArray(value)) {
      events = value;
      continue;
    }
    (events === undefined ? before : after).push(`${JSON.stringify(name)}:${stringifyJson(value)}`);
  }
  if (events === undefined) {
    // A batch without an events array (never made by the pipeline) is one record as it is.
    return {
      key: recordKeyOf(batch, keyField),
      headers: batchHeaders,
      head: Buffer.from(stringifyJson(batch), 'utf8'),
      tail: Buffer.alloc(0),
      events: [],
      batches: origin.seqs,
    };
  }
  const headText = `{${before.map((member) => `${member},`).join('')}"events":[`;
  const tailText = `]${after.map((member) => `,${member}`).join('')}}`;
  const single = origin.seqs.length === 1 ? origin.seqs[0] : undefined;
  const framed = events.map((event) => {
    const messageId = isJsonObject(event) && typeof event.message_id === 'string' ? event.message_id : '';
    const seq = single ?? origin.eventSeqs?.get(messageId);
    if (seq === undefined) throw new Error(`an event of the window (message_id "${messageId}") has no spool batch`);
    const eventType = isJsonObject(event) && typeof event.event_type === 'string' ? event.event_type : undefined;
    return { messageId, eventType, seq, text: Buffer.from(stringifyJson(event), 'utf8') };
  });
  return {
    key: recordKeyOf(batch, keyField),
    headers: batchHeaders,
    head: Buffer.from(headText, 'utf8'),
    tail: Buffer.from(tailText, 'utf8'),
    events: framed,
    batches: origin.seqs,
  };
}

/** The headers of the whole batch, in the order the output lists them; a value the batch lacks is left out. */
function batchHeadersOf(
  batch: JsonObject,
  fields: readonly HeaderField[],
  input: string,
): (readonly [string, string])[] {
  const headers: (readonly [string, string])[] = [];
  for (const field of fields) {
    if (field === 'input') headers.push(['input', input]);
    else if (field === 'content-type') headers.push(['content-type', 'application/json']);
    else if (field === 'batch_id' || field === 'source_request_id') {
      const value = batch[field];
      if (typeof value === 'string' && value !== '') headers.push([field, value]);
      else if (typeof value === 'number' || typeof value === 'bigint') headers.push([field, String(value)]);
    }
  }
  return headers;
}

/**
 * The record of the frame's events [from, to); from === to gives the eventless record. A record of
 * one event (Send as Batch off) also carries that event's message_id and event_type when asked.
 */
function recordOfFrame(
  frame: Frame,
  from: number,
  to: number,
  perEventHeaders: readonly HeaderField[],
  routes: Readonly<Record<string, string>> | undefined,
): OutgoingRecord {
  const parts: Buffer[] = [frame.head];
  const events: RecordEvent[] = [];
  let offset = frame.head.length;
  for (let index = from; index < to; index++) {
    const { messageId, seq, text } = frame.events[index];
    if (index > from) {
      parts.push(COMMA);
      offset += 1;
    }
    parts.push(text);
    events.push({ messageId, seq, start: offset, end: offset + text.length });
    offset += text.length;
  }
  parts.push(frame.tail);
  let headers = frame.headers;
  if (to - from === 1 && perEventHeaders.length > 0) {
    const event = frame.events[from];
    const own = [...headers];
    headers = own;
    for (const field of perEventHeaders) {
      if (field === 'message_id' && event.messageId !== '') own.push(['message_id', event.messageId]);
      if (field === 'event_type' && event.eventType !== undefined) own.push(['event_type', event.eventType]);
    }
  }
  const eventType = to - from === 1 ? frame.events[from].eventType : undefined;
  const topic =
    routes !== undefined && eventType !== undefined && Object.hasOwn(routes, eventType) ? routes[eventType] : undefined;
  return {
    key: frame.key,
    ...(headers.length > 0 && { headers }),
    ...(topic !== undefined && { topic }),
    value: Buffer.concat(parts, offset + frame.tail.length),
    events,
    batches: from === to ? frame.batches : batchesOf(events),
  };
}

/** The distinct spool batches of the events, in order of first appearance. */
function batchesOf(events: readonly RecordEvent[]): bigint[] {
  if (events.length === 1) return [events[0].seq];
  return [...new Set(events.map((event) => event.seq))];
}
