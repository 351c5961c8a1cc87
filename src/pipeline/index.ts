// The pipeline's public API: from a spooled inbound batch to the Kafka records a connection
// sends. Pure logic, no I/O; the Kafka sink wires it to the spool and the producer.
//
//   per batch:   buildOutgoingBatch(inbound, {batchId, receivedAtMs}, settings) → batch | null
//   records:     buildRecords(batch, origin, {maxRecordBytes, perEvent}) (sinks/kafka) → records with their metadata
//   windows:     Windower.add(windowEntryOf(…)) / due(now) / drainAll(now)
//                → ClosedWindow{seqs}; read those batches, rebuild them, then
//                mergeWindow(batches) (Send as Batch) or mergeSessionWindow(batches) (Wait for Complete Batch)
//   key:         recordKeyOf(batch) → MPID digits | null
export { filterReasonFor, FILTER_REASONS } from './event-types.ts';
export type { FilterReason } from './event-types.ts';
export { messageIdFor, MESSAGE_ID_NAMESPACE } from './message-id.ts';
export { buildOutgoingBatch, emptyFilterCounts, forwardingModeOf, outgoingUserIdentities } from './outgoing-batch.ts';
export type { FilterCounts, ForwardingMode, OutgoingBatchResult, SpoolMeta } from './outgoing-batch.ts';
export { recordKeyOf } from '../sinks/kafka/index.ts';
export { hasSessionEndEvent, windowEntryOf, windowKeyOf, Windower } from './windows.ts';
export type { ClosedWindow, CloseReason, WindowEntry, WindowerOptions, WindowMode } from './windows.ts';
export { mergeSessionWindow, mergeWindow } from './merge-window.ts';
export { ConnectionRunner } from './connection-runner.ts';
export { startIntakeStats, startSpoolStats } from './connection-spool-stats.ts';
export { PartitionTasks } from './partition-tasks.ts';
export type { ConnectionTarget, PartitionTasksOptions } from './partition-tasks.ts';
