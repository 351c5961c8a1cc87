// Batch ids are 64-bit: milliseconds since the epoch in the high bits, a sequence in the low 20 bits.
// They stay unique across restarts because the last id issued is stored with the records in the same
// transaction, and the next id is always above it even if the wall clock went backwards. 43 bits of
// milliseconds keep the id below 2^63 (a signed 64-bit integer) until the year 2248.

export const BATCH_ID_SEQUENCE_BITS = 20n;

export function nextBatchId(lastIssued: bigint, nowMs: number): bigint {
  const timeBased = BigInt(Math.max(0, Math.floor(nowMs))) << BATCH_ID_SEQUENCE_BITS;
  return timeBased > lastIssued ? timeBased : lastIssued + 1n;
}

/** The millisecond timestamp encoded in a batch id (approximate when more than 2^20 ids were issued in a ms). */
export function batchIdTimeMs(batchId: bigint): number {
  return Number(batchId >> BATCH_ID_SEQUENCE_BITS);
}
