// The dedup decisions of a partition's owner (no Kafka): the same whichever instance makes them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeDedupEntry, encodeDedupEntry, PartitionDedup } from '../../../src/spool/kafka/dedup-state.ts';

const WINDOW = 1_000;

void describe('PartitionDedup', () => {
  void it('makes a later record with a key seen within the window a duplicate', () => {
    const dedup = new PartitionDedup(WINDOW);
    assert.deepEqual(dedup.check('k', 10n, 5_000), {
      duplicate: false,
      fresh: true,
      entry: { offset: 10n, receivedAtMs: 5_000 },
    });
    assert.deepEqual(dedup.check('k', 11n, 5_900), { duplicate: true });
    assert.equal(dedup.check('other', 12n, 5_900).duplicate, false);
  });

  void it('lets a key through again once the window has passed', () => {
    const dedup = new PartitionDedup(WINDOW);
    dedup.check('k', 10n, 5_000);
    assert.equal(dedup.check('k', 11n, 6_001).duplicate, false);
  });

  void it('does not take the first record, processed again after a rebalance, for a duplicate of itself', () => {
    const dedup = new PartitionDedup(WINDOW);
    dedup.check('k', 10n, 5_000);
    assert.deepEqual(dedup.check('k', 10n, 5_000), {
      duplicate: false,
      fresh: false,
      entry: { offset: 10n, receivedAtMs: 5_000 },
    });
  });

  void it('restored from the state topic, decides as its writer did, also for records before the committed offset', () => {
    const writer = new PartitionDedup(WINDOW);
    const written = new Map<string, Buffer | null>();
    for (const [key, offset] of [
      ['a', 3n],
      ['b', 4n],
      ['c', 9n],
    ] as const) {
      const decision = writer.check(key, offset, 5_000);
      assert.ok(!decision.duplicate);
      written.set(key, encodeDedupEntry(decision.entry));
    }
    written.set('b', null); // a tombstone: b expired
    const reader = new PartitionDedup(WINDOW);
    for (const [key, value] of written) reader.restore(key, value);
    assert.equal(reader.size, 2);
    assert.equal(reader.check('a', 7n, 5_100).duplicate, true, 'a resend of a is a duplicate');
    assert.equal(reader.check('b', 7n, 5_100).duplicate, false, 'b was forgotten');
    // The writer got to offset 9 but committed only up to 5: the new owner processes 6.. again, and
    // a record at 6 with key c is the first one, not a duplicate of the one at 9.
    assert.equal(reader.check('c', 6n, 5_000).duplicate, false);
    assert.equal(reader.check('c', 9n, 5_000).duplicate, true, 'and the one at 9 is then its duplicate');
  });

  void it('forgets keys past the window and says which (for tombstones)', () => {
    const dedup = new PartitionDedup(WINDOW);
    dedup.check('old', 1n, 1_000);
    dedup.check('new', 2n, 4_500);
    assert.deepEqual(dedup.expire(5_000), ['old']);
    assert.equal(dedup.size, 1);
  });

  void it('ignores state records it cannot read', () => {
    assert.equal(decodeDedupEntry(Buffer.from('not json')), undefined);
    assert.equal(decodeDedupEntry(Buffer.from('{"offset":"x","receivedAtMs":1}')), undefined);
    const dedup = new PartitionDedup(WINDOW);
    dedup.restore('k', Buffer.from('{}'));
    assert.equal(dedup.size, 0);
  });
});
