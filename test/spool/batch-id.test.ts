import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchIdTimeMs, nextBatchId } from '../../src/spool/batch-id.ts';

void test('batch ids carry the time in ms in the high bits and a sequence below', () => {
  const first = nextBatchId(0n, 1_700_000_000_123);
  assert.equal(batchIdTimeMs(first), 1_700_000_000_123);
  const second = nextBatchId(first, 1_700_000_000_123);
  assert.equal(second, first + 1n, 'same millisecond: next sequence number');
  assert.equal(batchIdTimeMs(nextBatchId(second, 1_700_000_000_124)), 1_700_000_000_124);
});

void test('batch ids never repeat or go down when the clock goes backwards', () => {
  const last = nextBatchId(0n, 2_000_000_000_000);
  assert.equal(nextBatchId(last, 1_000_000_000_000), last + 1n);
});

void test('batch ids fit a signed 64-bit integer (SQLite INTEGER, Java long) until the year 2248', () => {
  assert.ok(nextBatchId(0n, Date.UTC(2248, 0, 1)) < 2n ** 63n);
  assert.ok(nextBatchId(0n, Date.UTC(2249, 0, 1)) >= 2n ** 63n);
});
