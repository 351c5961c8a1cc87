import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_SLOT, SeqPool } from '../../src/pipeline/seq-pool.ts';

void test('chains keep their seqs in order, exact, through growth and slot reuse', () => {
  const pool = new SeqPool();
  const chains = new Map<number, { head: number; tail: number; seqs: bigint[] }>();
  let seq = 2n ** 62n;
  // Interleave 50 chains so their slots mix, past the initial capacity (growth).
  for (let round = 0; round < 100; round++) {
    for (let chain = 0; chain < 50; chain++) {
      const current = chains.get(chain) ?? { head: NO_SLOT, tail: NO_SLOT, seqs: [] };
      current.tail = pool.append(current.tail, seq);
      if (current.head === NO_SLOT) current.head = current.tail;
      current.seqs.push(seq++);
      chains.set(chain, current);
    }
  }
  assert.equal(pool.used, 5000);
  assert.ok(pool.capacity >= 5000);
  for (const chain of [3, 17, 42]) {
    const { head, tail, seqs } = chains.get(chain)!;
    assert.deepEqual(pool.release(head, tail), seqs);
  }
  assert.equal(pool.used, 4700);
  const capacity = pool.capacity;
  // Freed slots are reused before the pool grows again.
  let tail = NO_SLOT;
  let head = NO_SLOT;
  for (let i = 0; i < 300; i++) {
    tail = pool.append(tail, BigInt(-i));
    if (head === NO_SLOT) head = tail;
  }
  assert.equal(pool.capacity, capacity);
  assert.deepEqual(
    pool.release(head, tail),
    Array.from({ length: 300 }, (_, i) => BigInt(-i)),
  );
  const { head: h0, tail: t0, seqs: s0 } = chains.get(0)!;
  assert.deepEqual(pool.release(h0, t0), s0, 'other chains are untouched');
  pool.clear();
  assert.equal(pool.used, 0);
});
