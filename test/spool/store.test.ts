// The storage engine on its own (no worker thread), where each group commit can be observed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEDUP_PURGE_CHUNK, SpoolStore, type AppendInput, type StoreOptions } from '../../src/spool/store.ts';

function withStore(body: (open: () => SpoolStore) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'spool-store-'));
  const options: StoreOptions = { dir, maxBytes: 1e9, highWaterRatio: 0.9, dedupWindowMs: 1000, minFreeDiskBytes: 0 };
  const opened: SpoolStore[] = [];
  try {
    body(() => {
      const store = new SpoolStore(options);
      opened.push(store);
      return store;
    });
  } finally {
    for (const store of opened) {
      try {
        store.close();
      } catch {
        // already closed by the test
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const item = (dedupKey: string): AppendInput => ({ payload: new Uint8Array([1]), destinations: ['a'], dedupKey });

void test('expired dedup keys are purged at most one chunk per commit; later commits purge the rest', () => {
  withStore((open) => {
    const store = open();
    const keys = DEDUP_PURGE_CHUNK * 2 + 2000;
    store.applyWrites([{ op: 'append', items: Array.from({ length: keys }, (_, i) => item(`in:${i}`)), now: 100_000 }]);
    assert.equal(store.snapshot().dedupKeys, keys);
    assert.equal(store.housekeepingDue, false);

    // Far past the window: every key has expired.
    store.applyWrites([{ op: 'append', items: [item('late')], now: 200_000 }]);
    assert.equal(store.snapshot().dedupKeys, keys - DEDUP_PURGE_CHUNK + 1, 'one chunk purged in this commit');
    assert.equal(store.housekeepingDue, true, 'more expired keys wait');
    store.applyWrites([]);
    assert.equal(store.snapshot().dedupKeys, keys - 2 * DEDUP_PURGE_CHUNK + 1);
    assert.equal(store.housekeepingDue, true);
    store.applyWrites([]);
    assert.equal(store.snapshot().dedupKeys, 1, 'only the key accepted within the window is left');
    assert.equal(store.housekeepingDue, false, 'the last chunk was not full: the purge is done');
  });
});

void test('dedup keys are counted in the stored bytes, and the count survives a reopen', () => {
  withStore((open) => {
    const store = open();
    const results = store.applyWrites([
      {
        op: 'append',
        items: [item('k1'), item('ké-2'), { payload: new Uint8Array([1]), destinations: ['a'] }],
        now: 1,
      },
    ]);
    const stored = (results[0] as { ok: true; value: { seq: bigint }[] }).value;
    store.applyWrites([{ op: 'ack', destination: 'a', seqs: stored.map((result) => result.seq) }]);
    const snapshot = store.snapshot();
    assert.equal(snapshot.records, 0);
    assert.equal(snapshot.dedupKeys, 2);
    // Twice the UTF-8 length (table and by-time index) plus a fixed overhead per key.
    const expected = 2 * Buffer.byteLength('k1') + 2 * Buffer.byteLength('ké-2') + 2 * 40;
    assert.equal(snapshot.dedupBytes, expected);
    assert.equal(snapshot.bytes, expected, 'the keys stay counted after their records left');
    store.close();
    const reopened = open();
    assert.equal(reopened.snapshot().dedupBytes, expected);
    assert.equal(reopened.snapshot().bytes, expected);
    assert.equal(reopened.recovery.dedupKeys, 2);
  });
});
