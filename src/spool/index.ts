// The spool: the durable, bounded, local store between HTTP ingest and the Kafka sinks.
export { openSpool } from './spool.ts';
export { batchIdTimeMs } from './batch-id.ts';
export type {
  AppendItem,
  AppendResult,
  DeadLetter,
  DeadLetterSummary,
  Spool,
  SpoolLogger,
  SpoolOptions,
  SpoolRecord,
  SpoolRecovery,
  SpoolState,
  SpoolStats,
} from './types.ts';
