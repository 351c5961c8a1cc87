// Messages between the spool (main thread) and its worker thread, which owns the SQLite database.
import type { ErrorCode, ErrorParams } from '../errors.ts';
import type { SpoolRecovery } from './types.ts';
import type { StoreOptions, StoreSnapshot, WriteOp } from './store.ts';

export type WorkerOptions = StoreOptions;

export type Request =
  | { id: number; kind: 'write'; write: WriteOp }
  | { id: number; kind: 'read'; destination: string; afterSeq: bigint | null; limit: number }
  | { id: number; kind: 'get'; seqs: readonly bigint[] }
  | { id: number; kind: 'listDeadLetters'; destination?: string; limit: number; afterId: number }
  | { id: number; kind: 'showDeadLetter'; deadLetterId: number }
  | { id: number; kind: 'close' };

export interface SerializedError {
  code: ErrorCode;
  params: ErrorParams;
}

export interface WorkerSnapshot extends StoreSnapshot {
  /** Set when the last group commit failed (disk full, I/O error); cleared by the next successful one. */
  writeError: SerializedError | null;
}

export type Response =
  | { type: 'ready'; recovery: SpoolRecovery; snapshot: WorkerSnapshot }
  | { type: 'openFailed'; error: SerializedError }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: SerializedError }
  | { type: 'snapshot'; snapshot: WorkerSnapshot }
  | { type: 'warn'; obj: Record<string, string | number>; msg: string };
