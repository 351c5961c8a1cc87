// A transient disk fault must not leave the spool unavailable once the disk works again, even when no
// append ever arrives to prove it (the load balancer took the instance out on the first 503).
//
// The fault is real: the test lowers this process's RLIMIT_FSIZE to 0 with prlimit(1), so every write
// SQLite makes to its files fails with EFBIG (SIGXFSZ is ignored), then lifts the limit again. The
// limit applies to regular files only; the test runner talks to this process through pipes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Spool } from '../../src/spool/index.ts';
import { isForwarderError } from '../../src/errors.ts';
import { openTestSpool } from '../support/spool.ts';

function hasPrlimit(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), '--fsize'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function setFileSizeLimit(soft: string): void {
  execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${soft}:unlimited`], { stdio: 'ignore' });
}

async function waitForState(spool: Spool, state: string, attempts: number): Promise<void> {
  for (let i = 0; i < attempts && spool.state !== state; i++) await sleep(50);
}

void test(
  'after a failed commit the spool is unavailable, and becomes available again without any append once the disk works',
  { skip: hasPrlimit() ? false : 'needs Linux and prlimit(1)' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-fault-'));
    const ignoreFileSizeSignal = () => {};
    process.on('SIGXFSZ', ignoreFileSizeSignal);
    const spool = await openTestSpool({ dir, maxBytes: 1e7 });
    try {
      await spool.append([{ payload: Buffer.from('before'), destinations: ['a'] }]);
      setFileSizeLimit('0');
      try {
        await assert.rejects(
          spool.append([{ payload: Buffer.from('during'), destinations: ['a'] }]),
          (error) => isForwarderError(error) && error.code === 'SPOOL_IO',
        );
        assert.equal(spool.state, 'unavailable');
        // While the fault lasts the probes fail too: the error stays.
        await sleep(1200);
        assert.equal(spool.state, 'unavailable');
      } finally {
        setFileSizeLimit('unlimited');
      }
      const appendCalls = spool.stats().appendCalls;
      await waitForState(spool, 'ok', 200);
      assert.equal(spool.state, 'ok', 'a probe commit cleared the write error');
      assert.equal(spool.stats().appendCalls, appendCalls, 'no append was needed to recover');
      const stored = await spool.append([{ payload: Buffer.from('after'), destinations: ['a'] }]);
      assert.equal(stored[0].status, 'stored');
      assert.deepEqual(
        (await spool.read('a', null, 10)).map((record) => record.payload.toString()),
        ['before', 'after'],
        'the failed append stored nothing',
      );
    } finally {
      await spool.close();
      process.off('SIGXFSZ', ignoreFileSizeSignal);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

void test(
  'a commit that fails for an append still records the acknowledgements of its group',
  { skip: hasPrlimit() ? false : 'needs Linux and prlimit(1)' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-fault-'));
    const ignoreFileSizeSignal = () => {};
    process.on('SIGXFSZ', ignoreFileSizeSignal);
    const spool = await openTestSpool({ dir, maxBytes: 1e8 });
    try {
      const stored = await spool.append(
        Array.from({ length: 20 }, (_, i) => ({ payload: Buffer.from(`delivered ${i}`), destinations: ['a'] })),
      );
      const seqs = stored.flatMap((result) => (result.status === 'stored' ? [result.seq] : []));
      // Room for a small commit (the acks' few pages), not for a 2 MB append.
      const largest = Math.max(...['spool.db', 'spool.db-wal'].map((file) => fileSize(join(dir, file))));
      setFileSizeLimit(String(largest + 256 * 1024));
      let outcomes: PromiseSettledResult<unknown>[];
      try {
        // Issued together, so the worker commits them as one group.
        outcomes = await Promise.allSettled([
          spool.ack('a', seqs),
          spool.append([{ payload: Buffer.alloc(2 * 1024 * 1024, 0x61), destinations: ['a'] }]),
        ]);
      } finally {
        setFileSizeLimit('unlimited');
      }
      assert.equal(
        outcomes[0].status,
        'fulfilled',
        `the acknowledgements were recorded: ${JSON.stringify(outcomes[0])}`,
      );
      assert.equal(outcomes[1].status, 'rejected', 'the append that did not fit was refused');
      assert.ok(isForwarderError(outcomes[1].reason, 'SPOOL_IO'), 'refused as a disk fault');
      assert.equal(spool.stats().records, 0, 'the acknowledged records are gone');
      assert.deepEqual(await spool.read('a', null, 10), []);
    } finally {
      await spool.close();
      process.off('SIGXFSZ', ignoreFileSizeSignal);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
