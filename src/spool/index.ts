// The spool: the durable, bounded, local store between HTTP ingest and the Kafka sinks.
export { openSpool } from './spool.ts';
export { LocalStore } from './local-store.ts';
export { batchIdTimeMs } from './batch-id.ts';
export { dedupKeyOf } from './dedup-key.ts';
// Cluster mode: the intake topic in place of the local disk.
export { openKafkaDeadLetters, openKafkaSpool, KafkaSpool, intakeBatchId, readIntakeStatus } from './kafka/index.ts';
export type {
  IntakeConnection,
  IntakeConnectionStatus,
  IntakePartitionStatus,
  IntakeStatus,
  KafkaDeadLetters,
  KafkaSpoolOptions,
  KafkaSpoolStats,
} from './kafka/index.ts';
export type {
  AppendItem,
  AppendResult,
  DeadLetter,
  DeadLetters,
  PartitionListener,
  Store,
  StorePartition,
  DeadLetterSummary,
  Spool,
  SpoolLogger,
  SpoolOptions,
  SpoolRecord,
  SpoolRecovery,
  SpoolState,
  SpoolStats,
} from './types.ts';
