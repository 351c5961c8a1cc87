// The Kafka record key: the batch's MPID, so that each user's events land on one partition,
// in order. A batch without an MPID gets no key (null), and the producer picks a partition;
// an empty-string key would instead send every anonymous batch to the same partition.
import { batchMpid, int64ToString } from '../../format/index.ts';
import type { JsonObject } from '../../format/index.ts';

/**
 * The record key of an (inbound or outgoing) batch: its MPID as exact decimal digits (a
 * bigint outside the safe range keeps every digit; negative MPIDs keep their sign), or null
 * when the batch has no MPID (absent, null, or not a 64-bit integer).
 */
export function recordKeyOf(batch: JsonObject): string | null {
  const mpid = batchMpid(batch);
  return mpid === undefined ? null : int64ToString(mpid);
}
