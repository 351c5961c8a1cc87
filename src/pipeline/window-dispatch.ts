// Send as Batch and Wait for Complete Batch, for one connection: batches are indexed in a
// Windower (metadata only, see windows.ts); when a window is due or cut, its batches are read back
// from the spool, rebuilt, merged (one record per window, or per session) and handed over as one
// unit, in the order the windows closed, so a device's next window never overtakes its previous
// one. A timer closes windows when they fall due.
import type { ConnectionSettings } from '../config/index.ts';
import { deadLetterReason } from '../errors.ts';
import type { JsonObject } from '../format/index.ts';
import { stringifyJson } from '../format/index.ts';
import { buildRecords } from '../sinks/kafka/index.ts';
import type { HeaderField, RecordKeyField } from '../sinks/kafka/index.ts';
import type { Spool, SpoolRecord } from '../spool/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { mergeSessionWindow, mergeWindow } from './merge-window.ts';
import { buildOutgoingBatch } from './outgoing-batch.ts';
import type { Unit } from './settle-policy.ts';
import { windowEntryOf, Windower, type ClosedWindow, type WindowMode } from './windows.ts';

/** What the dispatcher needs from its connection runner. */
export interface WindowHost {
  readonly spool: Pick<Spool, 'get'>;
  readonly settings: ConnectionSettings;
  readonly maxRecordBytes: number;
  readonly keyField: RecordKeyField;
  /** The record headers to set, and the input the connection reads; undefined for none. */
  readonly headers: { readonly fields: readonly HeaderField[]; readonly input: string } | undefined;
  readonly logger: Logger;
  readonly clock: () => number;
  /** The stored batch parsed, or undefined after it has been dead-lettered as unreadable. */
  readable(record: SpoolRecord): JsonObject | undefined;
  /** Hands a unit's records to the sink (in call order). */
  dispatch(unit: Unit): void;
  /** Resolves when there is room for another unit (backpressure). */
  room(): Promise<void>;
  deadLetter(seqs: readonly bigint[], reason: string): void;
  /** Open windows changed. */
  onOpenWindows(count: number): void;
}

/** Batches read from the spool with one spool.get, at most. */
const WINDOW_READ_SEQS = 2000;
const RETRY_READ_MS = 500;
/** The longest a due-window timer waits before it looks at the wall clock again. */
const RECHECK_CLOCK_MS = 1_000;

export class WindowDispatch {
  readonly #host: WindowHost;
  readonly #mode: WindowMode;
  readonly #windower: Windower;
  #closed: ClosedWindow[] = [];
  #processing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Fixed at start, so that the hot path costs one branch when debug is off. */
  readonly #debug: boolean;

  constructor(mode: WindowMode, host: WindowHost) {
    this.#host = host;
    this.#debug = host.logger.isLevelEnabled('debug');
    this.#mode = mode;
    this.#windower = new Windower({
      mode,
      batchWindowMs: host.settings.batchWindowMs,
      sessionTimeoutMs: host.settings.sessionTimeoutMs,
      maxRecordBytes: host.maxRecordBytes,
    });
  }

  get openWindows(): number {
    return this.#windower.openWindows;
  }

  /** Resolves once every closed window has been handed over (undefined when none is waiting). */
  get processing(): Promise<void> | undefined {
    return this.#processing;
  }

  /** Indexes a stored batch and its outgoing form; windows the batch closes are handed over. */
  add(record: SpoolRecord, inbound: JsonObject, outgoing: JsonObject): void {
    const entry = windowEntryOf({
      seq: record.seq,
      receivedAtMs: record.receivedAtMs,
      inbound,
      outgoing,
      outgoingBytes: Buffer.byteLength(stringifyJson(outgoing), 'utf8'),
    });
    if (!this.#debug) {
      this.#enqueue(this.#windower.add(entry));
      return;
    }
    const key = entry.windowKey;
    const wasOpen = key !== null && this.#windower.isOpen(key);
    const closed = this.#windower.add(entry);
    this.#enqueue(closed);
    if (key !== null && this.#windower.isOpen(key) && (!wasOpen || closed.some((window) => window.windowKey === key)))
      this.#host.logger.debug({ windowKey: key, mode: this.#mode, seq: String(record.seq) }, 'window opened');
  }

  /** Closes the windows due now, and sets the timer for the next one. */
  closeDue(): void {
    const windower = this.#windower;
    this.#enqueue(windower.due(this.#host.clock()));
    this.#host.onOpenWindows(windower.openWindows);
    clearTimeout(this.#timer);
    const next = windower.nextDueAtMs();
    if (next !== undefined && !this.#stopped) {
      // Due times are wall-clock times (a batch's receipt time plus the window), and a timer runs on
      // the monotonic clock: look at the wall clock at least once a second, so that windows close
      // on time after the wall clock jumps (or a controlled clock is moved on, in tests).
      const delay = Math.min(Math.max(0, next - this.#host.clock()), RECHECK_CLOCK_MS);
      this.#timer = setTimeout(() => this.closeDue(), delay);
    }
  }

  /**
   * A stop: windows already due are handed over; windows not yet due are forgotten (their batches
   * stay in the spool and the next start reforms them).
   */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#enqueue(this.#windower.drainAll(this.#host.clock()));
    this.#host.onOpenWindows(0);
  }

  #enqueue(closed: ClosedWindow[]): void {
    if (closed.length === 0) return;
    for (const window of closed) this.#closed.push(window);
    if (this.#debug) {
      for (const window of closed)
        this.#host.logger.debug(
          {
            windowKey: window.windowKey,
            reason: window.reason,
            batches: window.seqs.length,
            events: window.eventCount,
            bytes: window.bytes,
            openForMs: window.lastReceivedAtMs - window.openedAtMs,
          },
          'window closed',
        );
    }
    this.#processing ??= this.#process().finally(() => {
      this.#processing = undefined;
    });
  }

  /** Serial, so windows are handed over in the order they closed. */
  async #process(): Promise<void> {
    const host = this.#host;
    while (this.#closed.length > 0) {
      await host.room();
      const group = this.#take(WINDOW_READ_SEQS);
      let stored: SpoolRecord[];
      try {
        stored = await host.spool.get(group.flatMap((window) => window.seqs));
      } catch (error) {
        this.#closed.unshift(...group);
        host.logger.error({ err: error }, 'reading windowed batches from the spool failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, RETRY_READ_MS));
        continue;
      }
      const bySeq = new Map(stored.map((record) => [record.seq, record]));
      for (const window of group) {
        try {
          const unit = this.#unitOf(window, bySeq);
          if (unit !== undefined) host.dispatch(unit);
        } catch (error) {
          host.logger.error({ err: error }, 'a closed window could not be processed');
          host.deadLetter(window.seqs, deadLetterReason('UNPROCESSABLE_BATCH', { reason: (error as Error).message }));
        }
      }
    }
  }

  /** The oldest closed windows, up to maxSeqs batches in all (always at least one window). */
  #take(maxSeqs: number): ClosedWindow[] {
    let count = 0;
    let taken = 0;
    while (taken < this.#closed.length && (taken === 0 || count + this.#closed[taken].seqs.length <= maxSeqs)) {
      count += this.#closed[taken].seqs.length;
      taken++;
    }
    return this.#closed.splice(0, taken);
  }

  /** The window's batches rebuilt and merged into its record(s); undefined when none is left in the spool. */
  #unitOf(window: ClosedWindow, bySeq: ReadonlyMap<bigint, SpoolRecord>): Unit | undefined {
    const host = this.#host;
    const batches: SpoolRecord[] = [];
    const outgoing: JsonObject[] = [];
    const eventSeqs = new Map<string, bigint>();
    for (const seq of window.seqs) {
      const record = bySeq.get(seq);
      if (record === undefined) continue; // already acknowledged or dead-lettered
      const inbound = host.readable(record);
      if (inbound === undefined) continue;
      batches.push(record);
      const result = buildOutgoingBatch(inbound, record, host.settings);
      if (result.batch === null) continue;
      outgoing.push(result.batch);
      for (const id of result.messageIds) eventSeqs.set(id, seq);
    }
    if (batches.length === 0) return undefined;
    const merged = this.#mode === 'session' ? mergeSessionWindow(outgoing) : [mergeWindow(outgoing)];
    const origin = { seqs: batches.map((batch) => batch.seq), eventSeqs };
    const built = merged.flatMap((batch) =>
      batch === null
        ? []
        : [
            buildRecords(batch, origin, {
              maxRecordBytes: host.maxRecordBytes,
              keyField: host.keyField,
              headers: host.headers,
            }),
          ],
    );
    return {
      batches,
      records: built.flatMap((b) => b.records),
      oversized: built.flatMap((b) => b.oversized),
    };
  }
}
