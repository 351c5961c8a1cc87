// The public face of sinks/kafka/diagnose/: a staged diagnosis of one Kafka output, for
// `kafka-forwarder test-connection`. run.ts holds the order; each stage is a file of its own.
export { diagnoseKafkaOutput } from './run.ts';
export { parseHostPort } from './context.ts';
export { formatName } from './certificates.ts';
export { similarNames } from './topic.ts';
export { STAGES } from './types.ts';
export type { DiagnoseOptions, Diagnosis, StageName, StageResult, StageStatus } from './types.ts';
