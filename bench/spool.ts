// Measures the candidate spool stores on this machine and prints figures (no assertions):
//   sqlite-main    node:sqlite DatabaseSync on the main thread, WAL, synchronous=FULL, group commit per tick
//   sqlite-worker  the same database driven from a worker thread (the main thread only posts messages)
//   segment-log    append-only segment file: writev + fdatasync through libuv's thread pool, CRC32 per record
//   spool          the real src/spool implementation (openSpool), with two destinations and dedup keys
// For each: closed loop (many concurrent callers, appends/s and fsyncs), open loop at 2,500 appends/s
// (latency p99), read+ack throughput, and event-loop delay / utilisation of the main thread, which is
// where HTTP parsing and validation would run.
//
//   npm run bench:spool                       # all stores, ~40 s
//   npm run bench:spool -- spool              # only the named stores
//   npm run bench:spool -- window [events]    # 1,000,000 held events from 100,000 devices: RSS, rebuild, get()
import { DatabaseSync } from 'node:sqlite';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync, openSync, closeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTestSpool } from '../test/support/spool.ts';

const PAYLOAD_BYTES = 3 * 1024;
const CONCURRENCY = 64;
const CLOSED_LOOP_MS = 3000;
const OPEN_LOOP_RATE = 2500;
const OPEN_LOOP_MS = 3000;
const READ_CHUNK = 500;

interface Store {
  append(payload: Buffer): Promise<void>;
  /** Reads every stored record in chunks and acknowledges each chunk durably; returns the count. */
  drain(): Promise<number>;
  fsyncs(): Promise<number>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- sqlite (shared by main and worker)

function openSqlite(file: string): DatabaseSync {
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;');
  db.exec(
    'CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, payload BLOB NOT NULL)',
  );
  return db;
}

/** Collects the appends of one event-loop turn and commits them in one transaction (one WAL fsync). */
class SqliteGroupCommitter {
  private readonly db: DatabaseSync;
  private readonly insert;
  private queue: { payload: Uint8Array; done: () => void }[] = [];
  private scheduled = false;
  commits = 0;
  constructor(db: DatabaseSync) {
    this.db = db;
    this.insert = db.prepare('INSERT INTO records (received_at, payload) VALUES (?, ?)');
  }
  append(payload: Uint8Array, done: () => void): void {
    this.queue.push({ payload, done });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }
  private flush(): void {
    this.scheduled = false;
    const group = this.queue;
    this.queue = [];
    const now = Date.now();
    this.db.exec('BEGIN');
    for (const item of group) this.insert.run(now, item.payload);
    this.db.exec('COMMIT');
    this.commits += 1;
    for (const item of group) item.done();
  }
  drain(): number {
    const select = this.db.prepare('SELECT seq, payload FROM records WHERE seq > ? ORDER BY seq LIMIT ?');
    const remove = this.db.prepare('DELETE FROM records WHERE seq <= ?');
    let after = 0;
    let count = 0;
    for (;;) {
      const rows = select.all(after, READ_CHUNK) as { seq: number; payload: Uint8Array }[];
      if (rows.length === 0) return count;
      after = rows[rows.length - 1].seq;
      count += rows.length;
      this.db.exec('BEGIN');
      remove.run(after);
      this.db.exec('COMMIT');
    }
  }
}

function sqliteMain(dir: string): Store {
  const db = openSqlite(join(dir, 'spool.db'));
  const committer = new SqliteGroupCommitter(db);
  return {
    append: (payload) => new Promise((resolve) => committer.append(payload, resolve)),
    drain: () => Promise.resolve(committer.drain()),
    fsyncs: () => Promise.resolve(committer.commits),
    close: () => Promise.resolve(db.close()),
  };
}

function sqliteWorkerMain(): void {
  const { file } = workerData as { file: string };
  const db = openSqlite(file);
  const committer = new SqliteGroupCommitter(db);
  const port = parentPort!;
  port.on('message', (message: { id: number; op: string; payload?: Uint8Array }) => {
    if (message.op === 'append') committer.append(message.payload!, () => port.postMessage({ id: message.id }));
    else if (message.op === 'drain') port.postMessage({ id: message.id, value: committer.drain() });
    else if (message.op === 'fsyncs') port.postMessage({ id: message.id, value: committer.commits });
    else if (message.op === 'close') {
      db.close();
      port.postMessage({ id: message.id });
    }
  });
}

function sqliteWorker(dir: string): Store {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'sqlite', file: join(dir, 'spool.db') } });
  const waiting = new Map<number, (value: number) => void>();
  let nextId = 0;
  worker.on('message', (message: { id: number; value?: number }) => {
    const resolve = waiting.get(message.id)!;
    waiting.delete(message.id);
    resolve(message.value ?? 0);
  });
  const call = (op: string, payload?: Buffer) =>
    new Promise<number>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      worker.postMessage({ id, op, payload });
    });
  return {
    append: async (payload) => void (await call('append', payload)),
    drain: () => call('drain'),
    fsyncs: () => call('fsyncs'),
    close: async () => {
      await call('close');
      await worker.terminate();
    },
  };
}

// ---------------------------------------------------------------- segment log

const HEADER_BYTES = 16; // u32 length, u32 crc32, u64 seq

function segmentLog(dir: string): Store {
  const path = join(dir, 'segment-0.log');
  const ackPath = join(dir, 'acks.log');
  closeSync(openSync(path, 'a'));
  let handle: FileHandle | undefined;
  let queue: { frame: Buffer; done: () => void }[] = [];
  let writing = false;
  let seq = 0n;
  let fsyncCount = 0;

  async function writeLoop(): Promise<void> {
    writing = true;
    handle ??= await open(path, 'a');
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      await handle.writev(group.map((item) => item.frame));
      await handle.datasync();
      fsyncCount += 1;
      for (const item of group) item.done();
    }
    writing = false;
  }

  return {
    append(payload) {
      const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
      frame.writeUInt32LE(payload.length, 0);
      frame.writeUInt32LE(crc32(payload), 4);
      frame.writeBigUInt64LE(++seq, 8);
      payload.copy(frame, HEADER_BYTES);
      return new Promise<void>((resolve) => {
        queue.push({ frame, done: resolve });
        if (!writing) void writeLoop();
      });
    },
    async drain() {
      const reader = await open(path, 'r');
      const acks = await open(ackPath, 'a');
      const chunk = Buffer.allocUnsafe(READ_CHUNK * (HEADER_BYTES + PAYLOAD_BYTES));
      let position = 0;
      let count = 0;
      let carry = Buffer.alloc(0);
      for (;;) {
        const { bytesRead } = await reader.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const data = Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
        let offset = 0;
        let lastSeq = 0n;
        while (offset + HEADER_BYTES <= data.length) {
          const length = data.readUInt32LE(offset);
          if (offset + HEADER_BYTES + length > data.length) break;
          const body = data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
          if (crc32(body) !== data.readUInt32LE(offset + 4)) throw new Error('checksum');
          lastSeq = data.readBigUInt64LE(offset + 8);
          offset += HEADER_BYTES + length;
          count += 1;
        }
        carry = Buffer.from(data.subarray(offset));
        const ack = Buffer.allocUnsafe(8);
        ack.writeBigUInt64LE(lastSeq);
        await acks.write(ack);
        await acks.datasync();
        fsyncCount += 1;
      }
      await reader.close();
      await acks.close();
      return count;
    },
    fsyncs: () => Promise.resolve(fsyncCount),
    close: async () => {
      while (writing) await new Promise((resolve) => setImmediate(resolve));
      await handle?.close();
    },
  };
}

// ---------------------------------------------------------------- the real spool

async function realSpool(dir: string): Promise<Store> {
  const spool = await openTestSpool({ dir, maxBytes: 4 * 1024 ** 3 });
  let dedup = 0;
  return {
    append: async (payload) => {
      const [result] = await spool.append([{ payload, destinations: ['a', 'b'], dedupKey: `bench:${dedup++}` }]);
      if (result.status !== 'stored') throw new Error('expected stored');
    },
    async drain() {
      let count = 0;
      for (const destination of ['a', 'b']) {
        let after: bigint | null = null;
        for (;;) {
          const records = await spool.read(destination, after, READ_CHUNK);
          if (records.length === 0) break;
          after = records[records.length - 1].seq;
          await spool.ack(
            destination,
            records.map((record) => record.seq),
          );
          if (destination === 'a') count += records.length;
        }
      }
      return count;
    },
    fsyncs: () => Promise.resolve(spool.stats().commits),
    close: () => spool.close(),
  };
}

// ---------------------------------------------------------------- measurement

interface Figures {
  appendsPerSecond: number;
  closedP50: number;
  closedP99: number;
  appendsPerFsync: number;
  closedLoopDelayP99: number;
  closedLoopDelayMax: number;
  closedElu: number;
  openP50: number;
  openP99: number;
  openLoopDelayP99: number;
  openLoopDelayMax: number;
  openElu: number;
  drainPerSecond: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function loopMonitor() {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const elu = performance.eventLoopUtilization();
  return {
    stop() {
      histogram.disable();
      const utilisation = performance.eventLoopUtilization(elu).utilization;
      return { p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6, elu: utilisation };
    },
  };
}

async function measure(store: Store): Promise<Figures> {
  const payload = Buffer.alloc(PAYLOAD_BYTES, 'x');

  // Closed loop: CONCURRENCY callers, each appending again as soon as its previous append is durable.
  const fsyncsBefore = await store.fsyncs();
  const closedLatencies: number[] = [];
  let appended = 0;
  const closedMonitor = loopMonitor();
  const closedStart = performance.now();
  const closedEnd = closedStart + CLOSED_LOOP_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < closedEnd) {
        const start = performance.now();
        await store.append(payload);
        closedLatencies.push(performance.now() - start);
        appended += 1;
      }
    }),
  );
  const closedSeconds = (performance.now() - closedStart) / 1000;
  const closed = closedMonitor.stop();
  const fsyncs = (await store.fsyncs()) - fsyncsBefore;
  closedLatencies.sort((a, b) => a - b);

  // Open loop: a steady OPEN_LOOP_RATE of appends regardless of how fast they complete (like HTTP clients).
  const openLatencies: number[] = [];
  const pending: Promise<void>[] = [];
  const openMonitor = loopMonitor();
  const openStart = performance.now();
  const total = Math.round((OPEN_LOOP_RATE * OPEN_LOOP_MS) / 1000);
  let issued = 0;
  while (issued < total) {
    const due = Math.floor(((performance.now() - openStart) / 1000) * OPEN_LOOP_RATE);
    for (; issued < Math.min(due, total); issued++) {
      const start = performance.now();
      pending.push(store.append(payload).then(() => void openLatencies.push(performance.now() - start)));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  const open = openMonitor.stop();
  openLatencies.sort((a, b) => a - b);

  const drainStart = performance.now();
  const drained = await store.drain();
  const drainPerSecond = drained / ((performance.now() - drainStart) / 1000);

  return {
    appendsPerSecond: appended / closedSeconds,
    closedP50: percentile(closedLatencies, 50),
    closedP99: percentile(closedLatencies, 99),
    appendsPerFsync: appended / Math.max(1, fsyncs),
    closedLoopDelayP99: closed.p99,
    closedLoopDelayMax: closed.max,
    closedElu: closed.elu,
    openP50: percentile(openLatencies, 50),
    openP99: percentile(openLatencies, 99),
    openLoopDelayP99: open.p99,
    openLoopDelayMax: open.max,
    openElu: open.elu,
    drainPerSecond,
  };
}

async function rawFsyncMs(dir: string): Promise<number> {
  const handle = await open(join(dir, 'fsync-probe'), 'w');
  const block = Buffer.alloc(4096, 1);
  const start = performance.now();
  for (let i = 0; i < 50; i++) {
    await handle.write(block);
    await handle.datasync();
  }
  await handle.close();
  return (performance.now() - start) / 50;
}

const stores: Record<string, (dir: string) => Store | Promise<Store>> = {
  'sqlite-main': sqliteMain,
  'sqlite-worker': sqliteWorker,
  'segment-log': segmentLog,
  spool: realSpool,
};

/**
 * "Send as Batch" windows: ~1,000,000 small events from 100,000 devices held unacknowledged in the spool.
 * Prints the process RSS (main + worker thread), the time to rebuild a window index by reading everything
 * back, and the cost of fetching arbitrary seqs with get().
 */
async function windowScenario(events: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spool-bench-window-'));
  try {
    const spool = await openTestSpool({ dir, maxBytes: 8 * 1024 ** 3 });
    const rssBefore = process.memoryUsage().rss;
    const perCall = 100;
    const start = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (let n = 0; n < events; n += perCall) {
      const items = Array.from({ length: Math.min(perCall, events - n) }, (_, i) => ({
        payload: Buffer.from(
          JSON.stringify({
            device: `device-${(n + i) % 100_000}`,
            event: 'screen_view',
            n: n + i,
            pad: 'p'.repeat(120),
          }),
        ),
        destinations: ['window'],
      }));
      inFlight.push(spool.append(items));
      if (inFlight.length >= 32) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight);
    const appendSeconds = (performance.now() - start) / 1000;
    let peakRss = process.memoryUsage().rss;

    const readStart = performance.now();
    const devices = new Map<string, bigint[]>();
    let after: bigint | null = null;
    let read = 0;
    for (;;) {
      const records = await spool.read('window', after, 5000);
      if (records.length === 0) break;
      after = records[records.length - 1].seq;
      for (const record of records) {
        // A window index keeps seqs per device, not payloads: 8-byte bigints instead of ~200-byte events.
        const device = (JSON.parse(record.payload.toString()) as { device: string }).device;
        let seqs = devices.get(device);
        if (seqs === undefined) devices.set(device, (seqs = []));
        seqs.push(record.seq);
        read += 1;
      }
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const readSeconds = (performance.now() - readStart) / 1000;
    const heapUsed = process.memoryUsage().heapUsed;

    const lookups = 2000;
    const getStart = performance.now();
    for (let i = 0; i < lookups / 10; i++) {
      const device = devices.get(`device-${Math.floor(Math.random() * 100_000)}`)!;
      await spool.get(device);
    }
    const getMs = (performance.now() - getStart) / (lookups / 10);
    const stats = spool.stats();
    await spool.close();
    const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;
    console.table({
      window: {
        events,
        devices: devices.size,
        'appends/s (100 per call)': Math.round(events / appendSeconds),
        'spool bytes': mb(stats.bytes),
        'rebuild index (read all) s': readSeconds.toFixed(1),
        'records read/s': Math.round(read / readSeconds),
        'get(one device ~10 seqs) ms': getMs.toFixed(2),
        'RSS before': mb(rssBefore),
        'RSS peak': mb(peakRss),
        'main heap used (incl. index)': mb(heapUsed),
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === 'window') {
    await windowScenario(Number(args[1] ?? 1_000_000));
    return;
  }
  const chosen = args.filter((name) => name in stores);
  const names = chosen.length > 0 ? chosen : Object.keys(stores);
  const probeDir = mkdtempSync(join(tmpdir(), 'spool-bench-'));
  console.log(`payload ${PAYLOAD_BYTES} B, ${CONCURRENCY} concurrent callers, open loop ${OPEN_LOOP_RATE}/s`);
  console.log(`raw write+fdatasync of 4 KiB: ${(await rawFsyncMs(probeDir)).toFixed(2)} ms`);
  rmSync(probeDir, { recursive: true, force: true });
  const rows: Record<string, Record<string, string>> = {};
  for (const name of names) {
    const dir = mkdtempSync(join(tmpdir(), `spool-bench-${name}-`));
    try {
      const store = await stores[name](dir);
      const f = await measure(store);
      await store.close();
      const ms = (value: number) => value.toFixed(1);
      rows[name] = {
        'appends/s (closed loop)': f.appendsPerSecond.toFixed(0),
        'appends per fsync': f.appendsPerFsync.toFixed(1),
        'latency p50/p99 ms (closed)': `${ms(f.closedP50)} / ${ms(f.closedP99)}`,
        'loop delay p99/max ms (closed)': `${ms(f.closedLoopDelayP99)} / ${ms(f.closedLoopDelayMax)}`,
        'main-thread ELU (closed)': f.closedElu.toFixed(2),
        'latency p50/p99 ms @2500/s': `${ms(f.openP50)} / ${ms(f.openP99)}`,
        'loop delay p99/max ms @2500/s': `${ms(f.openLoopDelayP99)} / ${ms(f.openLoopDelayMax)}`,
        'main-thread ELU @2500/s': f.openElu.toFixed(2),
        'read+ack records/s': f.drainPerSecond.toFixed(0),
      };
      console.log(`${name}: ${JSON.stringify(rows[name])}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.table(rows);
}

if (isMainThread) await main();
else if ((workerData as { role?: string } | null)?.role === 'sqlite') sqliteWorkerMain();
