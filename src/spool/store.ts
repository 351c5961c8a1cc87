// The spool's storage engine: one SQLite database (WAL, synchronous=FULL, exclusive lock) used
// synchronously. It runs inside the spool worker thread so that commits (fsyncs) never block the HTTP
// event loop; bench/spool.ts holds the measurements behind that choice.
//
// Writes arrive in groups (everything the worker received while the previous commit was running) and
// are applied in one transaction: one fsync covers every append, ack and dead letter of the group, and
// nobody is answered before that commit returns.
//
// Tables:
//   records       seq -> batch id, receipt time, crc32, payload (immutable once written)
//   pending       (destination, seq) for each destination that still has to handle the record
//   dedup         dedup key -> time it was accepted (counted against maxBytes; expired keys are purged in
//                 bounded chunks so that no commit stalls on millions of deletes)
//   dead_letters  per-destination records given up on, with the reason
//   meta          last seq / batch id issued, clean-shutdown flag
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ForwarderError } from '../errors.ts';
import { nextBatchId } from './batch-id.ts';
import { scanWal } from './wal-scan.ts';
import type { SpoolRecovery } from './types.ts';

export const DATABASE_FILE = 'spool.db';
/** Bytes counted per record on top of its payload: row, index and pending entries. */
const ROW_OVERHEAD_BYTES = 64;
const PENDING_OVERHEAD_BYTES = 24;
const DEAD_LETTER_OVERHEAD_BYTES = 96;
/**
 * Bytes counted per dedup key on top of twice its UTF-8 length (the key is stored in the table and again
 * in the by-time index): the accepted_at integer in both, record headers and b-tree cell pointers.
 */
const DEDUP_OVERHEAD_BYTES = 40;
const DEDUP_PURGE_INTERVAL_MS = 60_000;
/** Retry-After (seconds) of a SPOOL_FULL answer: Kafka needs a moment to take records off the spool. */
const SPOOL_FULL_RETRY_AFTER_S = 5;
/** At most this many expired dedup keys are deleted per commit; the rest follow in later commits. */
export const DEDUP_PURGE_CHUNK = 5000;

export interface StoreOptions {
  dir: string;
  maxBytes: number;
  highWaterRatio: number;
  dedupWindowMs: number;
  /**
   * Free space kept on the spool's filesystem for the spool's own housekeeping (acknowledgements,
   * trims, dead letters, checkpoints): appends are refused while less than this is free.
   */
  minFreeDiskBytes: number;
  /** Leave the clean-shutdown flag as it is (see SpoolOptions.inspectOnly). */
  inspectOnly?: boolean;
  /** After a failed commit, the interval between probe commits (worker only). */
  probeIntervalMs?: number;
}

export interface StoredRecord {
  seq: bigint;
  batchId: bigint;
  receivedAtMs: number;
  payload: Uint8Array;
}

export interface AppendInput {
  payload: Uint8Array;
  destinations: readonly string[];
  dedupKey?: string;
}

export type AppendOutcome =
  { status: 'stored'; seq: bigint; batchId: bigint; receivedAtMs: number } | { status: 'duplicate' };

export interface DeadLetterRow {
  id: number;
  destination: string;
  seq: bigint;
  batchId: bigint;
  receivedAtMs: number;
  deadAtMs: number;
  reason: string;
  bytes: number;
  payload?: Uint8Array;
}

/** One write of a group; every write of a group commits (or fails) together. */
export type WriteOp =
  | { op: 'append'; items: readonly AppendInput[]; now: number }
  | { op: 'ack'; destination: string; seqs: readonly bigint[] }
  | { op: 'deadLetter'; destination: string; seq: bigint; reason: string; payload?: Uint8Array; now: number }
  | { op: 'replay'; id: number }
  | { op: 'deleteDeadLetter'; id: number }
  | { op: 'dropDestination'; destination: string }
  | { op: 'quarantine'; seq: bigint; now: number };

export type WriteOutcome = { ok: true; value: unknown } | { ok: false; error: ForwarderError };

/**
 * Writes that add data (appends, replays of dead letters) are the ones the disk reserve refuses;
 * every other write only moves or removes data and is the housekeeping the reserve exists for.
 */
export function addsData(op: WriteOp): boolean {
  return op.op === 'append' || op.op === 'replay';
}

export interface StoreSnapshot {
  records: number;
  bytes: number;
  deadLetters: number;
  deadLetterBytes: number;
  backlog: Record<string, number>;
  deadLettersByDestination: Record<string, number>;
  oldestReceivedAtMs: number | null;
  dedupKeys: number;
  dedupBytes: number;
  commits: number;
  appendCalls: number;
  corruptRecords: number;
  full: boolean;
  /** Why appends are refused, when `full`: the high-water mark of max_bytes, or the disk's reserve. */
  fullReason: 'max_bytes' | 'disk' | null;
  /** Free bytes on the spool's filesystem, plus the free pages inside the spool file that new rows reuse. */
  diskFreeBytes: number;
}

/** Counters kept in memory (loaded on open) and updated by each write; reverted if a commit fails. */
interface Counters {
  records: number;
  recordBytes: number;
  deadLetters: number;
  deadLetterBytes: number;
  dedupKeys: number;
  dedupBytes: number;
  backlog: Map<string, number>;
  deadLettersByDestination: Map<string, number>;
  lastSeq: bigint;
  lastBatchId: bigint;
}

function cloneCounters(counters: Counters): Counters {
  return {
    ...counters,
    backlog: new Map(counters.backlog),
    deadLettersByDestination: new Map(counters.deadLettersByDestination),
  };
}

function bump(map: Map<string, number>, key: string, delta: number): void {
  const next = (map.get(key) ?? 0) + delta;
  if (next === 0) map.delete(key);
  else map.set(key, next);
}

function recordBytes(item: AppendInput, destinations: number): number {
  return item.payload.length + ROW_OVERHEAD_BYTES + PENDING_OVERHEAD_BYTES * destinations;
}

function dedupKeyBytes(key: string): number {
  return 2 * Buffer.byteLength(key) + DEDUP_OVERHEAD_BYTES;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    crc INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    payload BLOB NOT NULL
  );
  CREATE TABLE IF NOT EXISTS pending (destination TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (destination, seq)) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS pending_by_seq ON pending (seq);
  CREATE TABLE IF NOT EXISTS dedup (key TEXT PRIMARY KEY, accepted_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS dedup_by_time ON dedup (accepted_at);
  CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    destination TEXT NOT NULL,
    seq INTEGER NOT NULL,
    batch_id INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    dead_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    crc INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    payload BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS dead_letters_by_destination ON dead_letters (destination, id);
`;

export class SpoolStore {
  readonly recovery: SpoolRecovery;
  readonly #db: DatabaseSync;
  readonly #options: StoreOptions;
  readonly #statements: ReturnType<typeof prepareStatements>;
  #counters: Counters;
  #commits = 0;
  #appendCalls = 0;
  #corruptRecords = 0;
  #lastDedupPurgeMs = 0;
  /** The last purge deleted a whole chunk: more expired keys may wait, so the next commit purges again. */
  #dedupPurgeBacklog = false;
  /**
   * During a group: the disk's free bytes as measured at its first data-adding write, less what the
   * group's writes have added since (the filesystem sees them only once committed).
   */
  #groupDiskFree: number | undefined;

  constructor(options: StoreOptions) {
    const started = performance.now();
    this.#options = options;
    mkdirSync(options.dir, { recursive: true });
    const file = join(options.dir, DATABASE_FILE);
    const wal = scanWal(`${file}-wal`);
    this.#db = new DatabaseSync(file, { timeout: 0 });
    try {
      // EXCLUSIVE: one process owns the spool (a second forwarder on the same dir fails fast with BUSY),
      // and the WAL index lives in heap memory instead of a shared-memory file.
      this.#db.exec(`
        PRAGMA locking_mode = EXCLUSIVE;
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = FULL;
        PRAGMA cache_size = -8000;
        PRAGMA journal_size_limit = 67108864;
      `);
      this.#db.exec(SCHEMA);
      this.#statements = prepareStatements(this.#db);
      this.#counters = this.#loadCounters();
      const cleanShutdown = this.#metaValue('clean_shutdown') !== 0n;
      // Only a serving open claims the flag; an inspection must not turn a crash into a clean shutdown.
      if (options.inspectOnly !== true) {
        this.#db.exec('BEGIN');
        this.#setMeta('clean_shutdown', 0n);
        this.#db.exec('COMMIT');
      }
      this.recovery = {
        cleanShutdown,
        records: this.#counters.records,
        bytes: this.#bytes(),
        backlog: Object.fromEntries(this.#counters.backlog),
        deadLetters: this.#counters.deadLetters,
        dedupKeys: this.#counters.dedupKeys,
        lastSeq: this.#counters.lastSeq,
        ...wal,
        openMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  get highWaterBytes(): number {
    return Math.floor(this.#options.maxBytes * this.#options.highWaterRatio);
  }

  /** True while expired dedup keys are left over from a purge chunk: the worker then commits (empty) groups to purge them. */
  get housekeepingDue(): boolean {
    return this.#dedupPurgeBacklog;
  }

  /**
   * Applies a group of writes in one transaction; each gets its own outcome. Throws only if the commit fails.
   * The transaction also purges one chunk of expired dedup keys when a purge is due.
   */
  applyWrites(ops: readonly WriteOp[]): WriteOutcome[] {
    const before = cloneCounters(this.#counters);
    const purgeState = { last: this.#lastDedupPurgeMs, backlog: this.#dedupPurgeBacklog };
    const outcomes: WriteOutcome[] = [];
    this.#groupDiskFree = undefined;
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#purgeExpiredDedupKeys(ops);
      for (const op of ops) {
        // Validation errors (full, unknown id) are thrown before the op writes anything; SQL errors abort the group.
        try {
          outcomes.push({ ok: true, value: this.#applyWrite(op) });
        } catch (error) {
          if (!(error instanceof ForwarderError) || error.code === 'SPOOL_IO' || error.code === 'SPOOL_UNAVAILABLE')
            throw error;
          outcomes.push({ ok: false, error });
        }
      }
      if (this.#counters.lastSeq !== before.lastSeq) this.#setMeta('last_seq', this.#counters.lastSeq);
      if (this.#counters.lastBatchId !== before.lastBatchId) this.#setMeta('last_batch_id', this.#counters.lastBatchId);
      this.#db.exec('COMMIT');
      this.#commits += 1;
      return outcomes;
    } catch (error) {
      this.#counters = before;
      this.#lastDedupPurgeMs = purgeState.last;
      this.#dedupPurgeBacklog = purgeState.backlog;
      if (this.#db.isTransaction) {
        try {
          this.#db.exec('ROLLBACK');
        } catch {
          // SQLite already rolled back (e.g. after SQLITE_FULL); nothing more to undo.
        }
      }
      throw error;
    }
  }

  /** A minimal write transaction (one meta row): commits only if the disk accepts writes and fsyncs again. */
  probe(now: number): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#setMeta('write_probe_at', BigInt(now));
      this.#db.exec('COMMIT');
      this.#commits += 1;
    } catch (error) {
      if (this.#db.isTransaction) {
        try {
          this.#db.exec('ROLLBACK');
        } catch {
          // already rolled back by SQLite
        }
      }
      throw error;
    }
  }

  #applyWrite(op: WriteOp): unknown {
    switch (op.op) {
      case 'append':
        return this.#append(op.items, op.now);
      case 'ack':
        return this.#ack(op.destination, op.seqs);
      case 'deadLetter':
        return this.#deadLetter(op.destination, op.seq, op.reason, op.payload, op.now);
      case 'replay':
        return this.#replay(op.id);
      case 'deleteDeadLetter':
        return this.#deleteDeadLetter(op.id);
      case 'dropDestination':
        return this.#dropDestination(op.destination);
      case 'quarantine':
        return this.#quarantine(op.seq, op.now);
    }
  }

  #append(items: readonly AppendInput[], now: number): AppendOutcome[] {
    this.#appendCalls += 1;
    // Decide duplicates and size before writing anything: the call is stored whole or not at all.
    const windowStart = now - this.#options.dedupWindowMs;
    const keysInCall = new Set<string>();
    /** Keys of this call that have no row yet (an expired row that is still there is updated in place). */
    const newKeys = new Set<string>();
    const duplicate = items.map((item) => {
      if (item.dedupKey === undefined) return false;
      if (keysInCall.has(item.dedupKey)) return true;
      keysInCall.add(item.dedupKey);
      const row = this.#statements.dedupGet.get(item.dedupKey) as { accepted_at: number } | undefined;
      if (row === undefined) newKeys.add(item.dedupKey);
      return row !== undefined && row.accepted_at > windowStart;
    });
    const destinationLists = items.map((item) => [...new Set(item.destinations)]);
    let incoming = 0;
    items.forEach((item, index) => {
      if (!duplicate[index]) incoming += recordBytes(item, destinationLists[index].length);
    });
    for (const key of newKeys) incoming += dedupKeyBytes(key);
    if (incoming > 0) this.#assertRoom(incoming, this.highWaterBytes);

    const results: AppendOutcome[] = [];
    items.forEach((item, index) => {
      if (duplicate[index]) {
        results.push({ status: 'duplicate' });
        return;
      }
      const seq = (this.#counters.lastSeq += 1n);
      const batchId = (this.#counters.lastBatchId = nextBatchId(this.#counters.lastBatchId, now));
      const bytes = recordBytes(item, destinationLists[index].length);
      this.#statements.insertRecord.run(seq, batchId, now, crc32(item.payload), bytes, item.payload);
      for (const destination of destinationLists[index]) {
        this.#statements.insertPending.run(destination, seq);
        bump(this.#counters.backlog, destination, 1);
      }
      if (item.dedupKey !== undefined) {
        this.#statements.dedupPut.run(item.dedupKey, now);
        if (newKeys.has(item.dedupKey)) {
          this.#counters.dedupKeys += 1;
          this.#counters.dedupBytes += dedupKeyBytes(item.dedupKey);
        }
      }
      this.#counters.records += 1;
      this.#counters.recordBytes += bytes;
      results.push({ status: 'stored', seq, batchId, receivedAtMs: now });
    });
    return results;
  }

  /**
   * Refuses a write that would pass `limit` (the high-water mark for appends, maxBytes for replays),
   * or that would leave less than the disk reserve free on the spool's filesystem.
   */
  #assertRoom(incoming: number, limit: number): void {
    const bytes = this.#bytes();
    if (bytes >= limit || bytes + incoming > this.#options.maxBytes) {
      throw new ForwarderError('SPOOL_FULL', {
        retryAfter: SPOOL_FULL_RETRY_AFTER_S,
        reason: 'it is above its high-water mark',
      });
    }
    const free = (this.#groupDiskFree ??= this.diskFreeBytes());
    if (free - incoming < this.#options.minFreeDiskBytes) {
      throw new ForwarderError('SPOOL_FULL', {
        retryAfter: SPOOL_FULL_RETRY_AFTER_S,
        reason: `its disk has less than spool.min_free_disk_bytes (${this.#options.minFreeDiskBytes} bytes) free`,
      });
    }
    this.#groupDiskFree = free - incoming;
  }

  /**
   * Free bytes for new rows: the filesystem's free space (as an unprivileged process may use it) plus
   * the free pages inside the database file, which SQLite reuses before it grows the file. Trimmed
   * records free pages, not file bytes, so this is what rises when Kafka catches up.
   */
  diskFreeBytes(): number {
    const fs = statfsSync(this.#options.dir);
    const pages = this.#statements.freelistCount.get() as { freelist_count: number };
    const pageSize = this.#statements.pageSize.get() as { page_size: number };
    return fs.bavail * fs.bsize + Number(pages.freelist_count) * Number(pageSize.page_size);
  }

  #ack(destination: string, seqs: readonly bigint[]): number {
    let acked = 0;
    for (const seq of seqs) {
      if (this.#releasePending(destination, seq)) acked += 1;
    }
    return acked;
  }

  /** Removes one destination's claim on a record, and the record itself once no destination needs it. */
  #releasePending(destination: string, seq: bigint): boolean {
    if (Number(this.#statements.deletePending.run(destination, seq).changes) === 0) return false;
    bump(this.#counters.backlog, destination, -1);
    if (this.#statements.anyPending.get(seq) === undefined) {
      const removed = this.#statements.deleteRecord.get(seq) as { bytes: number } | undefined;
      if (removed !== undefined) {
        this.#counters.records -= 1;
        this.#counters.recordBytes -= Number(removed.bytes);
      }
    }
    return true;
  }

  #deadLetter(
    destination: string,
    seq: bigint,
    reason: string,
    payload: Uint8Array | undefined,
    now: number,
  ): number | null {
    if (this.#statements.hasPending.get(destination, seq) === undefined) return null;
    const record = this.#statements.getRecord.get(seq) as RecordRow | undefined;
    if (record === undefined) return null;
    const body = payload ?? record.payload;
    const bytes = body.length + reason.length + DEAD_LETTER_OVERHEAD_BYTES;
    const inserted = this.#statements.insertDeadLetter.get(
      destination,
      seq,
      record.batch_id,
      record.received_at,
      now,
      reason,
      crc32(body),
      bytes,
      body,
    ) as { id: bigint };
    this.#counters.deadLetters += 1;
    this.#counters.deadLetterBytes += bytes;
    bump(this.#counters.deadLettersByDestination, destination, 1);
    this.#releasePending(destination, seq);
    return Number(inserted.id);
  }

  #replay(id: number): { seq: bigint } | null {
    const row = this.#statements.getDeadLetter.get(id) as DeadLetterDbRow | undefined;
    if (row === undefined) return null;
    const item: AppendInput = { payload: row.payload, destinations: [row.destination] };
    const bytes = recordBytes(item, 1);
    // Replays may use the headroom between the high-water mark and maxBytes: they drain dead letters.
    this.#assertRoom(bytes - Number(row.bytes), this.#options.maxBytes + 1);
    const seq = (this.#counters.lastSeq += 1n);
    this.#statements.insertRecord.run(seq, row.batch_id, row.received_at, row.crc, bytes, row.payload);
    this.#statements.insertPending.run(row.destination, seq);
    bump(this.#counters.backlog, row.destination, 1);
    this.#counters.records += 1;
    this.#counters.recordBytes += bytes;
    this.#removeDeadLetter(row);
    return { seq };
  }

  #deleteDeadLetter(id: number): boolean {
    const row = this.#statements.getDeadLetter.get(id) as DeadLetterDbRow | undefined;
    if (row === undefined) return false;
    this.#removeDeadLetter(row);
    return true;
  }

  #removeDeadLetter(row: DeadLetterDbRow): void {
    this.#statements.deleteDeadLetter.run(row.id);
    this.#counters.deadLetters -= 1;
    this.#counters.deadLetterBytes -= Number(row.bytes);
    bump(this.#counters.deadLettersByDestination, row.destination, -1);
  }

  #dropDestination(destination: string): number {
    const seqs = (this.#statements.pendingSeqs.all(destination) as { seq: bigint }[]).map((row) => row.seq);
    return this.#ack(destination, seqs);
  }

  /** A record that failed its checksum is moved to the dead letters of every destination still waiting for it. */
  #quarantine(seq: bigint, now: number): number {
    const destinations = (this.#statements.pendingDestinations.all(seq) as { destination: string }[]).map(
      (row) => row.destination,
    );
    for (const destination of destinations) {
      this.#deadLetter(destination, seq, 'the stored record failed its checksum (disk corruption)', undefined, now);
    }
    if (destinations.length > 0) this.#corruptRecords += 1;
    return destinations.length;
  }

  /**
   * Deletes up to DEDUP_PURGE_CHUNK expired dedup keys, once a minute, or at every commit while a previous
   * chunk was full. "Now" is the earliest clock reading of the group's writes (or, for a group without any,
   * the last purge's), so no append of the group sees a key purged that it still counts as a duplicate.
   */
  #purgeExpiredDedupKeys(ops: readonly WriteOp[]): void {
    let now: number | undefined;
    for (const op of ops) if ('now' in op && (now === undefined || op.now < now)) now = op.now;
    if (now === undefined) {
      if (!this.#dedupPurgeBacklog) return;
      now = this.#lastDedupPurgeMs;
    }
    const interval = now - this.#lastDedupPurgeMs;
    if (!this.#dedupPurgeBacklog && interval < DEDUP_PURGE_INTERVAL_MS && interval >= 0) return;
    this.#lastDedupPurgeMs = now;
    const purged = this.#statements.dedupPurge.all(now - this.#options.dedupWindowMs, DEDUP_PURGE_CHUNK) as {
      bytes: bigint;
    }[];
    for (const row of purged) {
      this.#counters.dedupKeys -= 1;
      this.#counters.dedupBytes -= 2 * Number(row.bytes) + DEDUP_OVERHEAD_BYTES;
    }
    this.#dedupPurgeBacklog = purged.length === DEDUP_PURGE_CHUNK;
  }

  /** Unacknowledged records for a destination after `afterSeq`; records failing their checksum are returned in `corrupt`. */
  read(destination: string, afterSeq: bigint | null, limit: number): { records: StoredRecord[]; corrupt: bigint[] } {
    const rows = this.#statements.readPending.all(destination, afterSeq ?? -1n, limit) as RecordRow[];
    return this.#verify(rows);
  }

  get(seqs: readonly bigint[]): { records: StoredRecord[]; corrupt: bigint[] } {
    const rows: RecordRow[] = [];
    for (const seq of [...new Set(seqs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const row = this.#statements.getRecord.get(seq) as RecordRow | undefined;
      if (row !== undefined) rows.push(row);
    }
    return this.#verify(rows);
  }

  #verify(rows: RecordRow[]): { records: StoredRecord[]; corrupt: bigint[] } {
    const records: StoredRecord[] = [];
    const corrupt: bigint[] = [];
    for (const row of rows) {
      if (crc32(row.payload) !== Number(row.crc)) corrupt.push(row.seq);
      else
        records.push({
          seq: row.seq,
          batchId: row.batch_id,
          receivedAtMs: Number(row.received_at),
          payload: row.payload,
        });
    }
    return { records, corrupt };
  }

  listDeadLetters(destination: string | undefined, limit: number, afterId: number): DeadLetterRow[] {
    const rows = (
      destination === undefined
        ? this.#statements.listDeadLetters.all(afterId, limit)
        : this.#statements.listDeadLettersFor.all(destination, afterId, limit)
    ) as DeadLetterDbRow[];
    return rows.map((row) => toDeadLetter(row, false));
  }

  showDeadLetter(id: number): DeadLetterRow | null {
    const row = this.#statements.getDeadLetter.get(id) as DeadLetterDbRow | undefined;
    return row === undefined ? null : toDeadLetter(row, true);
  }

  snapshot(): StoreSnapshot {
    const oldest = this.#statements.oldestRecord.get() as { received_at: bigint } | undefined;
    const diskFreeBytes = this.diskFreeBytes();
    const fullReason =
      this.#bytes() >= this.highWaterBytes
        ? 'max_bytes'
        : diskFreeBytes < this.#options.minFreeDiskBytes
          ? 'disk'
          : null;
    return {
      records: this.#counters.records,
      bytes: this.#bytes(),
      deadLetters: this.#counters.deadLetters,
      deadLetterBytes: this.#counters.deadLetterBytes,
      backlog: Object.fromEntries(this.#counters.backlog),
      deadLettersByDestination: Object.fromEntries(this.#counters.deadLettersByDestination),
      oldestReceivedAtMs: oldest === undefined ? null : Number(oldest.received_at),
      dedupKeys: this.#counters.dedupKeys,
      dedupBytes: this.#counters.dedupBytes,
      commits: this.#commits,
      appendCalls: this.#appendCalls,
      corruptRecords: this.#corruptRecords,
      full: fullReason !== null,
      fullReason,
      diskFreeBytes,
    };
  }

  /**
   * Marks a clean shutdown (unless opened inspect-only, which never cleared the flag) and folds the WAL
   * into the database so the next open starts from an empty log.
   */
  close(): { problem: string } | null {
    // Both steps are a courtesy to the next open, not a condition of safety: every commit is already
    // durable in the WAL. So a full or failing disk must not turn a clean stop into a failed one.
    let problem: string | null = null;
    try {
      if (this.#options.inspectOnly !== true) {
        this.#db.exec('BEGIN');
        this.#setMeta('clean_shutdown', 1n);
        this.#db.exec('COMMIT');
      }
      this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch (error) {
      problem = (error as Error).message;
      if (this.#db.isTransaction) {
        try {
          this.#db.exec('ROLLBACK');
        } catch {
          // already rolled back by SQLite
        }
      }
    } finally {
      this.#db.close();
    }
    return problem === null ? null : { problem };
  }

  #bytes(): number {
    return this.#counters.recordBytes + this.#counters.deadLetterBytes + this.#counters.dedupBytes;
  }

  #metaValue(key: string): bigint | undefined {
    return (this.#statements.metaGet.get(key) as { value: bigint } | undefined)?.value;
  }

  #setMeta(key: string, value: bigint): void {
    this.#statements.metaPut.run(key, value);
  }

  #loadCounters(): Counters {
    const records = this.#db
      .prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM records')
      .get() as Totals;
    const dead = this.#db
      .prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM dead_letters')
      .get() as Totals;
    const dedup = this.#db
      .prepare(
        `SELECT count(*) AS n, coalesce(sum(2 * length(CAST(key AS BLOB)) + ${DEDUP_OVERHEAD_BYTES}), 0) AS bytes FROM dedup`,
      )
      .get() as Totals;
    const backlog = this.#db
      .prepare('SELECT destination, count(*) AS n FROM pending GROUP BY destination')
      .all() as Grouped[];
    const deadBy = this.#db
      .prepare('SELECT destination, count(*) AS n FROM dead_letters GROUP BY destination')
      .all() as Grouped[];
    return {
      records: Number(records.n),
      recordBytes: Number(records.bytes),
      deadLetters: Number(dead.n),
      deadLetterBytes: Number(dead.bytes),
      dedupKeys: Number(dedup.n),
      dedupBytes: Number(dedup.bytes),
      backlog: new Map(backlog.map((row) => [row.destination, Number(row.n)])),
      deadLettersByDestination: new Map(deadBy.map((row) => [row.destination, Number(row.n)])),
      lastSeq: this.#metaValue('last_seq') ?? 0n,
      lastBatchId: this.#metaValue('last_batch_id') ?? 0n,
    };
  }
}

// Row shapes are type aliases (not interfaces) so that node:sqlite row objects can be cast to them.
type Totals = {
  n: number;
  bytes: number;
};

type Grouped = {
  destination: string;
  n: number;
};

type RecordRow = {
  seq: bigint;
  batch_id: bigint;
  received_at: bigint;
  crc: bigint;
  payload: Uint8Array;
};

type DeadLetterDbRow = {
  id: bigint;
  destination: string;
  seq: bigint;
  batch_id: bigint;
  received_at: bigint;
  dead_at: bigint;
  reason: string;
  crc: bigint;
  bytes: bigint;
  payload: Uint8Array;
};

function toDeadLetter(row: DeadLetterDbRow, withPayload: boolean): DeadLetterRow {
  return {
    id: Number(row.id),
    destination: row.destination,
    seq: row.seq,
    batchId: row.batch_id,
    receivedAtMs: Number(row.received_at),
    deadAtMs: Number(row.dead_at),
    reason: row.reason,
    bytes: Number(row.bytes),
    ...(withPayload ? { payload: row.payload } : {}),
  };
}

function prepareStatements(db: DatabaseSync) {
  const prepare = (sql: string): StatementSync => {
    const statement = db.prepare(sql);
    // seq and batch ids are 64-bit; batch ids exceed Number.MAX_SAFE_INTEGER.
    statement.setReadBigInts(true);
    return statement;
  };
  const recordColumns = 'r.seq, r.batch_id, r.received_at, r.crc, r.payload';
  const deadLetterSummary = 'id, destination, seq, batch_id, received_at, dead_at, reason, crc, bytes';
  return {
    metaGet: prepare('SELECT value FROM meta WHERE key = ?'),
    metaPut: prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    insertRecord: prepare(
      'INSERT INTO records (seq, batch_id, received_at, crc, bytes, payload) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertPending: prepare('INSERT OR IGNORE INTO pending (destination, seq) VALUES (?, ?)'),
    deletePending: prepare('DELETE FROM pending WHERE destination = ? AND seq = ?'),
    hasPending: prepare('SELECT 1 FROM pending WHERE destination = ? AND seq = ?'),
    anyPending: prepare('SELECT 1 FROM pending WHERE seq = ? LIMIT 1'),
    pendingSeqs: prepare('SELECT seq FROM pending WHERE destination = ?'),
    pendingDestinations: prepare('SELECT destination FROM pending WHERE seq = ?'),
    deleteRecord: prepare('DELETE FROM records WHERE seq = ? RETURNING bytes'),
    getRecord: prepare(`SELECT ${recordColumns} FROM records r WHERE r.seq = ?`),
    readPending: prepare(
      `SELECT ${recordColumns} FROM pending p JOIN records r ON r.seq = p.seq WHERE p.destination = ? AND p.seq > ? ORDER BY p.seq LIMIT ?`,
    ),
    oldestRecord: prepare('SELECT received_at FROM records ORDER BY seq LIMIT 1'),
    freelistCount: db.prepare('PRAGMA freelist_count'),
    pageSize: db.prepare('PRAGMA page_size'),
    dedupGet: db.prepare('SELECT accepted_at FROM dedup WHERE key = ?'),
    dedupPut: prepare(
      'INSERT INTO dedup (key, accepted_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET accepted_at = excluded.accepted_at',
    ),
    dedupPurge: prepare(
      'DELETE FROM dedup WHERE key IN (SELECT key FROM dedup WHERE accepted_at <= ? ORDER BY accepted_at LIMIT ?) RETURNING length(CAST(key AS BLOB)) AS bytes',
    ),
    insertDeadLetter: prepare(
      'INSERT INTO dead_letters (destination, seq, batch_id, received_at, dead_at, reason, crc, bytes, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
    ),
    getDeadLetter: prepare(`SELECT ${deadLetterSummary}, payload FROM dead_letters WHERE id = ?`),
    deleteDeadLetter: prepare('DELETE FROM dead_letters WHERE id = ?'),
    listDeadLetters: prepare(`SELECT ${deadLetterSummary} FROM dead_letters WHERE id > ? ORDER BY id LIMIT ?`),
    listDeadLettersFor: prepare(
      `SELECT ${deadLetterSummary} FROM dead_letters WHERE destination = ? AND id > ? ORDER BY id LIMIT ?`,
    ),
  };
}
