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
// acknowledged at once, and any other once every record made from it is acknowledged. Events
// Kafka will never take (too large even alone, or rejected by the broker as invalid) send only
// the batches that hold them to the dead letters, with the reason, each holding just its refused
// events when others of it were delivered; the other batches of the window are acknowledged.
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
import { parseJson, stringifyJson } from '../format/index.ts';
import { buildRecords, type BuiltRecords, type OutgoingRecord } from '../sinks/kafka/index.ts';
import { eventIdsOf } from '../sinks/kafka/index.ts';
import type { RecordOutcome, RecordSink } from '../sinks/kafka/index.ts';
import type { Spool, SpoolRecord } from '../spool/index.ts';
import type { Logger } from '../telemetry/index.ts';
import type { Metrics } from '../telemetry/index.ts';
import { AckBatcher } from './connection-acks.ts';
import { FILTER_REASONS } from './event-types.ts';
import { mergeSessionWindow, mergeWindow } from './merge-window.ts';
import { messageIdFor } from './message-id.ts';
import { buildOutgoingBatch, forwardingModeOf, splitPerEvent, type ForwardingMode } from './outgoing-batch.ts';
import { windowEntryOf, Windower, type ClosedWindow } from './windows.ts';

export interface ConnectionRunnerOptions {
  readonly connection: ConnectionConfig;
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
  /**
   * Of a unit of several batches (a window): the batch (seq) each event came from, by message_id,
   * so that a refused event dead-letters its own batch only.
   */
  readonly eventSeqs?: ReadonlyMap<string, bigint>;
  /** Set when some events cannot be sent at all (too large even alone): why, and which. */
  readonly localRejection?: { readonly reason: string; readonly eventIds: readonly string[] };
}

/** A batch to dead-letter: why, and which of its events (all of them when undefined). */
interface Refusal {
  readonly reasons: Set<string>;
  eventIds: Set<string> | undefined;
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
        maxRecordBytes: options.maxRecordBytes,
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
          if (this.#windowsProcessing !== undefined) await this.#windowsProcessing;
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

  // --- reading -------------------------------------------------------------------------------

  async #readLoop(): Promise<void> {
    const { spool, readLimit = 500, pollIntervalMs = 500 } = this.#options;
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
      if (records.length === 0) {
        if (catchingUp) {
          catchingUp = false;
          if (this.#windower !== undefined) this.#closeDueWindows();
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
        catchingUp = records.length >= readLimit && last.receivedAtMs < startedAtMs;
      }
      if (this.#windower !== undefined && !catchingUp) this.#closeDueWindows();
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
      const events = splitPerEvent(result.batch);
      const built = events.map((batch) => buildRecords(batch, this.#options.maxRecordBytes));
      this.#dispatch({
        seqs: [record.seq],
        receivedAtMs: [record.receivedAtMs],
        records: built.flatMap((b) => b.records),
        localRejection: this.#localRejection(events, built),
      });
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
          this.#deadLetter(window.seqs, deadLetterReason('UNPROCESSABLE_BATCH', { reason: (error as Error).message }));
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
    const eventSeqs = new Map<string, bigint>();
    for (const seq of window.seqs) {
      const record = bySeq.get(seq);
      if (record === undefined) continue; // already acknowledged or dead-lettered
      const inbound = this.#parse(record);
      if (inbound === undefined) continue;
      seqs.push(seq);
      receivedAt.push(record.receivedAtMs);
      const { batch } = buildOutgoingBatch(inbound, record, this.#options.connection.settings);
      if (batch === null) continue;
      batches.push(batch);
      for (const id of eventIdsOfBatch(batch)) eventSeqs.set(id, seq);
    }
    if (seqs.length === 0) return;
    const merged = (this.#mode === 'session' ? mergeSessionWindow(batches) : [mergeWindow(batches)]).filter(
      (batch) => batch !== null,
    );
    const built = merged.map((batch) => buildRecords(batch, this.#options.maxRecordBytes));
    this.#dispatch({
      seqs,
      receivedAtMs: receivedAt,
      records: built.flatMap((b) => b.records),
      eventSeqs,
      localRejection: this.#localRejection(merged, built),
    });
  }

  /** Which events of these batches buildRecords found too large even alone, and why, if any. */
  #localRejection(batches: readonly JsonObject[], built: readonly BuiltRecords[]): Unit['localRejection'] {
    const oversized = built.flatMap((b) => b.oversized);
    if (oversized.length === 0) return undefined;
    const limit = this.#options.maxRecordBytes;
    const eventIds = batches.flatMap((batch, index) =>
      built[index].oversized.length > 0 ? oversizedEventIds(batch, limit) : [],
    );
    return { reason: oversizedReason(oversized), eventIds };
  }

  // --- sending and settling ------------------------------------------------------------------

  /** Hands the records to the sink now (so the sink sees them in this call order) and settles later. */
  #dispatch(unit: Omit<Unit, 'bytes'>): void {
    let bytes = 0;
    for (const record of unit.records) bytes += record.value.length;
    const batches = unit.seqs.length;
    this.#pendingBatches += batches;
    this.#pendingBytes += bytes;
    const outcomes =
      unit.records.length === 0
        ? Promise.resolve([])
        : Promise.all(unit.records.map((r) => this.#options.sink.send(r)));
    const settling = outcomes
      .then((results) => this.#settle({ ...unit, bytes }, results))
      .catch((error: unknown) => this.#logger.error({ err: error }, 'settling sent records failed'))
      .finally(() => {
        this.#inFlight.delete(settling);
        this.#pendingBatches -= batches;
        this.#pendingBytes -= bytes;
        this.#wakeAll();
      });
    this.#inFlight.add(settling);
  }

  /**
   * A batch is acknowledged once every record made from it is acked; a batch holding an event
   * that Kafka refused (or that is too large even alone) goes to the dead letters, holding just
   * its refused events (the others were delivered); the unit's other batches are acknowledged.
   * If any record was aborted (the sink stopped first), the whole unit stays in the spool.
   */
  async #settle(unit: Unit, outcomes: RecordOutcome[]): Promise<void> {
    if (outcomes.some((outcome) => outcome.status === 'aborted')) return;
    const refused = new Map<bigint, Refusal>();
    const refuse = (reason: string, eventIds: readonly string[] | undefined): void => {
      // Events that cannot be traced to a batch (or a record without events) refuse the whole unit.
      const traced = eventIds?.map((id) => [id, this.#seqOfEvent(unit, id)] as const);
      const all = traced === undefined || traced.length === 0 || traced.some(([, seq]) => seq === undefined);
      for (const [id, seq] of all ? unit.seqs.map((s) => [undefined, s] as const) : traced) {
        if (seq === undefined) continue;
        let refusal = refused.get(seq);
        if (refusal === undefined) refused.set(seq, (refusal = { reasons: new Set(), eventIds: new Set() }));
        refusal.reasons.add(reason);
        if (id === undefined) refusal.eventIds = undefined;
        else refusal.eventIds?.add(id);
      }
    };
    if (unit.localRejection !== undefined) refuse(unit.localRejection.reason, unit.localRejection.eventIds);
    outcomes.forEach((outcome, index) => {
      if (outcome.status !== 'rejected') return;
      refuse(`${outcome.code}: ${outcome.reason}`, outcome.rejectedEventIds ?? eventIdsOf(unit.records[index]));
    });
    for (let i = 0; i < unit.seqs.length; i++) {
      if (!refused.has(unit.seqs[i])) this.#acks.add(unit.seqs[i], unit.receivedAtMs[i]);
    }
    for (const [seq, refusal] of refused) await this.#deadLetterRefused(seq, refusal);
  }

  #seqOfEvent(unit: Unit, messageId: string): bigint | undefined {
    return unit.seqs.length === 1 ? unit.seqs[0] : unit.eventSeqs?.get(messageId);
  }

  /** Dead-letters the batch; when only some of its events were refused, the dead letter holds just those. */
  async #deadLetterRefused(seq: bigint, refusal: Refusal): Promise<void> {
    let reason = [...refusal.reasons].join('; ');
    let payload: Buffer | undefined;
    if (refusal.eventIds !== undefined) {
      try {
        const [stored] = await this.#options.spool.get([seq]);
        const inbound = stored === undefined ? undefined : parseJson(stored.payload);
        if (stored !== undefined && isJsonObject(inbound) && Array.isArray(inbound.events)) {
          const ids = refusal.eventIds;
          const kept = inbound.events.filter((_, index) => ids.has(messageIdFor(stored.batchId, index)));
          if (kept.length > 0 && kept.length < inbound.events.length) {
            payload = Buffer.from(stringifyJson({ ...inbound, events: kept }), 'utf8');
            reason += ` (${inbound.events.length - kept.length} of the batch's ${inbound.events.length} events were delivered; the dead letter holds the ${kept.length} refused)`;
          }
        }
      } catch (error) {
        this.#logger.warn({ err: error, seq: String(seq) }, 'could not narrow a dead letter to its refused events');
      }
    }
    await this.#deadLetterNow([seq], reason, payload);
  }

  #deadLetter(seqs: readonly bigint[], reason: string): void {
    const writing = this.#deadLetterNow(seqs, reason).finally(() => this.#inFlight.delete(writing));
    this.#inFlight.add(writing);
  }

  async #deadLetterNow(seqs: readonly bigint[], reason: string, payload?: Buffer): Promise<void> {
    for (const seq of seqs) {
      try {
        await this.#options.spool.deadLetter(this.#name, seq, reason, payload);
      } catch (error) {
        this.#logger.error({ err: error, seq: String(seq) }, 'could not move a batch to the dead letters');
        continue;
      }
      this.#logger.warn({ seq: String(seq), reason }, 'batch moved to the dead letters');
    }
  }
}

/** The message_ids of an outgoing batch's events. */
function eventIdsOfBatch(batch: JsonObject): string[] {
  if (!Array.isArray(batch.events)) return [];
  return batch.events.flatMap((event) =>
    isJsonObject(event) && typeof event.message_id === 'string' ? [event.message_id] : [],
  );
}

/** The events of the batch that do not fit a record even alone (the rule of buildRecords). */
function oversizedEventIds(batch: JsonObject, limit: number): string[] {
  if (!Array.isArray(batch.events)) return [];
  const baseBytes = Buffer.byteLength(stringifyJson({ ...batch, events: [] }), 'utf8');
  return batch.events.flatMap((event) =>
    isJsonObject(event) &&
    typeof event.message_id === 'string' &&
    baseBytes + Buffer.byteLength(stringifyJson(event), 'utf8') > limit
      ? [event.message_id]
      : [],
  );
}

function oversizedReason(oversized: readonly { bytes: number; limit: number }[]): string {
  return deadLetterReason('RECORD_TOO_LARGE', {
    count: oversized.length,
    largest: Math.max(...oversized.map((o) => o.bytes)),
    limit: oversized[0].limit,
  });
}
