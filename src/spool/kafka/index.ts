// The Kafka spool's face (spool.kind: kafka): the intake topic in place of the local disk.
export { openKafkaSpool, KafkaSpool } from './kafka-spool.ts';
export type { KafkaSpoolOptions, KafkaSpoolStats } from './kafka-spool.ts';
export { openKafkaDeadLetters } from './kafka-dead-letters.ts';
export type { KafkaDeadLetters } from './kafka-dead-letters.ts';
export type { IntakeConnection } from './client.ts';
export { intakeBatchId } from './intake-record.ts';
export { readIntakeStatus } from './intake-status.ts';
export type { IntakeConnectionStatus, IntakePartitionStatus, IntakeStatus } from './intake-status.ts';
