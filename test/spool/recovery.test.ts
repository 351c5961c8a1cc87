// Torn and corrupt write-ahead-log tails: what a crash in the middle of a write leaves behind. The spool
// must reopen, report what it discarded, and serve only whole records (a prefix of what was committed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, openSync, readSync, rmSync, statSync, truncateSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Spool } from '../../src/spool/index.ts';
import { openTestSpool } from '../support/spool.ts';

const RECORDS = 20;

/** A spool directory left as a crash would leave it: 20 commits still in the WAL, never closed. */
async function crashedCopy(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const live = mkdtempSync(join(tmpdir(), 'spool-live-'));
  const spool = await openTestSpool({ dir: live, maxBytes: 1e8 });
  for (let i = 0; i < RECORDS; i++) {
    await spool.append([{ payload: Buffer.from(`rec-${i}-${'y'.repeat(i * 50)}`), destinations: ['a'] }]);
  }
  const dir = mkdtempSync(join(tmpdir(), 'spool-crashed-'));
  for (const file of ['spool.db', 'spool.db-wal']) cpSync(join(live, file), join(dir, file));
  return {
    dir,
    cleanup: async () => {
      await spool.close();
      rmSync(live, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function payloads(spool: Spool): Promise<string[]> {
  return (await spool.read('a', null, 1000)).map((record) =>
    record.payload.toString().split('-').slice(0, 2).join('-'),
  );
}

function expectedPrefix(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `rec-${i}`);
}

void test('an intact WAL after a crash is replayed completely and reported', async () => {
  const { dir, cleanup } = await crashedCopy();
  try {
    const spool = await openTestSpool({ dir, maxBytes: 1e8 });
    assert.equal(spool.recovery.cleanShutdown, false);
    assert.ok(spool.recovery.walFramesRecovered >= RECORDS, 'one or more frames per commit');
    assert.equal(spool.recovery.tornBytesDiscarded, 0);
    assert.equal(spool.recovery.records, RECORDS);
    assert.deepEqual(await payloads(spool), expectedPrefix(RECORDS));
    await spool.close();
  } finally {
    await cleanup();
  }
});

void test('a WAL torn in the middle of its last frame loses only the last commit, and says so', async () => {
  const { dir, cleanup } = await crashedCopy();
  try {
    const wal = join(dir, 'spool.db-wal');
    truncateSync(wal, statSync(wal).size - 1000);
    const spool = await openTestSpool({ dir, maxBytes: 1e8 });
    assert.ok(spool.recovery.tornBytesDiscarded > 0, 'the partial frame is reported');
    assert.equal(spool.recovery.records, RECORDS - 1);
    assert.deepEqual(await payloads(spool), expectedPrefix(RECORDS - 1));
    // The recovered spool keeps working and issues fresh seqs.
    const [result] = await spool.append([{ payload: Buffer.from('after'), destinations: ['a'] }]);
    assert.ok(result.status === 'stored' && result.seq === BigInt(RECORDS));
    await spool.close();
  } finally {
    await cleanup();
  }
});

void test('a WAL frame that fails its checksum ends the log there: later frames are discarded, never served', async () => {
  const { dir, cleanup } = await crashedCopy();
  try {
    const wal = join(dir, 'spool.db-wal');
    const frameBytes = 24 + 4096;
    const frames = Math.floor((statSync(wal).size - 32) / frameBytes);
    // Flip a byte inside the page of a frame halfway through the log.
    const position = 32 + Math.floor(frames / 2) * frameBytes + 24 + 100;
    const fd = openSync(wal, 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, position);
    byte[0] ^= 0xff;
    writeSync(fd, byte, 0, 1, position);
    closeSync(fd);

    const spool = await openTestSpool({ dir, maxBytes: 1e8 });
    assert.ok(spool.recovery.walFramesDiscarded > 0, 'frames from the bad one on are reported as discarded');
    assert.ok(spool.recovery.walFramesRecovered < frames);
    const served = await payloads(spool);
    assert.ok(served.length < RECORDS, 'the commits after the bad frame are gone');
    assert.deepEqual(served, expectedPrefix(served.length), 'what is served is an intact prefix');
    assert.equal(spool.recovery.records, served.length);
    await spool.close();
  } finally {
    await cleanup();
  }
});
