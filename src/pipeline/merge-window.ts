// Merges the outgoing batches of one closed window into the record(s) to send.
//
// Batch-level fields come from the newest batch (the last one); a field that the newest batch
// lacks is taken from the newest older batch that has it, so a window never forwards less
// than its batches carried. Events are concatenated in arrival order. The merged batch_id is
// the newest batch's, which is stable across restarts because the same seqs form the same
// window (see windows.ts); each event keeps the message_id it got from its own batch.
import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from '../format/index.ts';
import { isJsonObject } from '../format/index.ts';

/**
 * Send as Batch: the window's outgoing batches (oldest first) as one outgoing batch; null when
 * there are none (every batch of the window was unreadable in the spool, say).
 */
export function mergeWindow(batches: readonly JsonObject[]): JsonObject | null {
  if (batches.length === 0) return null;
  const newest = batches[batches.length - 1];
  if (batches.length === 1) return newest;
  const merged: JsonObject = { ...newest };
  for (let index = batches.length - 2; index >= 0; index--) {
    for (const [key, value] of Object.entries(batches[index])) {
      if (!(key in merged)) merged[key] = value;
    }
  }
  const events: JsonValue[] = [];
  for (const batch of batches) {
    if (Array.isArray(batch.events)) for (const event of batch.events) events.push(event);
  }
  merged.events = events;
  return merged;
}

/**
 * Wait for Complete Batch: the window's outgoing batches (oldest first) as one outgoing batch
 * per session, in the order the sessions first appear. An event's session is its
 * `data.session_uuid`, else `data.session_id`; an event with neither belongs to the session
 * of the event before it (or, at the start, to the first session that follows). Each session
 * batch gets the batch_id of the newest batch that contributed events to it, unless that batch
 * also was the newest for another session (one batch holding session A's end and session B's
 * start): batch_ids must stay unique, so each of those sessions gets `sessionBatchId` instead.
 * A window without events gives one eventless batch; no batches give none.
 */
export function mergeSessionWindow(batches: readonly JsonObject[]): JsonObject[] {
  const merged = mergeWindow(batches);
  if (merged === null) return [];
  interface SessionGroup {
    key: string;
    events: JsonValue[];
    newestBatch: number;
  }
  const groups = new Map<string, SessionGroup>();
  let current: SessionGroup | undefined;
  const leading: JsonValue[] = [];
  let leadingNewestBatch = -1;
  batches.forEach((batch, batchIndex) => {
    if (!Array.isArray(batch.events)) return;
    for (const event of batch.events) {
      const session = sessionOf(event);
      if (session !== undefined) {
        current = groups.get(session);
        if (current === undefined) {
          current = { key: session, events: [], newestBatch: batchIndex };
          groups.set(session, current);
        }
      }
      if (current === undefined) {
        leading.push(event);
        leadingNewestBatch = batchIndex;
        continue;
      }
      current.events.push(event);
      current.newestBatch = batchIndex;
    }
  });
  if (leading.length > 0) {
    const first = groups.values().next().value;
    if (first === undefined) groups.set('', { key: '', events: leading, newestBatch: leadingNewestBatch });
    else {
      first.events.unshift(...leading);
      first.newestBatch = Math.max(first.newestBatch, leadingNewestBatch);
    }
  }
  if (groups.size <= 1) return [merged];
  const sessionsPerBatch = new Map<number, number>();
  for (const group of groups.values())
    sessionsPerBatch.set(group.newestBatch, (sessionsPerBatch.get(group.newestBatch) ?? 0) + 1);
  return [...groups.values()].map((group) => {
    const batchId = batches[group.newestBatch].batch_id ?? merged.batch_id;
    const shared = (sessionsPerBatch.get(group.newestBatch) ?? 0) > 1;
    return {
      ...merged,
      batch_id: shared && batchId !== undefined ? sessionBatchId(batchId, group.key) : batchId,
      events: group.events,
    };
  });
}

const INT63_MASK = (1n << 63n) - 1n;

/**
 * The batch_id of one session's batch when its newest batch also ends or starts another session:
 * SHA-256 of (that batch's id, the session key), 63 bits of it, made negative: -1 .. -2^63. It is
 * stable (the same window gives the same ids after a restart), fits a signed 64-bit integer, and
 * never equals a batch_id the spool issued, since those are all positive.
 */
export function sessionBatchId(batchId: JsonValue, sessionKey: string): number | bigint {
  const idText = typeof batchId === 'bigint' ? batchId.toString() : JSON.stringify(batchId);
  const digest = createHash('sha256').update(`${idText}\n${sessionKey}`).digest();
  const id = -(digest.readBigUInt64BE(0) & INT63_MASK) - 1n;
  // The JSON model's rule: an integer a number holds exactly is a number.
  return id >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(id) : id;
}

function sessionOf(event: JsonValue): string | undefined {
  if (!isJsonObject(event) || !isJsonObject(event.data)) return undefined;
  const { session_uuid: uuid, session_id: id } = event.data;
  if (typeof uuid === 'string' && uuid !== '') return `uuid:${uuid}`;
  if (typeof id === 'number' || typeof id === 'bigint') return `id:${id}`;
  return undefined;
}
