// The partition log's own logic (no Kafka): what the connection runners read, what acknowledgements
// and dead letters settle, and how far the partition's offset may be committed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartitionLog } from '../../../src/spool/kafka/partition-log.ts';
import type { SpoolRecord } from '../../../src/spool/index.ts';

function record(offset: number, bytes = 10): SpoolRecord {
  return { seq: BigInt(offset), batchId: BigInt(1000 + offset), receivedAtMs: 1, payload: Buffer.alloc(bytes) };
}

const noDeadLetters = {
  write: () => Promise.reject(new Error('no dead letters expected')),
};

void describe('PartitionLog', () => {
  void it('commits nothing before its first record, then up to the oldest record some destination needs', async () => {
    const log = new PartitionLog(3, noDeadLetters);
    assert.equal(log.committableOffset(), null);
    for (const offset of [10, 11, 13]) log.add(record(offset), ['a', 'b']);
    assert.equal(log.committableOffset(), 10n);
    await log.ack('a', [10n, 11n]);
    assert.equal(log.committableOffset(), 10n, 'b still needs 10');
    await log.ack('b', [11n]);
    assert.equal(log.committableOffset(), 10n, 'out of order: 10 still held');
    await log.ack('b', [10n]);
    assert.equal(log.committableOffset(), 13n);
    await log.ack('a', [13n]);
    await log.ack('b', [13n]);
    assert.equal(log.committableOffset(), 14n, 'all settled: the next offset (past gaps such as transaction markers)');
    assert.equal(log.records, 0);
    assert.equal(log.bytes, 0);
  });

  void it('reads per destination from a cursor, skipping what that destination has settled', async () => {
    const log = new PartitionLog(0, noDeadLetters);
    for (let offset = 0; offset < 6; offset++) log.add(record(offset), ['a', 'b']);
    await log.ack('a', [1n, 2n]);
    assert.deepEqual(
      (await log.read('a', null, 10)).map((r) => r.seq),
      [0n, 3n, 4n, 5n],
    );
    assert.deepEqual(
      (await log.read('b', 2n, 2)).map((r) => r.seq),
      [3n, 4n],
    );
    assert.deepEqual(
      (await log.get([4n, 1n, 99n])).map((r) => r.seq),
      [1n, 4n],
    );
  });

  void it('ignores a record at or below one already taken in (the re-read after a rebalance)', () => {
    const log = new PartitionLog(0, noDeadLetters);
    assert.equal(log.add(record(5), ['a']), true);
    assert.equal(log.add(record(5), ['a']), false);
    assert.equal(log.add(record(4), ['a']), false);
    assert.equal(log.add(record(6), ['a']), true);
    assert.equal(log.records, 2);
  });

  void it('settles a record bound to no destination at once', () => {
    const log = new PartitionLog(0, noDeadLetters);
    log.add(record(7), []);
    assert.equal(log.committableOffset(), 8n);
    assert.equal(log.records, 0);
  });

  void it('counts held bytes up and down, and gives them all back when revoked', async () => {
    let held = 0;
    const log = new PartitionLog(0, noDeadLetters, (delta) => (held += delta));
    log.add(record(0, 100), ['a']);
    log.add(record(1, 50), ['a']);
    assert.equal(held, 150);
    await log.ack('a', [0n]);
    assert.equal(held, 50);
    log.revoke();
    assert.equal(held, 0);
    assert.equal(log.add(record(2), ['a']), false, 'a revoked log takes nothing');
    await log.ack('a', [1n]);
    assert.equal(held, 0, 'late acknowledgements change nothing');
  });

  void it('writes a dead letter, then counts the record settled for that destination only', async () => {
    const written: string[] = [];
    const log = new PartitionLog(2, {
      write: (destination, held, reason) => {
        written.push(`${destination}:${held.seq}:${reason}`);
        return Promise.resolve(41);
      },
    });
    log.add(record(0), ['a', 'b']);
    assert.equal(await log.deadLetter('a', 0n, 'refused'), 41);
    assert.equal(await log.deadLetter('a', 0n, 'again'), null, 'not pending for a any more');
    assert.deepEqual(written, ['a:0:refused']);
    assert.equal(log.committableOffset(), 0n, 'b still needs it');
    assert.deepEqual([...log.backlog()], [['b', 1]]);
  });

  void it('a dead letter that cannot be written settles nothing', async () => {
    const log = new PartitionLog(0, noDeadLetters);
    log.add(record(0), ['a']);
    await assert.rejects(log.deadLetter('a', 0n, 'x'));
    assert.equal(log.committableOffset(), 0n);
  });
});
