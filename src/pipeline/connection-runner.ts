// One connection at work: reads its batches from the spool (from its cursor, in seq order), turns
// each into mParticle's outgoing JSON with the connection's settings, groups them as the settings
// say, hands the records to the output's sink, and acknowledges the batches back to the spool
// once Kafka has acknowledged every record made from them. Data leaves the spool only then.
//
//   per-event (Send as Batch off)     one record per event, in the batch's context (here)
//   device-window (Send as Batch on)  window-dispatch.ts: batches wait in windows and are merged
//                                     into one record per window
//   session (Wait for Complete Batch) the same, closed by session_end or the session timeout, one
//                                     record per session
// This file is the read loop and its backpressure (at most maxPendingBatches / maxPendingBytes
// handed to the sink and not yet settled) and the writing of what settle-policy.ts decides once
// Kafka has answered: acknowledgements (through AckBatcher) and dead letters. A batch that yields
// no record (all events filtered, and Send Batches without Events off) is acknowledged at once.
//
// Restart: the cursor starts over, so every unacknowledged batch is read again in seq order and
// re-added to the windows, which reforms exactly the windows that were open (see windows.ts).
// While catching up on that backlog, windows are not closed by the wall clock (only by add()),
// so a window whose batches span more than one read is not split.
// Records are rebuilt byte for byte the same (building is pure), so a resend after a crash
// carries the same batch_id and message_ids.
import type { ConnectionConfig } from '../config/index.ts';
import { deadLetterReason } from '../errors.ts';
import { isJsonObject, type JsonObject } from '../format/index.ts';
import { parseJson } from '../format/index.ts';
import { buildRecords } from '../sinks/kafka/index.ts';
import type { HeaderField, RecordKeyField, RecordOutcome, RecordSink } from '../sinks/kafka/index.ts';
import type { Spool, SpoolRecord } from '../spool/index.ts';
import type { Logger } from '../telemetry/index.ts';
import type { Metrics } from '../telemetry/index.ts';
import { AckBatcher } from './connection-acks.ts';
import { FILTER_REASONS } from './event-types.ts';
import { buildOutgoingBatch, forwardingModeOf, type ForwardingMode } from './outgoing-batch.ts';
import { settlementOf, type Unit } from './settle-policy.ts';
import { WindowDispatch } from './window-dispatch.ts';

export interface ConnectionRunnerOptions {
  readonly connection: ConnectionConfig;
  /** Largest record value the sink sends (records are split by events to fit). */
  readonly maxRecordBytes: number;
  /** What record keys are made of (the output's key setting); the MPID when omitted. */
  readonly keyField?: RecordKeyField;
  /** The record headers to set (the output's headers setting); none when omitted. */
  readonly headerFields?: readonly HeaderField[];
  /** Per-event records of these event types go to these topics (the output's topic_by_event_type). */
  readonly topicByEventType?: Readonly<Record<string, string>>;
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
  /**
   * Told the number of open windows whenever it changes; by default the connection's open-windows
   * gauge is set to it (cluster mode sums the runners of one connection across partitions).
   */
  readonly onOpenWindows?: (count: number) => void;
  /**
   * Whether the spool is still filling with the backlog as of the start (cluster mode: a partition
   * log still reading its backlog from Kafka). Until it says false, the runner is catching up
   * whatever its reads return. Absent: the backlog is all there at once (the local spool).
   */
  readonly spoolCatchingUp?: () => boolean;
}

/** The runner's own tuning, where the options leave it out (not settings a user sets). */
const RUNNER_DEFAULTS = {
  readLimit: 500,
  maxPendingBatches: 10_000,
  maxPendingBytes: 32 * 1024 * 1024,
  pollIntervalMs: 500,
} as const;

export class ConnectionRunner {
  readonly #options: ConnectionRunnerOptions;
  readonly #tuning: Required<Pick<ConnectionRunnerOptions, keyof typeof RUNNER_DEFAULTS>>;
  readonly #name: string;
  readonly #mode: ForwardingMode;
  readonly #clock: () => number;
  readonly #logger: Logger;
  readonly #windows: WindowDispatch | undefined;
  /** The record headers to set and the input they name; undefined when the output sets none. */
  readonly #headers: { readonly fields: readonly HeaderField[]; readonly input: string } | undefined;
  readonly #acks: AckBatcher;
  #cursor: bigint | null = null;
  #stopping = false;
  #reading: Promise<void> = Promise.resolve();
  /** Sleepers (the read loop, the window dispatch) woken by notify() and by settled units. */
  readonly #waiters = new Set<() => void>();
  #pendingBatches = 0;
  #pendingBytes = 0;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: ConnectionRunnerOptions) {
    this.#options = options;
    this.#tuning = {
      readLimit: options.readLimit ?? RUNNER_DEFAULTS.readLimit,
      maxPendingBatches: options.maxPendingBatches ?? RUNNER_DEFAULTS.maxPendingBatches,
      maxPendingBytes: options.maxPendingBytes ?? RUNNER_DEFAULTS.maxPendingBytes,
      pollIntervalMs: options.pollIntervalMs ?? RUNNER_DEFAULTS.pollIntervalMs,
    };
    this.#name = options.connection.name;
    const headerFields = options.headerFields ?? [];
    this.#headers = headerFields.length === 0 ? undefined : { fields: headerFields, input: options.connection.input };
    this.#mode = forwardingModeOf(options.connection.settings);
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger.child({ connection: this.#name, output: options.sink.output });
    if (this.#mode !== 'per-event') {
      this.#windows = new WindowDispatch(this.#mode, {
        spool: options.spool,
        settings: options.connection.settings,
        maxRecordBytes: options.maxRecordBytes,
        keyField: options.keyField ?? 'mpid',
        headers: this.#headers,
        logger: this.#logger,
        clock: this.#clock,
        readable: (record) => this.#parse(record),
        dispatch: (unit) => this.#dispatch(unit),
        room: () => this.#room(),
        deadLetter: (seqs, reason) => this.#deadLetter(seqs, reason),
        onOpenWindows:
          options.onOpenWindows ?? ((count) => options.metrics.openWindows.set({ connection: this.#name }, count)),
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
    return this.#windows?.openWindows ?? 0;
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
    this.#windows?.stop();
    // The due windows must reach the sink before it closes; they may wait for room (pending
    // acknowledgements), so not for longer than the deadline.
    const processing = this.#windows?.processing;
    if (processing !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([processing, new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
      clearTimeout(timer);
    }
  }

  /**
   * Second half: resolves once every record handed to the sink is settled and its ack written, or
   * once deadlineMs has passed: acks the spool still cannot take (a failing disk) are then given up
   * on, and their batches are sent again at the next start.
   */
  async settled(deadlineMs = Number.POSITIVE_INFINITY): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      if (Number.isFinite(deadlineMs)) timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    try {
      const settling = (async () => {
        for (;;) {
          const processing = this.#windows?.processing;
          if (processing !== undefined) await processing;
          else if (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
          else break;
        }
        await this.#acks.flush();
      })();
      if ((await Promise.race([settling, deadline])) === 'late') {
        const left = this.#acks.abandon();
        if (left > 0)
          this.#logger.error({ acks: left }, 'shutdown deadline passed with acknowledgements not yet recorded');
        await Promise.race([settling, new Promise((resolve) => setTimeout(resolve, 1000))]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async close(deadlineMs?: number): Promise<void> {
    await this.stop(deadlineMs);
    await this.settled(deadlineMs);
  }

  // --- reading and backpressure --------------------------------------------------------------

  async #readLoop(): Promise<void> {
    const { readLimit, pollIntervalMs } = this.#tuning;
    const { spool } = this.#options;
    // Catching up (after a restart, the backlog in the spool): windows are not closed by the
    // wall clock until the backlog as of the start has been read, or an old window would be
    // closed before its later batches, further down the spool, were read, and sent split in two.
    // add() still closes a window once a batch arrives past its due time (by receipt time).
    const startedAtMs = this.#clock();
    let catchingUp = true;
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
      const filling = this.#options.spoolCatchingUp?.() ?? false;
      if (records.length === 0) {
        if (catchingUp && !filling) {
          catchingUp = false;
          this.#windows?.closeDue();
        }
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
          this.#deadLetter([record.seq], deadLetterReason('UNPROCESSABLE_BATCH', { reason: (error as Error).message }));
        }
      }
      if (catchingUp) {
        const last = records[records.length - 1];
        catchingUp = filling || (records.length >= readLimit && last.receivedAtMs < startedAtMs);
      }
      if (!catchingUp) this.#windows?.closeDue();
    }
  }

  #atCapacity(): boolean {
    return this.#pendingBatches >= this.#tuning.maxPendingBatches || this.#pendingBytes >= this.#tuning.maxPendingBytes;
  }

  /** Resolves once fewer than the maximum batches and bytes are pending. */
  async #room(): Promise<void> {
    while (this.#atCapacity()) await this.#sleep(this.#tuning.pollIntervalMs);
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
      if (count === 0) continue;
      this.#options.metrics.eventsFiltered.inc({ connection: this.#name, reason }, count);
      this.#logger.debug({ seq: String(record.seq), events: count, reason }, 'events filtered out');
    }
    if (result.batch === null) {
      this.#acks.add(record.seq, record.receivedAtMs);
      return;
    }
    if (this.#windows !== undefined) {
      this.#windows.add(record, inbound, result.batch);
      return;
    }
    const built = buildRecords(
      result.batch,
      { seqs: [record.seq] },
      {
        maxRecordBytes: this.#options.maxRecordBytes,
        perEvent: true,
        keyField: this.#options.keyField,
        headers: this.#headers,
        topicByEventType: this.#options.topicByEventType,
      },
    );
    this.#dispatch({ batches: [record], records: built.records, oversized: built.oversized });
  }

  #parse(record: SpoolRecord): JsonObject | undefined {
    let value;
    try {
      value = parseJson(record.payload);
    } catch (error) {
      this.#deadLetter(
        [record.seq],
        deadLetterReason('UNREADABLE_BATCH', { what: `valid JSON (${(error as Error).message})` }),
      );
      return undefined;
    }
    if (!isJsonObject(value)) {
      this.#deadLetter([record.seq], deadLetterReason('UNREADABLE_BATCH', { what: 'a JSON object' }));
      return undefined;
    }
    return value;
  }

  // --- sending and settling ------------------------------------------------------------------

  /** Hands the records to the sink now (so the sink sees them in this call order) and settles later. */
  #dispatch(unit: Unit): void {
    let bytes = 0;
    for (const record of unit.records) bytes += record.value.length;
    const batches = unit.batches.length;
    this.#pendingBatches += batches;
    this.#pendingBytes += bytes;
    const outcomes: Promise<RecordOutcome[]> =
      unit.records.length === 0
        ? Promise.resolve([])
        : Promise.all(unit.records.map((r) => this.#options.sink.send(r)));
    const settling = outcomes
      .then((results) => this.#settle(unit, results))
      .catch((error: unknown) => this.#logger.error({ err: error }, 'settling sent records failed'))
      .finally(() => {
        this.#inFlight.delete(settling);
        this.#pendingBatches -= batches;
        this.#pendingBytes -= bytes;
        this.#wakeAll();
      });
    this.#inFlight.add(settling);
  }

  /** Writes what the settle policy decides: acknowledgements, then dead letters. */
  async #settle(unit: Unit, outcomes: RecordOutcome[]): Promise<void> {
    const settlement = settlementOf(unit, outcomes);
    if (settlement === undefined) return;
    for (const batch of settlement.acked) this.#acks.add(batch.seq, batch.receivedAtMs);
    for (const { seq, reason, payload } of settlement.deadLetters) await this.#deadLetterNow([seq], reason, payload);
  }

  #deadLetter(seqs: readonly bigint[], reason: string): void {
    const writing = this.#deadLetterNow(seqs, reason).finally(() => this.#inFlight.delete(writing));
    this.#inFlight.add(writing);
  }

  async #deadLetterNow(seqs: readonly bigint[], reason: string, payload?: Buffer): Promise<void> {
    for (const seq of seqs) {
      let id: number | null;
      try {
        id = await this.#options.spool.deadLetter(this.#name, seq, reason, payload);
      } catch (error) {
        this.#logger.error({ err: error, seq: String(seq) }, 'could not move a batch to the dead letters');
        continue;
      }
      if (id === null) continue;
      // Reasons start with the error code ("RECORD_TOO_LARGE: ..."): a label of bounded cardinality.
      const code = /^[A-Z_]+/.exec(reason)?.[0] ?? 'UNKNOWN';
      this.#options.metrics.deadLettered.inc({ connection: this.#name, code });
      this.#logger.warn({ seq: String(seq), reason }, 'batch moved to the dead letters');
    }
  }
}
