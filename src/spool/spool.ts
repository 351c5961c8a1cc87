// The spool as the rest of the forwarder sees it: a promise API on the main thread, backed by a worker
// thread that owns the SQLite database (see store.ts and worker.ts). The main thread only copies payloads
// into messages; stats() answers synchronously from the snapshot the worker sends after each commit.
import { Worker } from 'node:worker_threads';
import { ForwarderError } from '../errors.ts';
import type { Request, Response, SerializedError, WorkerOptions, WorkerSnapshot } from './protocol.ts';
import type { AppendInput, DeadLetterRow, StoredRecord, WriteOp } from './store.ts';
import type {
  AppendItem,
  AppendResult,
  DeadLetter,
  DeadLetterSummary,
  Spool,
  SpoolLogger,
  SpoolOptions,
  SpoolRecord,
  SpoolRecovery,
  SpoolState,
  SpoolStats,
} from './types.ts';

const DEFAULT_DEAD_LETTER_PAGE = 100;

function deserialize(error: SerializedError): ForwarderError {
  return new ForwarderError(error.code, error.params);
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toRecord(record: StoredRecord): SpoolRecord {
  return {
    seq: record.seq,
    batchId: record.batchId,
    receivedAtMs: record.receivedAtMs,
    payload: toBuffer(record.payload),
  };
}

interface Call {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

class WorkerSpool implements Spool {
  recovery!: SpoolRecovery;
  readonly #worker: Worker;
  readonly #options: WorkerOptions;
  readonly #logger: SpoolLogger | undefined;
  readonly #clock: () => number;
  readonly #calls = new Map<number, Call>();
  #nextId = 0;
  #snapshot!: WorkerSnapshot;
  #closed = false;
  /** Set when close() begins: later calls are refused, since the worker closes its port after the close. */
  #closing = false;
  #closePromise: Promise<void> | null = null;
  #failure: ForwarderError | null = null;

  constructor(options: SpoolOptions) {
    this.#options = {
      dir: options.dir,
      maxBytes: options.maxBytes,
      highWaterRatio: options.highWaterRatio,
      dedupWindowMs: options.dedupWindowMs,
      minFreeDiskBytes: options.minFreeDiskBytes,
      inspectOnly: options.inspectOnly ?? false,
    };
    this.#logger = options.logger;
    this.#clock = options.clock ?? Date.now;
    // The worker is a sibling module: worker.ts when run from the sources, worker.js once built.
    const workerFile = import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js';
    this.#worker = new Worker(new URL(workerFile, import.meta.url), {
      workerData: this.#options,
      // The worker's garbage is short-lived row objects; a small young generation keeps its RSS down.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
  }

  /** Resolves once the worker has opened (and recovered) the database. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      let ready = false;
      this.#worker.on('message', (message: Response) => {
        switch (message.type) {
          case 'ready':
            ready = true;
            this.recovery = message.recovery;
            this.#snapshot = message.snapshot;
            this.#worker.unref();
            resolve();
            return;
          case 'openFailed':
            ready = true;
            this.#closed = true;
            reject(deserialize(message.error));
            return;
          case 'snapshot':
            this.#snapshot = message.snapshot;
            return;
          case 'warn':
            this.#logger?.warn(message.obj, message.msg);
            return;
          case 'reply':
            this.#settle(message);
            return;
        }
      });
      this.#worker.on('error', (error) => this.#fail(error));
      this.#worker.on('exit', (code) => {
        if (!ready)
          reject(new ForwarderError('SPOOL_UNAVAILABLE', { reason: `the spool worker exited with code ${code}` }));
        if (!this.#closed && !this.#closing) this.#fail(new Error(`the spool worker exited with code ${code}`));
      });
    });
  }

  get state(): SpoolState {
    if (this.#closed || this.#failure !== null || this.#snapshot.writeError !== null) return 'unavailable';
    return this.#snapshot.full ? 'full' : 'ok';
  }

  isAboveHighWater(): boolean {
    return this.#snapshot.full;
  }

  stats(): SpoolStats {
    const snapshot = this.#snapshot;
    return {
      state: this.state,
      records: snapshot.records,
      bytes: snapshot.bytes,
      fullReason: snapshot.fullReason,
      diskFreeBytes: snapshot.diskFreeBytes,
      minFreeDiskBytes: this.#options.minFreeDiskBytes,
      maxBytes: this.#options.maxBytes,
      highWaterBytes: Math.floor(this.#options.maxBytes * this.#options.highWaterRatio),
      oldestAgeMs: snapshot.oldestReceivedAtMs === null ? 0 : Math.max(0, this.#clock() - snapshot.oldestReceivedAtMs),
      backlog: { ...snapshot.backlog },
      deadLetters: snapshot.deadLetters,
      deadLetterBytes: snapshot.deadLetterBytes,
      deadLettersByDestination: { ...snapshot.deadLettersByDestination },
      dedupKeys: snapshot.dedupKeys,
      dedupBytes: snapshot.dedupBytes,
      commits: snapshot.commits,
      appendCalls: snapshot.appendCalls,
      corruptRecords: snapshot.corruptRecords,
    };
  }

  async append(items: readonly AppendItem[]): Promise<AppendResult[]> {
    if (items.length === 0) return [];
    const transfer: ArrayBuffer[] = [];
    const inputs: AppendInput[] = items.map((item) => {
      if (item.destinations.length === 0)
        throw new TypeError('spool.append: every item needs at least one destination');
      // Copy exactly the payload's bytes: posting a Buffer that views a larger body (or Node's buffer pool)
      // would clone the whole underlying ArrayBuffer. The copy is then transferred, not cloned again.
      const payload = new Uint8Array(item.payload);
      transfer.push(payload.buffer);
      return { payload, destinations: [...item.destinations], dedupKey: item.dedupKey };
    });
    return (await this.#write({ op: 'append', items: inputs, now: this.#clock() }, transfer)) as AppendResult[];
  }

  async read(destination: string, afterSeq: bigint | null, limit: number): Promise<SpoolRecord[]> {
    const records = (await this.#call({ id: 0, kind: 'read', destination, afterSeq, limit })) as StoredRecord[];
    return records.map(toRecord);
  }

  async get(seqs: readonly bigint[]): Promise<SpoolRecord[]> {
    if (seqs.length === 0) return [];
    const records = (await this.#call({ id: 0, kind: 'get', seqs: [...seqs] })) as StoredRecord[];
    return records.map(toRecord);
  }

  async ack(destination: string, seqs: readonly bigint[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.#write({ op: 'ack', destination, seqs: [...seqs] });
  }

  async deadLetter(destination: string, seq: bigint, reason: string, payload?: Buffer): Promise<number | null> {
    const copy = payload === undefined ? undefined : new Uint8Array(payload);
    const op: WriteOp = { op: 'deadLetter', destination, seq, reason, payload: copy, now: this.#clock() };
    return (await this.#write(op, copy === undefined ? [] : [copy.buffer])) as number | null;
  }

  async listDeadLetters(
    destination?: string,
    limit = DEFAULT_DEAD_LETTER_PAGE,
    afterId = 0,
  ): Promise<DeadLetterSummary[]> {
    return (await this.#call({ id: 0, kind: 'listDeadLetters', destination, limit, afterId })) as DeadLetterRow[];
  }

  async showDeadLetter(id: number): Promise<DeadLetter | null> {
    const row = (await this.#call({ id: 0, kind: 'showDeadLetter', deadLetterId: id })) as DeadLetterRow | null;
    if (row === null) return null;
    return { ...row, payload: toBuffer(row.payload!) };
  }

  async replayDeadLetter(id: number): Promise<{ seq: bigint } | null> {
    return (await this.#write({ op: 'replay', id })) as { seq: bigint } | null;
  }

  async deleteDeadLetter(id: number): Promise<boolean> {
    return (await this.#write({ op: 'deleteDeadLetter', id })) as boolean;
  }

  async dropDestination(destination: string): Promise<number> {
    return (await this.#write({ op: 'dropDestination', destination })) as number;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closePromise ??= this.#shutDown();
    return this.#closePromise;
  }

  async #shutDown(): Promise<void> {
    // Calls posted before this point are answered first: the worker handles messages in order, and
    // commits the writes it holds before it closes the database.
    const closed = this.#call({ id: 0, kind: 'close' });
    this.#closing = true;
    try {
      await closed;
    } finally {
      this.#closed = true;
      await this.#worker.terminate();
    }
  }

  #write(write: WriteOp, transfer: ArrayBuffer[] = []): Promise<unknown> {
    return this.#call({ id: 0, kind: 'write', write }, transfer);
  }

  #call(request: Request, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.#closed || this.#closing) return Promise.reject(new ForwarderError('SPOOL_CLOSED'));
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      // Keep the process alive only while the worker owes us an answer.
      if (this.#calls.size === 1) this.#worker.ref();
      this.#worker.postMessage({ ...request, id }, transfer);
    });
  }

  #settle(message: Extract<Response, { type: 'reply' }>): void {
    const call = this.#calls.get(message.id);
    if (call === undefined) return;
    this.#calls.delete(message.id);
    if (this.#calls.size === 0) this.#worker.unref();
    if (message.ok) call.resolve(message.value);
    else call.reject(deserialize(message.error));
  }

  #fail(cause: unknown): void {
    this.#failure = new ForwarderError('SPOOL_UNAVAILABLE', { reason: 'the spool worker stopped' }, { cause });
    this.#logger?.warn({ err: String(cause) }, 'spool worker stopped; the spool is unavailable');
    for (const call of this.#calls.values()) call.reject(this.#failure);
    this.#calls.clear();
  }
}

/** Opens (creating or recovering) the spool in `options.dir`. */
export async function openSpool(options: SpoolOptions): Promise<Spool> {
  if (!(options.maxBytes > 0)) throw new TypeError('openSpool: maxBytes must be a positive number');
  const spool = new WorkerSpool(options);
  await spool.start();
  return spool;
}
