// The spool's worker thread: owns the SQLite connection, so that synchronous commits and their fsyncs
// run off the HTTP event loop. Writes received while a commit is running wait in `queue` and are committed
// together on the next turn (group commit); every writer is answered only after its commit returned.
import { parentPort, workerData } from 'node:worker_threads';
import { addsData, SpoolStore, type WriteOp, type WriteOutcome } from './store.ts';
import { toSpoolError } from './sqlite-errors.ts';
import type { Request, Response, SerializedError, WorkerOptions, WorkerSnapshot } from './protocol.ts';
import type { ForwarderError } from '../errors.ts';

const port = parentPort!;
const NO_REPLY = -1;
/** After a failed commit, how often a probe transaction checks whether the disk works again. */
const DEFAULT_PROBE_INTERVAL_MS = 1000;
/** While appends are refused for want of disk space, how often the free space is measured again. */
const DISK_RECHECK_INTERVAL_MS = 1000;

function serialize(error: ForwarderError): SerializedError {
  return { code: error.code, params: error.params };
}

function send(message: Response, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

let store: SpoolStore;
try {
  store = new SpoolStore(workerData as WorkerOptions);
  send({ type: 'ready', recovery: store.recovery, snapshot: { ...store.snapshot(), writeError: null } });
} catch (error) {
  send({ type: 'openFailed', error: serialize(toSpoolError(error)) });
  port.close();
  throw error;
}

let queue: { id: number; write: WriteOp }[] = [];
let scheduled = false;
const probeIntervalMs = (workerData as WorkerOptions).probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
/** The last commit's failure: the spool reports itself unavailable (readyz 503) while this is set. */
let writeError: SerializedError | null = null;
let probeTimer: NodeJS.Timeout | undefined;

let lastSnapshot: WorkerSnapshot | undefined;

function sendSnapshot(): void {
  lastSnapshot = { ...store.snapshot(), writeError };
  send({ type: 'snapshot', snapshot: lastSnapshot });
}

/**
 * The disk's free space changes without a commit of ours (another process frees or takes space),
 * and an idle spool that refuses appends sees no commit to notice it. So while appends are refused
 * for want of disk, the snapshot is refreshed on a timer.
 */
const diskTimer = setInterval(() => {
  if (lastSnapshot?.fullReason !== 'disk') return;
  try {
    sendSnapshot();
  } catch {
    // statfs failed: the next commit reports the disk's state
  }
}, DISK_RECHECK_INTERVAL_MS);
diskTimer.unref();
sendSnapshot();

/**
 * Records the outcome of a commit. A failure must not outlive the fault: once the load balancer has
 * taken the instance out (readyz 503), no append may arrive to prove the disk works again, so while
 * the error is set a tiny probe transaction retries on a timer and clears it when it commits.
 */
function setWriteError(error: SerializedError | null): void {
  writeError = error;
  if (error === null) {
    clearInterval(probeTimer);
    probeTimer = undefined;
  } else if (probeTimer === undefined) {
    probeTimer = setInterval(probe, probeIntervalMs);
  }
}

function probe(): void {
  try {
    store.probe(Date.now());
  } catch {
    return; // still failing: keep the error, try again on the next tick
  }
  setWriteError(null);
  sendSnapshot();
  send({ type: 'warn', obj: {}, msg: 'spool writes work again' });
  if (store.housekeepingDue) schedule();
}

function schedule(): void {
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

/**
 * Commits the group in one transaction. If that fails, the writes that only move or remove data
 * (acknowledgements, dead letters, drops) are committed again on their own: a failed append must
 * never cost an acknowledgement, or Kafka's records would stay in the spool and be sent again.
 * The disk reserve (spool.min_free_disk_bytes) keeps room for exactly these writes.
 */
function commit(group: readonly { write: WriteOp }[]): WriteOutcome[] {
  const writes = group.map((entry) => entry.write);
  try {
    return store.applyWrites(writes);
  } catch (error) {
    const failed: WriteOutcome = { ok: false, error: toSpoolError(error) };
    const housekeeping = writes.filter((write) => !addsData(write));
    if (housekeeping.length === 0 || housekeeping.length === writes.length) throw error;
    const outcomes = store.applyWrites(housekeeping); // throws if the disk refuses these too
    let next = 0;
    return writes.map((write) => (addsData(write) ? failed : outcomes[next++]));
  }
}

function flush(): void {
  scheduled = false;
  // An empty group still commits while housekeeping (purging expired dedup keys chunk by chunk) is due.
  if (queue.length === 0 && !store.housekeepingDue) return;
  const group = queue;
  queue = [];
  let outcomes: WriteOutcome[];
  try {
    outcomes = commit(group);
    // Appends refused by a failed commit (while housekeeping went through) still mark the disk as failing.
    const failure = outcomes.find((outcome) => !outcome.ok && outcome.error.code === 'SPOOL_IO');
    setWriteError(failure === undefined || failure.ok ? null : serialize(failure.error));
  } catch (error) {
    setWriteError(serialize(toSpoolError(error)));
    outcomes = group.map(() => ({ ok: false, error: toSpoolError(error) }));
  }
  // The snapshot goes first so that stats() already reflects a write when its caller's promise resolves.
  sendSnapshot();
  group.forEach((entry, index) => {
    if (entry.id === NO_REPLY) return;
    const outcome = outcomes[index];
    if (outcome.ok) send({ type: 'reply', id: entry.id, ok: true, value: outcome.value });
    else send({ type: 'reply', id: entry.id, ok: false, error: serialize(outcome.error) });
  });
  // setImmediate lets new writes join the next group in between; after a failure the probe takes over.
  if (writeError === null && store.housekeepingDue) schedule();
}

function enqueue(id: number, write: WriteOp): void {
  queue.push({ id, write });
  schedule();
}

/** Records that fail their checksum are never served: they move to the dead letters instead. */
function quarantine(corrupt: readonly bigint[]): void {
  for (const seq of corrupt) {
    send({
      type: 'warn',
      obj: { seq: seq.toString() },
      msg: 'spool record failed its checksum; moving it to the dead letters',
    });
    enqueue(NO_REPLY, { op: 'quarantine', seq, now: Date.now() });
  }
}

/** Payloads go to the main thread by transfer (each blob SQLite returns has its own ArrayBuffer). */
function payloadBuffers(records: readonly { payload?: Uint8Array }[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const record of records) {
    if (record.payload !== undefined && record.payload.buffer instanceof ArrayBuffer)
      buffers.add(record.payload.buffer);
  }
  return [...buffers];
}

function answer(id: number, compute: () => { value: unknown; transfer?: ArrayBuffer[] }): void {
  try {
    const { value, transfer } = compute();
    send({ type: 'reply', id, ok: true, value }, transfer);
  } catch (error) {
    send({ type: 'reply', id, ok: false, error: serialize(toSpoolError(error)) });
  }
}

port.on('message', (request: Request) => {
  switch (request.kind) {
    case 'write':
      enqueue(request.id, request.write);
      return;
    case 'read':
    case 'get':
      answer(request.id, () => {
        const { records, corrupt } =
          request.kind === 'read'
            ? store.read(request.destination, request.afterSeq, request.limit)
            : store.get(request.seqs);
        quarantine(corrupt);
        return { value: records, transfer: payloadBuffers(records) };
      });
      return;
    case 'listDeadLetters':
      answer(request.id, () => ({ value: store.listDeadLetters(request.destination, request.limit, request.afterId) }));
      return;
    case 'showDeadLetter':
      answer(request.id, () => {
        const deadLetter = store.showDeadLetter(request.deadLetterId);
        return { value: deadLetter, transfer: deadLetter === null ? [] : payloadBuffers([deadLetter]) };
      });
      return;
    case 'close':
      flush();
      setWriteError(null);
      clearInterval(diskTimer);
      answer(request.id, () => {
        const result = store.close();
        if (result !== null)
          send({
            type: 'warn',
            obj: { problem: result.problem },
            msg: 'could not mark the spool closed cleanly; every accepted batch is safe, the next start will report an unclean shutdown',
          });
        return { value: undefined };
      });
      port.close();
      return;
  }
});
