// The public face of sinks/kafka/: what other folders of src/ may import from it.
export { kafkaOutputSettings, outputSecurity } from './config.ts';
export { STAGES, diagnoseKafkaOutput } from './diagnose/index.ts';
export type { StageResult } from './diagnose/index.ts';
export { recordKeyOf } from './record-key.ts';
export type { RecordKeyField } from './record-key.ts';
export { buildRecords } from './request-builder.ts';
export type {
  BuiltRecords,
  HeaderField,
  OutgoingRecord,
  OversizedEvent,
  RecordEvent,
  RecordOrigin,
} from './request-builder.ts';
export { KafkaSink } from './sink.ts';
export type { RecordOutcome, RecordSink } from './sink.ts';
export type { KafkaOutputSettings } from './config.ts';
export { traceKafkaDiagnostics } from './kafka-client.ts';
