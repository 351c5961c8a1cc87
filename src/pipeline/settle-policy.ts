// What becomes of the spool batches behind records once Kafka has answered for every record:
// which are acknowledged, which go to the dead letters, why, and holding what. Pure: the runner
// writes what this decides.
//
//   every record acked                      every batch of the unit is acknowledged
//   some events refused (by Kafka, or too   only the batches those events came from go to the dead
//   large even alone)                       letters, each holding just its refused events when
//                                           others of it were delivered; the rest are acknowledged
//   a refused record without events         its batches go to the dead letters whole
//   any record aborted (the sink stopped)   nothing: the whole unit stays in the spool, and is
//                                           sent again at the next start
// Which events a record holds, and from which batch, comes with the record (request-builder's
// RecordEvent); nothing here parses a record value.
import { deadLetterReason } from '../errors.ts';
import { isJsonObject, parseJson, stringifyJson } from '../format/index.ts';
import type { OutgoingRecord, OversizedEvent, RecordOutcome } from '../sinks/kafka/index.ts';
import type { SpoolRecord } from '../spool/index.ts';
import { messageIdFor } from './message-id.ts';

/** Batches whose records go out together and are settled together. */
export interface Unit {
  /** The spool batches, as read (their payloads are what a narrowed dead letter is cut from). */
  readonly batches: readonly SpoolRecord[];
  readonly records: readonly OutgoingRecord[];
  /** Events that cannot be sent at all: too large even alone. */
  readonly oversized: readonly OversizedEvent[];
}

export interface DeadLetterWrite {
  readonly seq: bigint;
  readonly reason: string;
  /** Just the refused events, when others of the batch were delivered; undefined: the batch as stored. */
  readonly payload?: Buffer;
}

export interface Settlement {
  readonly acked: readonly SpoolRecord[];
  readonly deadLetters: readonly DeadLetterWrite[];
}

/** A batch to dead-letter: why, and which of its events (all of them when undefined). */
interface Refusal {
  readonly reasons: Set<string>;
  eventIds: Set<string> | undefined;
}

/** The unit's settlement, or undefined when it stays in the spool (a record was aborted). */
export function settlementOf(unit: Unit, outcomes: readonly RecordOutcome[]): Settlement | undefined {
  if (outcomes.some((outcome) => outcome.status === 'aborted')) return undefined;
  const refused = new Map<bigint, Refusal>();
  const refuse = (seq: bigint, reason: string, messageId: string | undefined): void => {
    let refusal = refused.get(seq);
    if (refusal === undefined) refused.set(seq, (refusal = { reasons: new Set(), eventIds: new Set() }));
    refusal.reasons.add(reason);
    if (messageId === undefined) refusal.eventIds = undefined;
    else refusal.eventIds?.add(messageId);
  };
  if (unit.oversized.length > 0) {
    const reason = oversizedReason(unit.oversized);
    for (const event of unit.oversized) for (const seq of event.batches) refuse(seq, reason, event.messageId);
  }
  outcomes.forEach((outcome, index) => {
    if (outcome.status !== 'rejected') return;
    const reason = `${outcome.code}: ${outcome.reason}`;
    const record = unit.records[index];
    const events = outcome.refusedEvents ?? record.events;
    if (events.length === 0) for (const seq of record.batches) refuse(seq, reason, undefined);
    for (const event of events) refuse(event.seq, reason, event.messageId);
  });
  const acked = unit.batches.filter((batch) => !refused.has(batch.seq));
  const deadLetters = unit.batches.flatMap((batch) => {
    const refusal = refused.get(batch.seq);
    return refusal === undefined ? [] : [deadLetterOf(batch, refusal)];
  });
  return { acked, deadLetters };
}

/** The batch's dead letter; when only some of its events were refused, it holds just those. */
function deadLetterOf(batch: SpoolRecord, refusal: Refusal): DeadLetterWrite {
  const reason = [...refusal.reasons].join('; ');
  const ids = refusal.eventIds;
  if (ids === undefined) return { seq: batch.seq, reason };
  const inbound = parsed(batch.payload);
  if (!isJsonObject(inbound) || !Array.isArray(inbound.events)) return { seq: batch.seq, reason };
  const kept = inbound.events.filter((_, index) => ids.has(messageIdFor(batch.batchId, index)));
  if (kept.length === 0 || kept.length === inbound.events.length) return { seq: batch.seq, reason };
  return {
    seq: batch.seq,
    reason: `${reason} (${inbound.events.length - kept.length} of the batch's ${inbound.events.length} events were delivered; the dead letter holds the ${kept.length} refused)`,
    payload: Buffer.from(stringifyJson({ ...inbound, events: kept }), 'utf8'),
  };
}

/** The stored batch parsed; it was parsed before its records were built, but a dead letter must be written either way. */
function parsed(payload: Buffer): unknown {
  try {
    return parseJson(payload);
  } catch {
    return undefined;
  }
}

function oversizedReason(oversized: readonly OversizedEvent[]): string {
  return deadLetterReason('RECORD_TOO_LARGE', {
    count: oversized.length,
    largest: Math.max(...oversized.map((o) => o.bytes)),
    limit: oversized[0].limit,
  });
}
