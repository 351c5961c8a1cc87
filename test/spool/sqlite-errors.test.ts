import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toSpoolError } from '../../src/spool/sqlite-errors.ts';
import { ForwarderError } from '../../src/errors.ts';

function sqliteError(errcode: number, errstr: string): Error {
  return Object.assign(new Error(errstr), { code: 'ERR_SQLITE_ERROR', errcode, errstr });
}

void test('disk full and I/O errors become SPOOL_IO (503)', () => {
  for (const errcode of [
    13 /* SQLITE_FULL */, 10 /* SQLITE_IOERR */, 778 /* SQLITE_IOERR_WRITE */, 1034 /* IOERR_FSYNC */,
  ]) {
    const error = toSpoolError(sqliteError(errcode, 'database or disk is full'));
    assert.equal(error.code, 'SPOOL_IO', `errcode ${errcode}`);
    assert.equal(error.status, 503);
  }
  assert.equal(toSpoolError(Object.assign(new Error('no space'), { code: 'ENOSPC' })).code, 'SPOOL_IO');
});

void test('a spool held by another process, or not a database, is SPOOL_UNAVAILABLE', () => {
  const busy = toSpoolError(sqliteError(5, 'database is locked'));
  assert.equal(busy.code, 'SPOOL_UNAVAILABLE');
  assert.match(busy.message, /another process/);
  assert.equal(toSpoolError(sqliteError(26, 'file is not a database')).code, 'SPOOL_UNAVAILABLE');
});

void test('ForwarderErrors pass through unchanged', () => {
  const full = new ForwarderError('SPOOL_FULL', { retryAfter: 5 });
  assert.equal(toSpoolError(full), full);
});
