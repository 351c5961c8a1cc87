// The Kafka spool's face (spool.kind: kafka): the intake topic in place of the local disk.
export { openKafkaDeadLetters, openKafkaSpool, KafkaSpool } from './kafka-spool.ts';
export type { KafkaDeadLetters, KafkaSpoolOptions, KafkaSpoolStats, PartitionListener } from './kafka-spool.ts';
export type { PartitionLog } from './partition-log.ts';
export type { IntakeConnection } from './client.ts';
export { intakeBatchId } from './intake-record.ts';
export { readIntakeStatus } from './intake-status.ts';
export type { IntakeConnectionStatus, IntakePartitionStatus, IntakeStatus } from './intake-status.ts';
