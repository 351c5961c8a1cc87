// The Kafka record key: by default the batch's MPID, as at mParticle, so that each user's events
// land on one partition, in order. outputs[].key may choose the customer_id user identity or the
// mp_deviceid instead; ordering then holds per that key. A batch without the chosen value gets no
// key (null), and the sink spreads such records over the partitions; an empty-string key would
// instead send every one of them to the same partition.
import { batchMpid, int64ToString, isJsonObject } from '../../format/index.ts';
import type { JsonObject, JsonValue } from '../../format/index.ts';

/** What the record key is made of (outputs[].key). */
export type RecordKeyField = 'mpid' | 'customer_id' | 'mp_deviceid';

/**
 * The record key of an (inbound or outgoing) batch: its MPID as exact decimal digits (a
 * bigint outside the safe range keeps every digit; negative MPIDs keep their sign), or null
 * when the batch has no MPID (absent, null, or not a 64-bit integer).
 */
export function recordKeyOf(batch: JsonObject, field: RecordKeyField = 'mpid'): string | null {
  if (field === 'customer_id') return nonEmpty(customerIdOf(batch.user_identities));
  if (field === 'mp_deviceid') return nonEmpty(batch.mp_deviceid);
  const mpid = batchMpid(batch);
  return mpid === undefined ? null : int64ToString(mpid);
}

/** customer_id from user_identities as clients send it ({customer_id: …}) or as we forward it ([{identity_type, identity}]). */
function customerIdOf(identities: JsonValue | undefined): JsonValue | undefined {
  if (Array.isArray(identities)) {
    for (const identity of identities)
      if (isJsonObject(identity) && identity.identity_type === 'customer_id') return identity.identity;
    return undefined;
  }
  return isJsonObject(identities) ? (identities.customer_id ?? identities.customerid) : undefined;
}

function nonEmpty(value: JsonValue | undefined): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return null;
}
