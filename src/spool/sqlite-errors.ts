// Maps SQLite failures to the spool's error codes: disk trouble (full, I/O) is SPOOL_IO, anything that
// makes the spool unusable as a whole (locked by another process, not a database, unreadable) is
// SPOOL_UNAVAILABLE. Our own ForwarderErrors pass through unchanged.
import { ForwarderError, isForwarderError } from '../errors.ts';

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_NOMEM = 7;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;
/** Retry-After (seconds) of a SPOOL_IO answer: the worker probes the disk every second until it works again. */
export const SPOOL_IO_RETRY_AFTER_S = 2;

interface SqliteError {
  code?: string;
  errcode?: number;
  errstr?: string;
  message?: string;
}

export function toSpoolError(error: unknown): ForwarderError {
  if (isForwarderError(error)) return error;
  const sqlite = (typeof error === 'object' && error !== null ? error : {}) as SqliteError & NodeJS.ErrnoException;
  const reason = sqlite.message ?? String(error);
  if (typeof sqlite.errcode === 'number') {
    switch (sqlite.errcode & 0xff) {
      case SQLITE_FULL:
      case SQLITE_IOERR:
        return new ForwarderError('SPOOL_IO', { reason, retryAfter: SPOOL_IO_RETRY_AFTER_S }, { cause: error });
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return new ForwarderError(
          'SPOOL_UNAVAILABLE',
          { reason: `the spool is in use by another process (${reason})` },
          { cause: error },
        );
      case SQLITE_NOMEM:
      case SQLITE_READONLY:
      case SQLITE_CORRUPT:
      case SQLITE_CANTOPEN:
      case SQLITE_NOTADB:
        return new ForwarderError('SPOOL_UNAVAILABLE', { reason }, { cause: error });
    }
  }
  if (sqlite.code === 'ENOSPC' || sqlite.code === 'EIO' || sqlite.code === 'EDQUOT') {
    return new ForwarderError('SPOOL_IO', { reason, retryAfter: SPOOL_IO_RETRY_AFTER_S }, { cause: error });
  }
  return new ForwarderError('SPOOL_UNAVAILABLE', { reason }, { cause: error });
}
