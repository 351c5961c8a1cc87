// One connection at work: reads its batches from the spool (from its cursor, in seq order), turns
// each into mParticle's outgoing JSON with the connection's settings, groups them as the settings
// say, hands the records to the output's sink, and acknowledges the batches back to the spool
// once Kafka has acknowledged every record made from them. Data leaves the spool only then.
//
//   per-event (Send as Batch off)     one record per event, in the batch's context
//   device-window (Send as Batch on)  batches indexed in a Windower (metadata only); when a window
//                                     is due or cut, its batches are read back from the spool,
//                                     rebuilt and merged into one record
//   session (Wait for Complete Batch) the same, closed by session_end or the session timeout, one
//                                     record per session
// A batch that yields no record (all events filtered, and Send Batches without Events off) is
// acknowledged at once. A batch Kafka will never take (a record too large even alone, or one the
// broker rejects as invalid) goes to the dead letters with the reason.
//
// Restart: the cursor starts over, so every unacknowledged batch is read again in seq order and
// re-added to the windows, which reforms exactly the windows that were open (see windows.ts).
// Records are rebuilt byte for byte the same (building is pure), so a resend after a crash
// carries the same batch_id and message_ids.
import type { ConnectionConfig } from '../config/types.ts';
import { isJsonObject, type JsonObject } from '../format/json-value.ts';
import { parseJson, stringifyJson } from '../format/lossless-json.ts';
import { buildRecords, type OutgoingRecord } from '../sinks/kafka/request-builder.ts';
import type { RecordOutcome, RecordSink } from '../sinks/kafka/sink.ts';
import type { Spool, SpoolRecord } from '../spool/types.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { AckBatcher } from './connection-acks.ts';
import { FILTER_REASONS } from './event-types.ts';
import { mergeSessionWindow, mergeWindow } from './merge-window.ts';
import { buildOutgoingBatch, forwardingModeOf, splitPerEvent, type ForwardingMode } from './outgoing-batch.ts';
import { windowEntryOf, Windower, type ClosedWindow } from './windows.ts';

export interface ConnectionRunnerOptions {
  readonly connection: ConnectionConfig;
  /** The output's max_message_bytes (windows are cut below it). */
  readonly maxMessageBytes: number;
  /** Largest record value the sink sends (records are split by events to fit). */
  readonly maxRecordBytes: number;
  readonly spool: Pick<Spool, 'read' | 'get' | 'ack' | 'deadLetter'>;
  readonly sink: RecordSink;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Wall clock (ms) for window due times; the spool's receipt times use the same clock. */
  readonly clock?: () => number;
  /** Batches per spool read. */
  readonly readLimit?: number;
  /** At most this many batches (and record bytes) handed to the sink and not yet settled. */
  readonly maxPendingBatches?: number;
  readonly maxPendingBytes?: number;
  /** How often to look for new batches when nobody calls notify() (replays, missed wake-ups). */
  readonly pollIntervalMs?: number;
}

/** Batches whose records go out together and are settled together. */
interface Unit {
  readonly seqs: readonly bigint[];
  readonly receivedAtMs: readonly number[];
  readonly records: readonly OutgoingRecord[];
  readonly bytes: number;
  /** Set when part of the unit cannot be sent at all (an event too large even alone). */
  readonly localRejection?: string;
}

export class ConnectionRunner {
  readonly #options: ConnectionRunnerOptions;
  readonly #name: string;
  readonly #mode: ForwardingMode;
  readonly #clock: () => number;
  readonly #logger: Logger;
  readonly #windower: Windower | undefined;
  readonly #acks: AckBatcher;
  #cursor: bigint | null = null;
  #stopping = false;
  #reading: Promise<void> = Promise.resolve();
  /** Sleepers (the read loop, the window processor) woken by notify() and by settled units. */
  readonly #waiters = new Set<() => void>();
  #pendingBatches = 0;
  #pendingBytes = 0;
  readonly #inFlight = new Set<Promise<void>>();
  #closedWindows: ClosedWindow[] = [];
  #windowsProcessing: Promise<void> | undefined;
  #windowTimer: NodeJS.Timeout | undefined;

  constructor(options: ConnectionRunnerOptions) {
    this.#options = options;
    this.#name = options.connection.name;
    this.#mode = forwardingModeOf(options.connection.settings);
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger.child({ connection: this.#name, output: options.sink.output });
    const { settings } = options.connection;
    if (this.#mode !== 'per-event') {
      this.#windower = new Windower({
        mode: this.#mode,
        batchWindowMs: settings.batchWindowMs,
        sessionTimeoutMs: settings.sessionTimeoutMs,
        maxMessageBytes: options.maxMessageBytes,
      });
    }
    this.#acks = new AckBatcher({
      destination: this.#name,
      spool: options.spool,
      logger: this.#logger,
      onAcked: (receivedAtMs) =>
        options.metrics.ingestToAck.observe({ output: options.sink.output }, (this.#clock() - receivedAtMs) / 1000),
    });
  }

  get name(): string {
    return this.#name;
  }

  get mode(): ForwardingMode {
    return this.#mode;
  }

  get openWindows(): number {
    return this.#windower?.openWindows ?? 0;
  }

  /** Starts reading from the oldest unacknowledged batch. */
  start(): void {
    this.#reading = this.#readLoop();
  }

  /** New batches may be in the spool (called after an append). */
  notify(): void {
    this.#wakeAll();
  }

  /**
   * First half of a graceful stop: no more reads; windows already due are closed and handed to
   * the sink; windows not yet due are forgotten (their batches stay in the spool and the next
   * start reforms them). Then close the sink, then await settled().
   */
  async stop(deadlineMs = 5000): Promise<void> {
    this.#stopping = true;
    this.#wakeAll();
    await this.#reading;
    clearTimeout(this.#windowTimer);
    if (this.#windower !== undefined) {
      this.#enqueueWindows(this.#windower.drainAll(this.#clock()));
      this.#options.metrics.openWindows.set({ connection: this.#name }, 0);
    }
    // The due windows must reach the sink before it closes; they may wait for room (pending
    // acknowledgements), so not for longer than the deadline.
    if (this.#windowsProcessing !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#windowsProcessing,
        new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs))),
      ]);
      clearTimeout(timer);
    }
  }

  /** Second half: resolves once every record handed to the sink is settled and its ack written. */
  async settled(): Promise<void> {
    for (;;) {
      if (this.#windowsProcessing !== undefined) await this.#windowsProcessing;
      else if (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
      else break;
    }
    await this.#acks.flush();
  }

  async close(deadlineMs?: number): Promise<void> {
    await this.stop(deadlineMs);
    await this.settled();
  }

  // --- reading -------------------------------------------------------------------------------

  async #readLoop(): Promise<void> {
    const { spool, readLimit = 500, pollIntervalMs = 500 } = this.#options;
    while (!this.#stopping) {
      if (this.#mode === 'per-event' && this.#atCapacity()) {
        await this.#sleep(pollIntervalMs);
        continue;
      }
      let records: SpoolRecord[];
      try {
        records = await spool.read(this.#name, this.#cursor, readLimit);
      } catch (error) {
        if (this.#stopping) return;
        this.#logger.error({ err: error }, 'reading the spool failed; trying again');
        await this.#sleep(pollIntervalMs);
        continue;
      }
      if (records.length === 0) {
        await this.#sleep(pollIntervalMs);
        continue;
      }
      for (const record of records) {
        this.#cursor = record.seq;
        // A batch that cannot be processed must not stop the loop (and, re-read after a restart,
        // stop it again): it goes to the dead letters with the reason, and the next one follows.
        try {
          this.#handle(record);
        } catch (error) {
          this.#logger.error({ err: error, seq: record.seq }, 'a stored batch could not be processed');
          this.#deadLetter([record.seq], `UNPROCESSABLE_BATCH: ${(error as Error).message}`);
        }
      }
      if (this.#windower !== undefined) this.#closeDueWindows();
    }
  }

  #atCapacity(): boolean {
    const { maxPendingBatches = 10_000, maxPendingBytes = 32 * 1024 * 1024 } = this.#options;
    return this.#pendingBatches >= maxPendingBatches || this.#pendingBytes >= maxPendingBytes;
  }

  /** Waits for notify(), a settled unit, or ms. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }

  #wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  #handle(record: SpoolRecord): void {
    const inbound = this.#parse(record);
    if (inbound === undefined) return;
    const { settings } = this.#options.connection;
    const result = buildOutgoingBatch(inbound, record, settings);
    for (const reason of FILTER_REASONS) {
      const count = result.filtered[reason];
      if (count > 0) this.#options.metrics.eventsFiltered.inc({ connection: this.#name, reason }, count);
    }
    if (result.batch === null) {
      this.#acks.add(record.seq, record.receivedAtMs);
      return;
    }
    if (this.#windower === undefined) {
      const built = splitPerEvent(result.batch).map((batch) => buildRecords(batch, this.#options.maxRecordBytes));
      this.#dispatch(
        [record.seq],
        [record.receivedAtMs],
        built.flatMap((b) => b.records),
        oversizedReason(built.flatMap((b) => b.oversized)),
      );
      return;
    }
    const outgoing = result.batch;
    const entry = windowEntryOf({
      seq: record.seq,
      receivedAtMs: record.receivedAtMs,
      inbound,
      outgoing,
      outgoingBytes: Buffer.byteLength(stringifyJson(outgoing), 'utf8'),
    });
    this.#enqueueWindows(this.#windower.add(entry));
  }

  #parse(record: SpoolRecord): JsonObject | undefined {
    let value;
    try {
      value = parseJson(record.payload);
    } catch (error) {
      this.#deadLetter(
        [record.seq],
        `UNREADABLE_BATCH: the stored batch is not valid JSON (${(error as Error).message})`,
      );
      return undefined;
    }
    if (!isJsonObject(value)) {
      this.#deadLetter([record.seq], 'UNREADABLE_BATCH: the stored batch is not a JSON object');
      return undefined;
    }
    return value;
  }

  // --- windows -------------------------------------------------------------------------------

  #closeDueWindows(): void {
    const windower = this.#windower;
    if (windower === undefined) return;
    this.#enqueueWindows(windower.due(this.#clock()));
    this.#options.metrics.openWindows.set({ connection: this.#name }, windower.openWindows);
    clearTimeout(this.#windowTimer);
    const next = windower.nextDueAtMs();
    if (next !== undefined && !this.#stopping) {
      const delay = Math.min(Math.max(0, next - this.#clock()), 0x7fffffff);
      this.#windowTimer = setTimeout(() => this.#closeDueWindows(), delay);
    }
  }

  #enqueueWindows(closed: ClosedWindow[]): void {
    if (closed.length === 0) return;
    for (const window of closed) this.#closedWindows.push(window);
    this.#windowsProcessing ??= this.#processWindows().finally(() => {
      this.#windowsProcessing = undefined;
    });
  }

  /**
   * Serial, so windows reach the sink in the order they closed: a device's next window can never
   * overtake its previous one. Reads the batches of many windows with one spool.get.
   */
  async #processWindows(): Promise<void> {
    const { pollIntervalMs = 500 } = this.#options;
    while (this.#closedWindows.length > 0) {
      if (this.#atCapacity()) {
        await this.#sleep(pollIntervalMs);
        continue;
      }
      const group = this.#takeWindows(2000);
      const seqs = group.flatMap((window) => window.seqs);
      let stored: SpoolRecord[];
      try {
        stored = await this.#options.spool.get(seqs);
      } catch (error) {
        this.#closedWindows.unshift(...group);
        this.#logger.error({ err: error }, 'reading windowed batches from the spool failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
        continue;
      }
      const bySeq = new Map(stored.map((record) => [record.seq, record]));
      for (const window of group) {
        try {
          this.#sendWindow(window, bySeq);
        } catch (error) {
          this.#logger.error({ err: error }, 'a closed window could not be processed');
          this.#deadLetter(window.seqs, `UNPROCESSABLE_BATCH: ${(error as Error).message}`);
        }
      }
    }
  }

  #takeWindows(maxSeqs: number): ClosedWindow[] {
    let count = 0;
    let taken = 0;
    while (
      taken < this.#closedWindows.length &&
      (taken === 0 || count + this.#closedWindows[taken].seqs.length <= maxSeqs)
    ) {
      count += this.#closedWindows[taken].seqs.length;
      taken++;
    }
    return this.#closedWindows.splice(0, taken);
  }

  #sendWindow(window: ClosedWindow, bySeq: Map<bigint, SpoolRecord>): void {
    const seqs: bigint[] = [];
    const receivedAt: number[] = [];
    const batches: JsonObject[] = [];
    for (const seq of window.seqs) {
      const record = bySeq.get(seq);
      if (record === undefined) continue; // already acknowledged or dead-lettered
      const inbound = this.#parse(record);
      if (inbound === undefined) continue;
      seqs.push(seq);
      receivedAt.push(record.receivedAtMs);
      const { batch } = buildOutgoingBatch(inbound, record, this.#options.connection.settings);
      if (batch !== null) batches.push(batch);
    }
    if (seqs.length === 0) return;
    const merged = this.#mode === 'session' ? mergeSessionWindow(batches) : [mergeWindow(batches)];
    const built = merged.flatMap((batch) =>
      batch === null ? [] : [buildRecords(batch, this.#options.maxRecordBytes)],
    );
    this.#dispatch(
      seqs,
      receivedAt,
      built.flatMap((b) => b.records),
      oversizedReason(built.flatMap((b) => b.oversized)),
    );
  }

  // --- sending and settling ------------------------------------------------------------------

  /** Hands the records to the sink now (so the sink sees them in this call order) and settles later. */
  #dispatch(seqs: bigint[], receivedAtMs: number[], records: OutgoingRecord[], localRejection?: string): void {
    let bytes = 0;
    for (const record of records) bytes += record.value.length;
    const unit: Unit = { seqs, receivedAtMs, records, bytes, ...(localRejection !== undefined && { localRejection }) };
    this.#pendingBatches += seqs.length;
    this.#pendingBytes += bytes;
    const outcomes =
      records.length === 0 ? Promise.resolve([]) : Promise.all(records.map((r) => this.#options.sink.send(r)));
    const settling = outcomes
      .then((results) => this.#settle(unit, results))
      .catch((error: unknown) => this.#logger.error({ err: error }, 'settling sent records failed'))
      .finally(() => {
        this.#inFlight.delete(settling);
        this.#pendingBatches -= seqs.length;
        this.#pendingBytes -= bytes;
        this.#wakeAll();
      });
    this.#inFlight.add(settling);
  }

  async #settle(unit: Unit, outcomes: RecordOutcome[]): Promise<void> {
    if (outcomes.some((outcome) => outcome.status === 'aborted')) return; // stays in the spool
    const rejections = new Set<string>();
    if (unit.localRejection !== undefined) rejections.add(unit.localRejection);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') rejections.add(`${outcome.code}: ${outcome.reason}`);
    }
    if (rejections.size === 0) {
      for (let i = 0; i < unit.seqs.length; i++) this.#acks.add(unit.seqs[i], unit.receivedAtMs[i]);
      return;
    }
    const delivered = outcomes.filter((outcome) => outcome.status === 'acked').length;
    const reason =
      [...rejections].join('; ') +
      (delivered > 0
        ? ` (${delivered} of ${outcomes.length} records made from it were delivered; a replay resends them too)`
        : '');
    await this.#deadLetterNow(unit.seqs, reason);
  }

  #deadLetter(seqs: readonly bigint[], reason: string): void {
    const writing = this.#deadLetterNow(seqs, reason).finally(() => this.#inFlight.delete(writing));
    this.#inFlight.add(writing);
  }

  async #deadLetterNow(seqs: readonly bigint[], reason: string): Promise<void> {
    for (const seq of seqs) {
      try {
        await this.#options.spool.deadLetter(this.#name, seq, reason);
      } catch (error) {
        this.#logger.error({ err: error, seq: String(seq) }, 'could not move a batch to the dead letters');
        continue;
      }
      this.#logger.warn({ seq: String(seq), reason }, 'batch moved to the dead letters');
    }
  }
}

function oversizedReason(oversized: readonly { bytes: number; limit: number }[]): string | undefined {
  if (oversized.length === 0) return undefined;
  const largest = Math.max(...oversized.map((o) => o.bytes));
  return (
    `RECORD_TOO_LARGE: ${oversized.length} event(s) do not fit a record even alone ` +
    `(largest ${largest} bytes; records may hold ${oversized[0].limit} bytes under max_message_bytes)`
  );
}
