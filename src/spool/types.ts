// The spool's public contract: the durable store between HTTP ingest (a 202 means "on disk") and the
// Kafka sinks. Records are bound to destinations (connection ids) and leave only when every one of
// them has acknowledged or dead-lettered them.

export interface SpoolLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SpoolOptions {
  /** Directory holding the spool (created if missing). */
  dir: string;
  /** Hard bound on stored bytes (payloads plus per-record overhead, dead letters and dedup keys included). */
  maxBytes: number;
  // The settings schema (src/config/schema.ts, spool.*) holds the defaults of these; none live here.
  /** Appends are refused (SPOOL_FULL) once stored bytes reach this fraction of maxBytes. */
  highWaterRatio: number;
  /** How long an accepted dedupKey makes later appends with the same key duplicates. */
  dedupWindowMs: number;
  /**
   * Appends are refused (SPOOL_FULL) while the spool's filesystem has less than this free (counting
   * free pages inside the spool file), so acknowledgements, trims and checkpoints always find room.
   * 0 for none.
   */
  minFreeDiskBytes: number;
  logger?: SpoolLogger;
  /**
   * Opened for inspection or maintenance (the `spool status` and `dlq` CLI commands), not to serve: the
   * clean-shutdown flag is neither cleared on open nor set on close, so a crash of the serving process
   * stays visible to the next serving open. Default false.
   */
  inspectOnly?: boolean;
  /** Wall clock in ms; injectable for tests (receivedAtMs, dedup window, ages). */
  clock?: () => number;
}

export interface AppendItem {
  payload: Buffer;
  /** Destination (connection id) names; the record stays until each has acknowledged it. */
  destinations: readonly string[];
  /** Input name + source_request_id; a key accepted within the dedup window makes this a duplicate. */
  dedupKey?: string;
  /**
   * The batch's MPID (decimal digits), else its mp_deviceid: the Kafka spool's intake record key, so
   * that all of a user's (or device's) batches share one intake partition. The local spool ignores it.
   */
  routingKey?: string;
}

export type AppendResult =
  { status: 'stored'; seq: bigint; batchId: bigint; receivedAtMs: number } | { status: 'duplicate' };

export interface SpoolRecord {
  /** Position in the spool: increasing, never reused, a cursor for read(). */
  seq: bigint;
  /** Stable unique 64-bit id of the batch (time-based high bits + sequence), kept across restarts and replays. */
  batchId: bigint;
  receivedAtMs: number;
  payload: Buffer;
}

export interface DeadLetterSummary {
  id: number;
  destination: string;
  /** The spool seq the record had when it was dead-lettered. */
  seq: bigint;
  batchId: bigint;
  receivedAtMs: number;
  deadAtMs: number;
  reason: string;
  bytes: number;
}

export interface DeadLetter extends DeadLetterSummary {
  payload: Buffer;
}

export type SpoolState = 'ok' | 'full' | 'unavailable';

export interface SpoolStats {
  state: SpoolState;
  /** Records still held for at least one destination. */
  records: number;
  /** Stored bytes counted against maxBytes (records, dead letters and dedup keys). */
  bytes: number;
  /** Why the spool refuses appends when state is 'full': its high-water mark, or its disk's reserve. */
  fullReason: 'max_bytes' | 'disk' | null;
  /** Free bytes for new rows: free on the filesystem plus free pages inside the spool file. */
  diskFreeBytes: number;
  minFreeDiskBytes: number;
  maxBytes: number;
  highWaterBytes: number;
  /** Age of the oldest record still held, in ms; 0 when empty. */
  oldestAgeMs: number;
  /** Unacknowledged records per destination. */
  backlog: Record<string, number>;
  deadLetters: number;
  deadLetterBytes: number;
  /** Dead letters per destination. */
  deadLettersByDestination: Record<string, number>;
  /** Dedup keys held (accepted within the window, or expired and not purged yet), and their bytes. */
  dedupKeys: number;
  dedupBytes: number;
  /** Committed transactions, i.e. WAL fsyncs; appends/commits is the group-commit factor. */
  commits: number;
  appendCalls: number;
  /** Records that failed their checksum on read and were moved to the dead letters. */
  corruptRecords: number;
}

export interface SpoolRecovery {
  /** False when the previous process did not close the spool (crash, kill -9, power loss). */
  cleanShutdown: boolean;
  records: number;
  bytes: number;
  backlog: Record<string, number>;
  deadLetters: number;
  dedupKeys: number;
  lastSeq: bigint;
  /** Size of the write-ahead log found on open (committed work not yet checkpointed, plus any torn tail). */
  walBytesFound: number;
  /** Committed WAL frames replayed by SQLite. */
  walFramesRecovered: number;
  /** Frames of the current WAL generation after the last commit or failing their checksum: discarded. */
  walFramesDiscarded: number;
  /** Bytes at the WAL's end that do not form a whole frame (a write torn by the crash): discarded. */
  tornBytesDiscarded: number;
  openMs: number;
}

export interface Spool {
  /** Stores the items all-or-nothing; concurrent calls share one fsync; resolves only once durable. */
  append(items: readonly AppendItem[]): Promise<AppendResult[]>;
  /** Unacknowledged records for the destination with seq > afterSeq, in seq order. */
  read(destination: string, afterSeq: bigint | null, limit: number): Promise<SpoolRecord[]>;
  /** The records with these seqs that are still stored (any destination), in seq order. */
  get(seqs: readonly bigint[]): Promise<SpoolRecord[]>;
  /** Durably marks the records handled for the destination; removes records no destination still needs. */
  ack(destination: string, seqs: readonly bigint[]): Promise<void>;
  /**
   * Moves the record to the destination's dead letters (optionally as a payload derived from it) and counts
   * it as handled for that destination. Returns the dead letter id, or null if the record was not pending there.
   */
  deadLetter(destination: string, seq: bigint, reason: string, payload?: Buffer): Promise<number | null>;
  listDeadLetters(destination?: string, limit?: number, afterId?: number): Promise<DeadLetterSummary[]>;
  showDeadLetter(id: number): Promise<DeadLetter | null>;
  /** Re-enqueues the dead letter for its destination (same batchId, new seq) and removes it; null if unknown. */
  replayDeadLetter(id: number): Promise<{ seq: bigint } | null>;
  deleteDeadLetter(id: number): Promise<boolean>;
  /** Acknowledges everything pending for a destination that no longer exists (removed from the config). */
  dropDestination(destination: string): Promise<number>;
  stats(): SpoolStats;
  isAboveHighWater(): boolean;
  readonly state: SpoolState;
  readonly recovery: SpoolRecovery;
  close(): Promise<void>;
}

// --- The store contract: what both spool kinds are to the rest of the forwarder ---------------
//
// Ingest appends; processing is given partitions, each read by one task per connection; readiness,
// dead letters and close are asked of the store whatever its kind. The local spool is one
// partition, assigned at start and never moved; the Kafka spool's partitions are the intake
// topic's, given and taken by its consumer group.
//
// Where duplicates are decided differs, and is part of the contract: the local store decides at
// append, before the 202 (a resend gets `duplicate` and is not stored again); the Kafka store
// writes every append to the intake and its partition's owner drops the duplicate after the 202.

/** One partition of a store, as the connections read it (seqs are the partition's positions). */
export interface StorePartition extends Pick<Spool, 'read' | 'get' | 'ack' | 'deadLetter'> {
  /** The intake partition; null for the local spool, which is not partitioned. */
  readonly partition: number | null;
  /**
   * True while the partition's backlog as of its assignment is still being read: windows are not
   * closed by the clock meanwhile, or a window whose later batches are not read yet would be split.
   */
  readonly catchingUp: boolean;
}

/** Processing's view of partitions moving to and from this instance. */
export interface PartitionListener {
  /** The partition is now this instance's: run the connections on it. */
  assigned(partition: StorePartition): void;
  /**
   * The partition is being handed to another instance (a cooperative rebalance): stop the
   * connections on it and let what they handed to Kafka settle, within deadlineMs, so that the
   * offset committed next covers it and the next owner starts right after.
   */
  release(partition: StorePartition, deadlineMs: number): Promise<void>;
  /** The partition moved away (or the instance is stopping): stop the connections on it. */
  revoked(partition: StorePartition): void;
  /** New records were taken into the partition. */
  received(partition: StorePartition): void;
}

/** Dead letters, whichever store holds them (the spool's table, or the dead-letter topic). */
export interface DeadLetters {
  listDeadLetters(destination?: string, limit?: number, afterId?: number): Promise<DeadLetterSummary[]>;
  showDeadLetter(id: number): Promise<DeadLetter | null>;
}

export interface Store extends DeadLetters {
  readonly kind: 'local' | 'kafka';
  /** Stores the items all-or-nothing; resolves once they are durable (the 202). */
  append(items: readonly AppendItem[]): Promise<AppendResult[]>;
  /** Starts handing partitions to the listener; resolves once processing has begun. */
  startProcessing(listener: PartitionListener): Promise<void>;
  /** Why ingest should not be sent batches now (readiness fails), or null. */
  notReadyReason(): string | null;
  /** Why processing lags behind ingest although batches are still taken (readiness says degraded). */
  degradedReasons(): string[];
  /** After processing has settled: makes progress durable and releases everything, within deadlineMs. */
  close(deadlineMs: number): Promise<void>;
}
