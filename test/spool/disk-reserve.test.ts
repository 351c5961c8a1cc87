// The spool keeps a reserve of free disk for its own housekeeping. On a small tmpfs that the test
// mounts (tests run as root), appends are refused with SPOOL_FULL once free space falls to the
// reserve, every write that was accepted is durable, and acknowledging the records makes room again
// by itself: the spool reuses the pages it freed, so no one has to free space by hand.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isForwarderError } from '../../src/errors.ts';
import { openTestSpool } from '../support/spool.ts';

function mountTmpfs(dir: string, bytes: number): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'kf-spool-unit', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here (needs root): ${(error as Error).message.split('\n')[0]}`;
  }
}

void test('appends stop at the disk reserve, with SPOOL_FULL, and resume once acknowledged records free their pages', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'spool-reserve-'));
  const mountPoint = join(root, 'fs');
  mkdirSync(mountPoint);
  const problem = mountTmpfs(mountPoint, 24 * 1024 * 1024);
  if (problem !== undefined) {
    rmSync(root, { recursive: true, force: true });
    t.skip(problem);
    return;
  }
  const reserve = 6 * 1024 * 1024;
  const spool = await openTestSpool({ dir: join(mountPoint, 'spool'), maxBytes: 1e9, minFreeDiskBytes: reserve });
  try {
    const payload = Buffer.alloc(20_000, 0x62);
    const seqs: bigint[] = [];
    let refusal: unknown;
    for (let i = 0; i < 2_000 && refusal === undefined; i++) {
      try {
        const results = await spool.append(Array.from({ length: 5 }, () => ({ payload, destinations: ['a'] })));
        for (const result of results) if (result.status === 'stored') seqs.push(result.seq);
      } catch (error) {
        refusal = error;
      }
    }
    assert.ok(isForwarderError(refusal, 'SPOOL_FULL'), `refused with SPOOL_FULL, not ${String(refusal)}`);
    assert.match((refusal as Error).message, /spool\.min_free_disk_bytes/);
    assert.equal(spool.state, 'full');
    assert.equal(spool.stats().fullReason, 'disk');
    assert.ok(spool.stats().diskFreeBytes < reserve + 5 * payload.length);
    assert.ok(seqs.length > 100, `stored ${seqs.length} records before the reserve`);

    // Every accepted record is there, and acknowledging them needs no more space than the reserve.
    assert.equal(spool.stats().records, seqs.length);
    await spool.ack('a', seqs);
    assert.equal(spool.stats().records, 0);
    assert.equal(spool.state, 'ok', 'the freed pages count as free space');
    const again = await spool.append([{ payload, destinations: ['a'] }]);
    assert.equal(again[0].status, 'stored', 'appends are accepted again without freeing anything by hand');
  } finally {
    await spool.close();
    execFileSync('umount', ['-l', mountPoint]);
    rmSync(root, { recursive: true, force: true });
  }
});
