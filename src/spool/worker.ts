// The spool's worker thread: owns the SQLite connection, so that synchronous commits and their fsyncs
// run off the HTTP event loop. Writes received while a commit is running wait in `queue` and are committed
// together on the next turn (group commit); every writer is answered only after its commit returned.
import { parentPort, workerData } from 'node:worker_threads';
import { SpoolStore, type WriteOp, type WriteOutcome } from './store.ts';
import { toSpoolError } from './sqlite-errors.ts';
import type { Request, Response, SerializedError, WorkerOptions } from './protocol.ts';
import type { ForwarderError } from '../errors.ts';

const port = parentPort!;
const NO_REPLY = -1;
/** After a failed commit, how often a probe transaction checks whether the disk works again. */
const DEFAULT_PROBE_INTERVAL_MS = 1000;

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

function sendSnapshot(): void {
  send({ type: 'snapshot', snapshot: { ...store.snapshot(), writeError } });
}

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

function flush(): void {
  scheduled = false;
  // An empty group still commits while housekeeping (purging expired dedup keys chunk by chunk) is due.
  if (queue.length === 0 && !store.housekeepingDue) return;
  const group = queue;
  queue = [];
  let outcomes: WriteOutcome[];
  try {
    outcomes = store.applyWrites(group.map((entry) => entry.write));
    setWriteError(null);
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
      answer(request.id, () => ({ value: store.close() }));
      port.close();
      return;
  }
});
