// How an accepted batch is written on the intake topic, and read back: the batch's bytes as the
// value, the routing key (MPID, else mp_deviceid) as the key, and what the local spool keeps in its
// columns as headers. Pure: no I/O.
import type { AppendItem } from '../types.ts';

export const INTAKE_HEADERS = {
  /** JSON array of the connection names the batch is bound to, as the accepting instance saw them. */
  destinations: 'kf-destinations',
  /** Input name + source_request_id, for deduplication by the partition's owner. */
  dedupKey: 'kf-dedup-key',
  /** Milliseconds since the epoch at which the batch was accepted. */
  receivedAtMs: 'kf-received-at',
  /** Set on a replayed dead letter: the batch keeps the id it was first forwarded with. */
  batchId: 'kf-batch-id',
} as const;

/** Offsets stay below 2^47 (140 trillion records per partition) and partitions below 2^16. */
const OFFSET_BITS = 47n;
export const MAX_INTAKE_PARTITIONS = 1 << 16;

/**
 * The batch id of the record at (partition, offset) of the intake topic: unique within the topic
 * and the same each time the record is processed, by whichever instance owns the partition then.
 * Below 2^63, so a signed 64-bit integer.
 */
export function intakeBatchId(partition: number, offset: bigint): bigint {
  return (BigInt(partition) << OFFSET_BITS) | offset;
}

export interface IntakeRecordOut {
  readonly key: Buffer | undefined;
  readonly value: Buffer;
  readonly headers: Map<string, string>;
}

export function encodeIntakeRecord(item: AppendItem, receivedAtMs: number, batchId?: bigint): IntakeRecordOut {
  const headers = new Map<string, string>([
    [INTAKE_HEADERS.destinations, JSON.stringify(item.destinations)],
    [INTAKE_HEADERS.receivedAtMs, String(receivedAtMs)],
  ]);
  if (item.dedupKey !== undefined) headers.set(INTAKE_HEADERS.dedupKey, item.dedupKey);
  if (batchId !== undefined) headers.set(INTAKE_HEADERS.batchId, String(batchId));
  return {
    key: item.routingKey === undefined ? undefined : Buffer.from(item.routingKey, 'utf8'),
    value: item.payload,
    headers,
  };
}

export interface IntakeRecordIn {
  readonly destinations: readonly string[];
  readonly dedupKey: string | undefined;
  readonly receivedAtMs: number;
  readonly batchId: bigint;
}

/**
 * Reads the headers of an intake record. A record this version did not write (no destinations
 * header) is bound to no destination; a missing receipt time falls back to the record timestamp.
 */
export function decodeIntakeRecord(
  headers: ReadonlyMap<string, string>,
  partition: number,
  offset: bigint,
  timestampMs: number,
): IntakeRecordIn {
  let destinations: string[] = [];
  const listed = headers.get(INTAKE_HEADERS.destinations);
  if (listed !== undefined) {
    try {
      const parsed: unknown = JSON.parse(listed);
      if (Array.isArray(parsed)) destinations = parsed.filter((name): name is string => typeof name === 'string');
    } catch {
      destinations = [];
    }
  }
  const received = Number(headers.get(INTAKE_HEADERS.receivedAtMs));
  const replayedId = headers.get(INTAKE_HEADERS.batchId);
  return {
    destinations,
    dedupKey: headers.get(INTAKE_HEADERS.dedupKey),
    receivedAtMs: Number.isFinite(received) && received > 0 ? received : timestampMs,
    batchId:
      replayedId !== undefined && /^\d+$/.test(replayedId) ? BigInt(replayedId) : intakeBatchId(partition, offset),
  };
}
