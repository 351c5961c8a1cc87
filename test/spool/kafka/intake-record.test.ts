// How a batch is written on the intake topic and read back (no Kafka).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeIntakeRecord, encodeIntakeRecord, intakeBatchId } from '../../../src/spool/kafka/intake-record.ts';

void describe('intake records', () => {
  void it('carry the routing key, the destinations, the dedup key and the receipt time', () => {
    const out = encodeIntakeRecord(
      { payload: Buffer.from('{}'), destinations: ['a', 'b,c'], dedupKey: 'web\u0000r1', routingKey: '42' },
      1_700_000_000_123,
    );
    assert.equal(out.key?.toString(), '42');
    const back = decodeIntakeRecord(out.headers, 5, 77n, 1);
    assert.deepEqual(back.destinations, ['a', 'b,c']);
    assert.equal(back.dedupKey, 'web\u0000r1');
    assert.equal(back.receivedAtMs, 1_700_000_000_123);
    assert.equal(back.batchId, intakeBatchId(5, 77n));
  });

  void it('keeps a replayed batch’s original id', () => {
    const out = encodeIntakeRecord({ payload: Buffer.from('{}'), destinations: ['a'] }, 5, 123456789n);
    assert.equal(out.key, undefined, 'no routing key: null record key');
    assert.equal(decodeIntakeRecord(out.headers, 0, 9n, 1).batchId, 123456789n);
  });

  void it('gives batch ids that differ across partitions and offsets and stay below 2^63', () => {
    const ids = new Set<bigint>();
    for (const partition of [0, 1, 65535])
      for (const offset of [0n, 1n, (1n << 47n) - 1n]) ids.add(intakeBatchId(partition, offset));
    assert.equal(ids.size, 9);
    for (const id of ids) assert.ok(id >= 0n && id < 1n << 63n);
  });

  void it('reads a record without our headers as bound to no destination, timed by its timestamp', () => {
    const back = decodeIntakeRecord(new Map(), 1, 2n, 1234);
    assert.deepEqual(back.destinations, []);
    assert.equal(back.receivedAtMs, 1234);
  });
});
