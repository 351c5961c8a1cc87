import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type Spool, type SpoolOptions } from '../../src/spool/index.ts';
import { isForwarderError } from '../../src/errors.ts';
import { openTestSpool } from '../support/spool.ts';

async function withSpool(
  options: Partial<SpoolOptions>,
  body: (spool: Spool, dir: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  const spool = await openTestSpool({ dir, maxBytes: 64 * 1024 * 1024, ...options });
  try {
    await body(spool, dir);
  } finally {
    await spool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const payload = (text: string) => Buffer.from(text);

async function readAll(spool: Spool, destination: string) {
  return spool.read(destination, null, 1_000_000);
}

void test('concurrent appends share fsyncs (group commit) and each is in the log file when it resolves', async () => {
  await withSpool({}, async (spool, dir) => {
    const count = 500;
    const resolved: bigint[] = [];
    const snapshots: { dir: string; resolved: number }[] = [];
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        spool.append([{ payload: payload(`r${i}`), destinations: ['a'] }]).then((result) => {
          if (result[0].status === 'stored') resolved.push(result[0].seq);
          if (i % 100 === 0) {
            // Copy the database files at the instant this append resolved (synchronously, so nothing else
            // runs here in between): opening the copy replays the WAL exactly as a restart after a crash would.
            // The test stays far below the 1,000-page auto-checkpoint, so the worker cannot move pages from
            // the WAL into the database between the two file copies.
            const copy = mkdtempSync(join(tmpdir(), 'spool-copy-'));
            for (const file of ['spool.db', 'spool.db-wal']) cpSync(join(dir, file), join(copy, file));
            snapshots.push({ dir: copy, resolved: resolved.length });
          }
          return result;
        }),
      ),
    );
    const stats = spool.stats();
    assert.equal(stats.appendCalls, count);
    assert.ok(stats.commits < count, `${stats.commits} commits for ${count} appends`);
    assert.ok(stats.commits >= 1);
    const seqs = results.map(([result]) => (result.status === 'stored' ? result.seq : -1n));
    assert.equal(new Set(seqs).size, count, 'every append got its own seq');
    assert.equal((await readAll(spool, 'a')).length, count);
    assert.equal(snapshots.length, count / 100);
    for (const snapshot of snapshots) {
      const db = new DatabaseSync(join(snapshot.dir, 'spool.db'));
      try {
        const select = db.prepare('SELECT 1 FROM records WHERE seq = ?');
        for (const seq of resolved.slice(0, snapshot.resolved)) {
          assert.ok(select.get(seq) !== undefined, `record ${seq} was in the log when its append resolved`);
        }
      } finally {
        db.close();
        rmSync(snapshot.dir, { recursive: true, force: true });
      }
    }
  });
});

void test('batch ids are unique, time-based and keep increasing across a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  try {
    let now = 1_700_000_000_000;
    const clock = () => now;
    const first = await openTestSpool({ dir, maxBytes: 1e7, clock });
    const a = await first.append([
      { payload: payload('1'), destinations: ['a'] },
      { payload: payload('2'), destinations: ['a'] },
    ]);
    await first.close();
    now -= 60_000; // the clock went backwards across the restart
    const second = await openTestSpool({ dir, maxBytes: 1e7, clock });
    const b = await second.append([{ payload: payload('3'), destinations: ['a'] }]);
    const records = await readAll(second, 'a');
    await second.close();
    const ids = [...a, ...b].map((result) => (result.status === 'stored' ? result.batchId : 0n));
    assert.equal(ids[0] >> 20n, BigInt(1_700_000_000_000), 'high bits are the receipt time in ms');
    assert.ok(ids[0] < ids[1] && ids[1] < ids[2], 'strictly increasing even when the clock goes back');
    assert.deepEqual(
      records.map((record) => [record.batchId, record.receivedAtMs]),
      [
        [ids[0], 1_700_000_000_000],
        [ids[1], 1_700_000_000_000],
        [ids[2], 1_700_000_000_000 - 60_000],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a record leaves only after every destination acknowledged it; reads follow the cursor', async () => {
  await withSpool({}, async (spool) => {
    await spool.append([
      { payload: payload('both-1'), destinations: ['a', 'b'] },
      { payload: payload('only-a'), destinations: ['a'] },
      { payload: payload('both-2'), destinations: ['b', 'a'] },
    ]);
    const forA = await readAll(spool, 'a');
    assert.deepEqual(
      forA.map((record) => record.payload.toString()),
      ['both-1', 'only-a', 'both-2'],
    );
    assert.deepEqual(
      (await spool.read('a', forA[0].seq, 1)).map((record) => record.payload.toString()),
      ['only-a'],
      'read after a seq, limited',
    );
    assert.deepEqual(spool.stats().backlog, { a: 3, b: 2 });

    await spool.ack('a', [forA[0].seq, forA[1].seq, forA[2].seq]);
    assert.equal((await readAll(spool, 'a')).length, 0);
    assert.equal(spool.stats().records, 2, 'only-a is gone; the others wait for b');
    assert.deepEqual(
      (await spool.get(forA.map((record) => record.seq))).map((record) => record.payload.toString()),
      ['both-1', 'both-2'],
    );

    await spool.ack('b', [forA[0].seq]);
    await spool.ack('b', [forA[0].seq]); // acknowledging twice is harmless
    assert.equal(spool.stats().records, 1);
    assert.deepEqual(spool.stats().backlog, { b: 1 });

    assert.equal(await spool.dropDestination('b'), 1);
    const stats = spool.stats();
    assert.equal(stats.records, 0);
    assert.equal(stats.bytes, 0);
    assert.deepEqual(stats.backlog, {});
  });
});

void test('a bulk append is stored whole or not at all, and SPOOL_FULL drops nothing already stored', async () => {
  await withSpool({ maxBytes: 20_000, highWaterRatio: 0.5 }, async (spool) => {
    const body = Buffer.alloc(1000, 'x');
    const stored: bigint[] = [];
    let rejection: unknown;
    for (let i = 0; i < 100 && rejection === undefined; i++) {
      try {
        const [result] = await spool.append([{ payload: body, destinations: ['a'] }]);
        if (result.status === 'stored') stored.push(result.seq);
      } catch (error) {
        rejection = error;
      }
    }
    assert.ok(isForwarderError(rejection, 'SPOOL_FULL'), `rejected with SPOOL_FULL, got ${String(rejection)}`);
    assert.equal(rejection.status, 429);
    assert.ok(Number(rejection.params.retryAfter) > 0);
    assert.equal(spool.state, 'full');
    assert.equal(spool.isAboveHighWater(), true);
    const stats = spool.stats();
    assert.ok(stats.bytes >= stats.highWaterBytes && stats.bytes <= stats.maxBytes);
    assert.equal(stats.records, stored.length);
    assert.deepEqual(
      (await readAll(spool, 'a')).map((record) => record.seq),
      stored,
      'everything accepted before the spool filled is still there',
    );

    // Free a little room: a bulk call that does not fit whole stores nothing.
    await spool.ack('a', stored.slice(0, 2));
    assert.equal(spool.state, 'ok');
    const room = spool.stats().highWaterBytes - spool.stats().bytes;
    const tooMany = Array.from({ length: Math.ceil(room / 1000) + 12 }, () => ({ payload: body, destinations: ['a'] }));
    await assert.rejects(spool.append(tooMany), (error) => isForwarderError(error, 'SPOOL_FULL'));
    assert.equal(spool.stats().records, stored.length - 2, 'the rejected bulk call stored nothing');
    const [again] = await spool.append([{ payload: body, destinations: ['a'] }]);
    assert.equal(again.status, 'stored');
  });
});

void test('dedup: the same key within the window is a duplicate, also concurrently; after the window it is stored', async () => {
  let now = 1_000_000;
  await withSpool({ dedupWindowMs: 60_000, clock: () => now }, async (spool) => {
    const item = (key: string, text: string) => ({ payload: payload(text), destinations: ['a'], dedupKey: key });
    const [first] = await spool.append([item('in:req-1', 'one')]);
    assert.equal(first.status, 'stored');
    now += 59_000;
    assert.deepEqual(await spool.append([item('in:req-1', 'again')]), [{ status: 'duplicate' }]);

    // Two concurrent requests with one key, and a key repeated inside one bulk call: one copy each.
    const concurrent = await Promise.all([
      spool.append([item('in:req-2', 'x')]),
      spool.append([item('in:req-2', 'y')]),
    ]);
    assert.deepEqual(concurrent.map(([result]) => result.status).sort(), ['duplicate', 'stored']);
    const bulk = await spool.append([item('in:req-3', 'p'), item('in:req-3', 'q'), item('in:req-4', 'r')]);
    assert.deepEqual(
      bulk.map((result) => result.status),
      ['stored', 'duplicate', 'stored'],
    );
    assert.equal(spool.stats().records, 4);

    now += 2_000; // req-1 was accepted 61 s ago: outside the 60 s window
    const [late] = await spool.append([item('in:req-1', 'late')]);
    assert.equal(late.status, 'stored');
    assert.deepEqual(await spool.append([item('in:req-1', 'later')]), [{ status: 'duplicate' }]);
    assert.deepEqual(
      (await readAll(spool, 'a')).map((record) => record.payload.toString()),
      ['one', concurrent[0][0].status === 'stored' ? 'x' : 'y', 'p', 'r', 'late'],
    );
  });
});

void test('dedup keys count against maxBytes: they can fill the spool after their records left', async () => {
  // High-water mark 9,000 bytes; each 1,000-byte key counts 2 x 1,000 + 40 bytes.
  await withSpool({ maxBytes: 10_000 }, async (spool) => {
    const key = (i: number) => `${'k'.repeat(999)}${i}`;
    for (let i = 0; i < 4; i++) {
      const [result] = await spool.append([{ payload: payload('x'), destinations: ['a'], dedupKey: key(i) }]);
      assert.equal(result.status, 'stored');
      if (result.status === 'stored') await spool.ack('a', [result.seq]);
    }
    const stats = spool.stats();
    assert.equal(stats.records, 0);
    assert.equal(stats.dedupKeys, 4);
    assert.equal(stats.dedupBytes, 4 * 2040);
    assert.equal(stats.bytes, 4 * 2040);
    await assert.rejects(
      spool.append([{ payload: payload('x'), destinations: ['a'], dedupKey: key(4) }]),
      (error) => isForwarderError(error) && error.code === 'SPOOL_FULL',
      'a fifth key would pass maxBytes',
    );
    assert.equal(spool.stats().dedupKeys, 4);
  });
});

void test('expired dedup keys are purged in the background, chunk after chunk, without further writes', async () => {
  let now = 1_700_000_000_000;
  await withSpool({ dedupWindowMs: 1000, clock: () => now }, async (spool) => {
    const keys = 12_000;
    await spool.append(
      Array.from({ length: keys }, (_, i) => ({ payload: payload('x'), destinations: ['a'], dedupKey: `k${i}` })),
    );
    now += 120_000;
    await spool.append([{ payload: payload('y'), destinations: ['a'], dedupKey: 'late' }]);
    for (let i = 0; i < 400 && spool.stats().dedupKeys > 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(spool.stats().dedupKeys, 1, 'every expired key was purged');
  });
});

void test('calls made once close() began are refused with SPOOL_CLOSED; calls made before it complete', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  try {
    const spool = await openTestSpool({ dir, maxBytes: 1e7 });
    const before = spool.append([{ payload: payload('before'), destinations: ['a'] }]);
    const closing = spool.close();
    const isClosed = (error: unknown) => isForwarderError(error) && error.code === 'SPOOL_CLOSED';
    await assert.rejects(spool.append([{ payload: payload('after'), destinations: ['a'] }]), isClosed);
    await assert.rejects(spool.read('a', null, 10), isClosed);
    await assert.rejects(spool.ack('a', [1n]), isClosed);
    await assert.rejects(spool.listDeadLetters(), isClosed);
    assert.equal((await before)[0].status, 'stored', 'a write posted before close() is committed');
    await Promise.all([closing, spool.close()]);
    await assert.rejects(spool.append([{ payload: payload('later'), destinations: ['a'] }]), isClosed);
    const reopened = await openTestSpool({ dir, maxBytes: 1e7 });
    assert.deepEqual(
      (await reopened.read('a', null, 10)).map((record) => record.payload.toString()),
      ['before'],
    );
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('an inspect-only open after a crash keeps the crash visible to the next serving open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  const crashed = mkdtempSync(join(tmpdir(), 'spool-crashed-'));
  try {
    const serving = await openTestSpool({ dir, maxBytes: 1e7 });
    await serving.append([{ payload: payload('kept'), destinations: ['a'] }]);
    // The files as a kill -9 would leave them: copied while the spool is open.
    for (const file of ['spool.db', 'spool.db-wal']) cpSync(join(dir, file), join(crashed, file));
    await serving.close();

    for (let inspection = 0; inspection < 2; inspection++) {
      const inspect = await openTestSpool({ dir: crashed, maxBytes: 1e7, inspectOnly: true });
      assert.equal(inspect.recovery.cleanShutdown, false, `inspection ${inspection} sees the crash`);
      assert.equal(inspect.stats().records, 1);
      await inspect.close();
    }
    const restarted = await openTestSpool({ dir: crashed, maxBytes: 1e7 });
    assert.equal(restarted.recovery.cleanShutdown, false, 'the serving open after the inspections sees the crash');
    await restarted.close();
    const inspectAfterClean = await openTestSpool({ dir: crashed, maxBytes: 1e7, inspectOnly: true });
    assert.equal(inspectAfterClean.recovery.cleanShutdown, true);
    await inspectAfterClean.close();
    const again = await openTestSpool({ dir: crashed, maxBytes: 1e7 });
    assert.equal(again.recovery.cleanShutdown, true, 'an inspection does not mark a clean shutdown as a crash');
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(crashed, { recursive: true, force: true });
  }
});

void test('dedup keys survive a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  try {
    const first = await openTestSpool({ dir, maxBytes: 1e7 });
    await first.append([{ payload: payload('a'), destinations: ['a'], dedupKey: 'k' }]);
    await first.close();
    const second = await openTestSpool({ dir, maxBytes: 1e7 });
    assert.equal(second.recovery.dedupKeys, 1);
    assert.deepEqual(await second.append([{ payload: payload('b'), destinations: ['a'], dedupKey: 'k' }]), [
      { status: 'duplicate' },
    ]);
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('dead letters: move, list, show, replay for that destination, delete, counted in stats', async () => {
  let now = 5_000;
  await withSpool({ clock: () => now }, async (spool) => {
    const [r1, r2] = await spool.append([
      { payload: payload('poison'), destinations: ['a', 'b'] },
      { payload: payload('other'), destinations: ['a'] },
    ]);
    assert.ok(r1.status === 'stored' && r2.status === 'stored');
    now = 6_000;
    const id = await spool.deadLetter('a', r1.seq, 'record too large for topic', payload('{"derived":true}'));
    assert.equal(typeof id, 'number');
    assert.equal(await spool.deadLetter('a', r1.seq, 'again'), null, 'no longer pending for a');
    const id2 = await spool.deadLetter('a', r2.seq, 'schema');
    assert.ok(id2 !== null);

    let stats = spool.stats();
    assert.equal(stats.deadLetters, 2);
    assert.deepEqual(stats.deadLettersByDestination, { a: 2 });
    assert.deepEqual(stats.backlog, { b: 1 }, 'dead-lettering counts as handled for a');
    assert.equal(stats.records, 1, 'r2 had no other destination and was trimmed');

    const listed = await spool.listDeadLetters('a');
    assert.deepEqual(
      listed.map((letter) => [letter.id, letter.seq, letter.reason, letter.deadAtMs, letter.receivedAtMs]),
      [
        [id, r1.seq, 'record too large for topic', 6_000, 5_000],
        [id2, r2.seq, 'schema', 6_000, 5_000],
      ],
    );
    assert.deepEqual(await spool.listDeadLetters('b'), []);
    assert.equal((await spool.listDeadLetters(undefined, 1)).length, 1);
    const shown = await spool.showDeadLetter(id!);
    assert.equal(shown?.payload.toString(), '{"derived":true}');
    assert.equal(shown?.batchId, r1.batchId);
    assert.equal(await spool.showDeadLetter(999), null);

    const replayed = await spool.replayDeadLetter(id2);
    assert.ok(replayed !== null && replayed.seq > r2.seq);
    const forA = await readAll(spool, 'a');
    assert.deepEqual(
      forA.map((record) => [record.seq, record.batchId, record.payload.toString()]),
      [[replayed.seq, r2.batchId, 'other']],
      're-enqueued for a with its batch id',
    );
    assert.deepEqual(
      (await readAll(spool, 'b')).map((record) => [record.seq, record.payload.toString()]),
      [[r1.seq, 'poison']],
      "b still holds the original record, untouched by a's derived dead letter",
    );
    assert.equal(await spool.replayDeadLetter(id2), null, 'a replayed dead letter is gone');

    assert.equal(await spool.deleteDeadLetter(id!), true);
    assert.equal(await spool.deleteDeadLetter(id!), false);
    stats = spool.stats();
    assert.equal(stats.deadLetters, 0);
    assert.equal(stats.deadLetterBytes, 0);
  });
});

void test('stats: records, bytes, oldest age and backlog; recovery reports them after reopen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  try {
    let now = 10_000;
    const spool = await openTestSpool({ dir, maxBytes: 1e7, clock: () => now });
    assert.equal(spool.recovery.cleanShutdown, true);
    assert.equal(spool.stats().oldestAgeMs, 0);
    await spool.append([{ payload: Buffer.alloc(100), destinations: ['a', 'b'] }]);
    now = 12_500;
    await spool.append([{ payload: Buffer.alloc(300), destinations: ['b'] }]);
    now = 15_000;
    const stats = spool.stats();
    assert.equal(stats.records, 2);
    assert.ok(stats.bytes >= 400, 'bytes count at least the payloads');
    assert.equal(stats.oldestAgeMs, 5_000);
    assert.deepEqual(stats.backlog, { a: 1, b: 2 });
    assert.equal(stats.state, 'ok');
    await spool.close();
    assert.equal(spool.state, 'unavailable');
    await assert.rejects(spool.append([{ payload: Buffer.alloc(1), destinations: ['a'] }]), (error) =>
      isForwarderError(error, 'SPOOL_CLOSED'),
    );

    const reopened = await openTestSpool({ dir, maxBytes: 1e7 });
    assert.equal(reopened.recovery.records, 2);
    assert.equal(reopened.recovery.bytes, stats.bytes);
    assert.deepEqual(reopened.recovery.backlog, { a: 1, b: 2 });
    assert.equal(reopened.recovery.lastSeq, 2n);
    assert.equal(reopened.stats().bytes, stats.bytes);
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a second spool on the same directory is refused with SPOOL_UNAVAILABLE', async () => {
  await withSpool({}, async (_spool, dir) => {
    await assert.rejects(openTestSpool({ dir, maxBytes: 1e7 }), (error) =>
      isForwarderError(error, 'SPOOL_UNAVAILABLE'),
    );
  });
});

void test('a record whose payload no longer matches its checksum is never served; it moves to the dead letters', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  try {
    const spool = await openTestSpool({ dir, maxBytes: 1e7 });
    await spool.append([
      { payload: payload('good'), destinations: ['a'] },
      { payload: payload('rotten'), destinations: ['a', 'b'] },
    ]);
    await spool.close();
    // Simulate bit rot: change the stored bytes behind the checksum's back.
    const db = new DatabaseSync(join(dir, 'spool.db'));
    db.prepare('UPDATE records SET payload = ? WHERE seq = 2').run(Buffer.from('rotteN'));
    db.close();

    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? '') };
    const reopened = await openTestSpool({ dir, maxBytes: 1e7, logger });
    try {
      assert.deepEqual(
        (await readAll(reopened, 'a')).map((record) => record.payload.toString()),
        ['good'],
      );
      assert.deepEqual(await reopened.get([2n]), []);
      // The quarantine is committed with the next group; an ack forces one.
      await reopened.ack('a', [1n]);
      const stats = reopened.stats();
      assert.equal(stats.corruptRecords, 1);
      assert.deepEqual(stats.deadLettersByDestination, { a: 1, b: 1 });
      assert.deepEqual(await readAll(reopened, 'b'), []);
      assert.ok(warnings.some((msg) => msg.includes('checksum')));
    } finally {
      await reopened.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
