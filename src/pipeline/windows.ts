// The window index behind "Send as Batch" and "Wait for Complete Batch".
//
// Send as Batch (mode 'device-window'): a device's batches are gathered for `batchWindowMs`
// from the arrival of the window's first batch, then sent as one outgoing batch.
// Wait for Complete Batch (mode 'session'; it overrides Send as Batch): a device's batches are
// held until one carries a session_end event, or until `sessionTimeoutMs` has passed since the
// window's last batch arrived, then sent (split into one batch per session by mergeSessionWindow).
// In both modes a window is cut early, before its merged record could pass the topic's
// max.message.bytes.
//
// Memory: the batches themselves wait on disk in the spool. This index holds only a little
// metadata per open window (the spool seqs of its batches, a byte estimate, counts and times),
// so 100,000 open windows holding 1,000,000 batches cost tens of megabytes, not gigabytes
// (`node bench/pipeline.ts` prints the figure). To keep it small: seqs live in a shared pool
// (seq-pool.ts) rather than an array per window; times are kept as offsets from the first
// receipt time seen, which stay small integers (no boxed doubles) for 24 days; and each key
// is copied into a flat string when its window opens, so the index never pins a larger string
// (a request body) that the key was sliced or concatenated from.
//
// Determinism: what windows form depends only on the entries and their order, never on when
// `due()` happens to be called, because `add()` itself closes a window that was already due at
// the new entry's receipt time. So a restart, re-adding the spool's
// unacknowledged batches in seq order, reproduces the windows that were open (or closed but not
// yet acknowledged) before it.
import { batchMpid, int64ToString } from '../format/index.ts';
import type { JsonObject } from '../format/index.ts';
import { isJsonObject } from '../format/index.ts';
import { DueHeap } from './due-heap.ts';
import { NO_SLOT, SeqPool } from './seq-pool.ts';

export type WindowMode = 'device-window' | 'session';

/** One spooled batch, as the index sees it. */
export interface WindowEntry {
  /** The spool record's sequence number. */
  readonly seq: bigint;
  /** The window the batch belongs to (see `windowKeyOf`); null: a window of its own, sent at once. */
  readonly windowKey: string | null;
  /** The size of the batch's outgoing JSON, in bytes (an upper bound on its share of the merged record). */
  readonly bytes: number;
  /** Events in the outgoing batch. */
  readonly eventCount: number;
  /** Whether the outgoing batch holds a session_end event. */
  readonly hasSessionEnd: boolean;
  /** When the spool accepted the batch (ms since the epoch). */
  readonly receivedAtMs: number;
}

export type CloseReason =
  /** The next batch would have made the merged record too large (or this one alone is). */
  | 'size'
  /** Send as Batch: batchWindowMs passed since the window opened. */
  | 'window_elapsed'
  /** Wait for Complete Batch: a batch with a session_end event arrived. */
  | 'session_end'
  /** Wait for Complete Batch: sessionTimeoutMs passed since the window's last batch. */
  | 'session_timeout'
  /** The batch has neither mp_deviceid nor MPID, so nothing can join it. */
  | 'no_device';

/** A window ready to send: read `seqs` from the spool, build and merge, send, then acknowledge them. */
export interface ClosedWindow {
  readonly windowKey: string | null;
  /** Spool seqs of its batches, in the order they were added (arrival order). */
  readonly seqs: readonly bigint[];
  readonly bytes: number;
  readonly eventCount: number;
  readonly openedAtMs: number;
  readonly lastReceivedAtMs: number;
  readonly reason: CloseReason;
}

export interface WindowerOptions {
  readonly mode: WindowMode;
  /** Send as Batch window length (ConnectionSettings.batchWindowMs). */
  readonly batchWindowMs: number;
  /** Wait for Complete Batch timeout (ConnectionSettings.sessionTimeoutMs). */
  readonly sessionTimeoutMs: number;
  /** Largest record value the sink sends (the output's KafkaOutputSettings.maxRecordBytes): a window is cut before its merged batch passes it. */
  readonly maxRecordBytes: number;
}

/** An open window. Times are offsets (ms) from the Windower's epoch. */
interface OpenWindow {
  readonly key: string;
  /** First and last slot of its seq chain in the pool. */
  head: number;
  tail: number;
  batches: number;
  bytes: number;
  eventCount: number;
  readonly openedAt: number;
  lastReceivedAt: number;
  dueAt: number;
  heapIndex: number;
}

/** A flat copy of a string: never a slice or concatenation that keeps a larger string alive. */
function flatCopy(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

export class Windower {
  readonly #mode: WindowMode;
  readonly #batchWindowMs: number;
  readonly #sessionTimeoutMs: number;
  readonly #byteBudget: number;
  readonly #open = new Map<string, OpenWindow>();
  readonly #heap = new DueHeap<OpenWindow>();
  readonly #seqs = new SeqPool();
  /** The origin of the stored time offsets: the first receipt time added since the last reset. */
  #epochMs: number | undefined;
  #heldBatches = 0;
  #heldEvents = 0;
  #heldBytes = 0;

  constructor(options: WindowerOptions) {
    this.#mode = options.mode;
    this.#batchWindowMs = options.batchWindowMs;
    this.#sessionTimeoutMs = options.sessionTimeoutMs;
    this.#byteBudget = options.maxRecordBytes;
  }

  /** Open windows. */
  get openWindows(): number {
    return this.#open.size;
  }

  /** Whether a window is open for this key. */
  isOpen(windowKey: string): boolean {
    return this.#open.has(windowKey);
  }

  /** Batches waiting in open windows. */
  get heldBatches(): number {
    return this.#heldBatches;
  }

  /** Events waiting in open windows. */
  get heldEvents(): number {
    return this.#heldEvents;
  }

  /** Outgoing bytes waiting in open windows. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** When the next window falls due (for the caller's timer), or undefined when none is open. */
  nextDueAtMs(): number | undefined {
    const next = this.#heap.peek();
    return next === undefined ? undefined : this.#toMs(next.dueAt);
  }

  /**
   * Adds a spooled batch to its window. Returns the windows this closes now, in send order:
   * the device's previous window when it was already due at this batch's receipt time or
   * would grow too large with it; then this batch's window when the batch alone is too large,
   * holds a session_end (session mode), or has no device.
   */
  add(entry: WindowEntry): ClosedWindow[] {
    const closed: ClosedWindow[] = [];
    if (entry.windowKey === null) {
      closed.push(singleBatchWindow(entry, 'no_device'));
      return closed;
    }
    this.#epochMs ??= entry.receivedAtMs;
    const receivedAt = entry.receivedAtMs - this.#epochMs;
    let window = this.#open.get(entry.windowKey);
    if (window !== undefined && receivedAt >= window.dueAt) {
      closed.push(this.#close(window, this.#timeReason()));
      window = undefined;
    }
    if (window !== undefined && window.bytes + entry.bytes > this.#byteBudget) {
      closed.push(this.#close(window, 'size'));
      window = undefined;
    }
    if (window === undefined) {
      window = {
        key: flatCopy(entry.windowKey),
        head: NO_SLOT,
        tail: NO_SLOT,
        batches: 0,
        bytes: 0,
        eventCount: 0,
        openedAt: receivedAt,
        lastReceivedAt: receivedAt,
        dueAt: 0,
        heapIndex: -1,
      };
      window.dueAt = this.#dueAt(window);
      this.#open.set(window.key, window);
      this.#heap.push(window);
    }
    window.tail = this.#seqs.append(window.tail, entry.seq);
    if (window.head === NO_SLOT) window.head = window.tail;
    window.batches++;
    window.bytes += entry.bytes;
    window.eventCount += entry.eventCount;
    this.#heldBatches++;
    this.#heldEvents += entry.eventCount;
    this.#heldBytes += entry.bytes;
    if (receivedAt > window.lastReceivedAt) {
      window.lastReceivedAt = receivedAt;
      if (this.#mode === 'session') {
        window.dueAt = this.#dueAt(window);
        this.#heap.update(window);
      }
    }
    if (window.bytes > this.#byteBudget) closed.push(this.#close(window, 'size'));
    else if (this.#mode === 'session' && entry.hasSessionEnd) closed.push(this.#close(window, 'session_end'));
    return closed;
  }

  /** Closes and returns the windows due at `nowMs`, earliest first. */
  due(nowMs: number): ClosedWindow[] {
    const closed: ClosedWindow[] = [];
    if (this.#epochMs === undefined) return closed;
    const now = nowMs - this.#epochMs;
    const reason = this.#timeReason();
    for (let next = this.#heap.peek(); next !== undefined && next.dueAt <= now; next = this.#heap.peek()) {
      closed.push(this.#close(next, reason));
    }
    return closed;
  }

  /**
   * Shutdown: returns the windows already due at `nowMs` (send them before exiting), and
   * forgets the rest without sending them. Their batches stay unacknowledged in the spool and
   * re-adding them in seq order reforms the same windows on the next start, so a restart neither splits a
   * window early nor loses one.
   */
  drainAll(nowMs: number): ClosedWindow[] {
    const closed = this.due(nowMs);
    this.#reset();
    return closed;
  }

  #timeReason(): CloseReason {
    return this.#mode === 'session' ? 'session_timeout' : 'window_elapsed';
  }

  #dueAt(window: OpenWindow): number {
    return this.#mode === 'session'
      ? window.lastReceivedAt + this.#sessionTimeoutMs
      : window.openedAt + this.#batchWindowMs;
  }

  #toMs(offset: number): number {
    return (this.#epochMs ?? 0) + offset;
  }

  #close(window: OpenWindow, reason: CloseReason): ClosedWindow {
    this.#heap.remove(window);
    this.#open.delete(window.key);
    this.#heldBatches -= window.batches;
    this.#heldEvents -= window.eventCount;
    this.#heldBytes -= window.bytes;
    return {
      windowKey: window.key,
      seqs: this.#seqs.release(window.head, window.tail),
      bytes: window.bytes,
      eventCount: window.eventCount,
      openedAtMs: this.#toMs(window.openedAt),
      lastReceivedAtMs: this.#toMs(window.lastReceivedAt),
      reason,
    };
  }

  #reset(): void {
    this.#heap.clear();
    this.#open.clear();
    this.#seqs.clear();
    this.#epochMs = undefined;
    this.#heldBatches = 0;
    this.#heldEvents = 0;
    this.#heldBytes = 0;
  }
}

function singleBatchWindow(entry: WindowEntry, reason: CloseReason): ClosedWindow {
  return {
    windowKey: entry.windowKey,
    seqs: [entry.seq],
    bytes: entry.bytes,
    eventCount: entry.eventCount,
    openedAtMs: entry.receivedAtMs,
    lastReceivedAtMs: entry.receivedAtMs,
    reason,
  };
}

/**
 * The window a batch belongs to: its device (`mp_deviceid`), else its user (MPID), else none
 * (null). The key also carries the MPID when there is a device id, so a window never mixes two
 * users of one device (one user per batch is mParticle's rule, and the merged record is keyed
 * by, and attributed to, a single MPID). Compute it from the inbound batch: the outgoing one
 * may have lost mp_deviceid to "Include MP DeviceId".
 */
export function windowKeyOf(inbound: JsonObject): string | null {
  const mpid = batchMpid(inbound);
  const user = mpid === undefined ? '' : int64ToString(mpid);
  const device = inbound.mp_deviceid;
  if (typeof device === 'string' && device !== '') return `d:${device}|u:${user}`;
  return user === '' ? null : `u:${user}`;
}

/** Whether a batch holds a session_end event (what closes a Wait for Complete Batch window). */
export function hasSessionEndEvent(batch: JsonObject): boolean {
  const events = batch.events;
  return Array.isArray(events) && events.some((event) => isJsonObject(event) && event.event_type === 'session_end');
}

/** The index entry for a spooled batch, from its inbound form, its outgoing form and that form's size. */
export function windowEntryOf(entry: {
  seq: bigint;
  receivedAtMs: number;
  inbound: JsonObject;
  outgoing: JsonObject;
  outgoingBytes: number;
}): WindowEntry {
  const events = entry.outgoing.events;
  return {
    seq: entry.seq,
    windowKey: windowKeyOf(entry.inbound),
    bytes: entry.outgoingBytes,
    eventCount: Array.isArray(events) ? events.length : 0,
    hasSessionEnd: hasSessionEndEvent(entry.outgoing),
    receivedAtMs: entry.receivedAtMs,
  };
}
