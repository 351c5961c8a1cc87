// Each outgoing event carries a `message_id`, mParticle's per-event de-duplication key.
//
// A random UUID would change every time a batch is re-sent (after a Kafka retry, or after a
// restart rebuilds unacknowledged windows from the spool), which defeats downstream de-dup.
// So the id is a name-based UUID (RFC 9562 version 5: SHA-1 over a namespace and a name):
// the name is the spool batch id and the event's index in the batch as received, so the same
// event always gets the same id, and different events (or batches) get different ids.
import { createHash } from 'node:crypto';

/** kafka-forwarder's own UUID namespace for message ids; never change it (ids would change). */
export const MESSAGE_ID_NAMESPACE = '45b74c09-83f2-4892-80d3-42b52d6b0768';

const namespaceBytes = Buffer.from(MESSAGE_ID_NAMESPACE.replaceAll('-', ''), 'hex');

/**
 * The stable `message_id` of the event at `eventIndex` (its position in the inbound batch's
 * `events`, before any filtering) of the spooled batch `batchId`.
 */
export function messageIdFor(batchId: bigint, eventIndex: number): string {
  const hash = createHash('sha1').update(namespaceBytes).update(`${batchId}/${eventIndex}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8] & 0x3f) | 0x80; // RFC variant
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
