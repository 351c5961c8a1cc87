// One outgoing batch → the Kafka record(s) that carry it: key = the MPID digits (null without
// one, never ''), value = the batch's compact JSON (64-bit IDs as exact digits).
//
// A record may not pass the output's max_message_bytes. A batch whose JSON is larger is split by
// events into several records that each fit, each with the whole batch context (the config
// documents this); an event that is too large even alone cannot be sent and is reported as
// oversized, for the caller to dead-letter.
import type { JsonObject, JsonValue } from '../../format/index.ts';
import { stringifyJson } from '../../format/index.ts';
import { recordKeyOf } from './record-key.ts';

export interface OutgoingRecord {
  /** MPID as decimal digits, or null (the sink then spreads such records over the partitions). */
  readonly key: string | null;
  readonly value: Buffer;
}

export interface OversizedEvent {
  /** Bytes of the smallest record that could carry the event. */
  readonly bytes: number;
  readonly limit: number;
}

export interface BuiltRecords {
  readonly records: OutgoingRecord[];
  /** Events that do not fit a record even alone (their batch goes to the dead letters). */
  readonly oversized: OversizedEvent[];
}

/** The records for one outgoing batch, each value at most maxRecordBytes long. */
export function buildRecords(batch: JsonObject, maxRecordBytes: number): BuiltRecords {
  const key = recordKeyOf(batch);
  const whole = stringifyJson(batch);
  const wholeBytes = Buffer.byteLength(whole, 'utf8');
  if (wholeBytes <= maxRecordBytes) {
    return { records: [{ key, value: Buffer.from(whole, 'utf8') }], oversized: [] };
  }
  const events = Array.isArray(batch.events) ? batch.events : [];
  if (events.length <= 1) return { records: [], oversized: [{ bytes: wholeBytes, limit: maxRecordBytes }] };
  return splitByEvents(batch, events, key, maxRecordBytes);
}

/**
 * Greedy split in event order. Compact JSON of `{...batch, events: [e1, …, en]}` is exactly the
 * text of the batch with `[]` for events plus each event's text plus the commas between them,
 * so sizes are computed once per event and every chunk is known to fit before it is written.
 */
function splitByEvents(batch: JsonObject, events: JsonValue[], key: string | null, limit: number): BuiltRecords {
  const baseBytes = Buffer.byteLength(stringifyJson({ ...batch, events: [] }), 'utf8');
  const records: OutgoingRecord[] = [];
  const oversized: OversizedEvent[] = [];
  let chunk: JsonValue[] = [];
  let chunkBytes = baseBytes;
  const flush = (): void => {
    if (chunk.length === 0) return;
    records.push({ key, value: Buffer.from(stringifyJson({ ...batch, events: chunk }), 'utf8') });
    chunk = [];
    chunkBytes = baseBytes;
  };
  for (const event of events) {
    const eventBytes = Buffer.byteLength(stringifyJson(event), 'utf8');
    if (baseBytes + eventBytes > limit) {
      oversized.push({ bytes: baseBytes + eventBytes, limit });
      continue;
    }
    const added = eventBytes + (chunk.length > 0 ? 1 : 0);
    if (chunkBytes + added > limit) flush();
    chunkBytes += eventBytes + (chunk.length > 0 ? 1 : 0);
    chunk.push(event);
  }
  flush();
  return { records, oversized };
}
