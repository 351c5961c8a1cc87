// ConnectionRunner's own rules, with a fake spool, a fake sink and a fake clock: when a batch is
// acknowledged, which batches go to the dead letters (and holding what), what an aborted send
// leaves in the spool, and that catching up after a restart does not split windows.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { ConnectionSettings } from '../../src/config/types.ts';
import { isJsonObject } from '../../src/format/json-value.ts';
import { parseJson } from '../../src/format/lossless-json.ts';
import { ConnectionRunner } from '../../src/pipeline/connection-runner.ts';
import type { OutgoingRecord } from '../../src/sinks/kafka/request-builder.ts';
import type { RecordOutcome, RecordSink } from '../../src/sinks/kafka/sink.ts';
import type { SpoolRecord } from '../../src/spool/types.ts';
import { createLogger, silentLogger } from '../../src/telemetry/logger.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { settings } from './fixtures.ts';

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

/** The spool as one connection sees it: pending records, acks and dead letters, in memory. */
class FakeSpool {
  readonly pending = new Map<bigint, SpoolRecord>();
  readonly acked: bigint[] = [];
  readonly deadLetters: { seq: bigint; reason: string; payload: Buffer | undefined }[] = [];
  #nextSeq = 1n;

  append(receivedAtMs: number, batch: string): bigint {
    const seq = this.#nextSeq++;
    this.pending.set(seq, { seq, batchId: 1000n + seq, receivedAtMs, payload: Buffer.from(batch, 'utf8') });
    return seq;
  }

  read(_destination: string, cursor: bigint | null, limit: number): Promise<SpoolRecord[]> {
    const records = [...this.pending.values()].filter((record) => cursor === null || record.seq > cursor);
    return Promise.resolve(records.slice(0, limit));
  }

  get(seqs: readonly bigint[]): Promise<SpoolRecord[]> {
    return Promise.resolve(seqs.flatMap((seq) => this.pending.get(seq) ?? []));
  }

  ack(_destination: string, seqs: readonly bigint[]): Promise<void> {
    for (const seq of seqs) {
      assert.ok(this.pending.delete(seq), `seq ${seq} acked while not pending`);
      this.acked.push(seq);
    }
    return Promise.resolve();
  }

  deadLetter(_destination: string, seq: bigint, reason: string, payload?: Buffer): Promise<number | null> {
    assert.ok(this.pending.delete(seq), `seq ${seq} dead-lettered while not pending`);
    this.deadLetters.push({ seq, reason, payload });
    return Promise.resolve(this.deadLetters.length);
  }
}

/** Records what it is sent; each outcome comes from `answer` (a promise the test may hold back). */
class FakeSink implements RecordSink {
  readonly output = 'out';
  readonly sent: OutgoingRecord[] = [];
  answer: (record: OutgoingRecord) => Promise<RecordOutcome> | RecordOutcome = () => ({ status: 'acked' });

  send(record: OutgoingRecord): Promise<RecordOutcome> {
    this.sent.push(record);
    return Promise.resolve(this.answer(record));
  }
}

function batch(mpid: number, ...names: string[]): string {
  const events = names.map(
    (name) => `{"event_type":"custom_event","data":{"event_name":"${name}","custom_event_type":"other"}}`,
  );
  return `{"environment":"production","mpid":${mpid},"events":[${events.join(',')}]}`;
}

interface SentEvent {
  name: string;
  messageId: string;
}

function eventsOf(record: OutgoingRecord): SentEvent[] {
  const value = parseJson(record.value);
  assert.ok(isJsonObject(value) && Array.isArray(value.events));
  return value.events.map((event) => {
    assert.ok(isJsonObject(event) && isJsonObject(event.data));
    return { name: event.data.event_name as string, messageId: event.message_id as string };
  });
}

function runnerFor(
  spool: FakeSpool,
  sink: FakeSink,
  options: { settings?: Partial<ConnectionSettings>; clock?: () => number; readLimit?: number } = {},
): ConnectionRunner {
  return new ConnectionRunner({
    connection: { name: 'conn', input: 'in', output: 'out', settings: settings(options.settings) },
    maxRecordBytes: 900_000,
    spool,
    sink,
    metrics: new Metrics(),
    logger: silentLogger(),
    ...(options.clock !== undefined && { clock: options.clock }),
    ...(options.readLimit !== undefined && { readLimit: options.readLimit }),
    pollIntervalMs: 5,
  });
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`never happened: ${what}`);
}

test('after a restart, catching up does not split a window whose batches span several reads', async () => {
  const spool = new FakeSpool();
  spool.append(T0, batch(1, 'first'));
  spool.append(T0 + 5 * MINUTE, batch(1, 'second'));
  const sink = new FakeSink();
  // Restarted at +12 min: the window (10 min from T0) is due, and each read returns one batch.
  const runner = runnerFor(spool, sink, {
    settings: { batchWindowMs: 10 * MINUTE },
    clock: () => T0 + 12 * MINUTE,
    readLimit: 1,
  });
  runner.start();
  try {
    await until('both batches acknowledged', () => spool.acked.length === 2);
    assert.equal(sink.sent.length, 1, 'one merged record');
    assert.deepEqual(
      eventsOf(sink.sent[0]).map((event) => event.name),
      ['first', 'second'],
    );
  } finally {
    await runner.close();
  }
});

test('an event Kafka refuses dead-letters only its own batch, holding just that event; the window’s other batches are acked', async () => {
  const spool = new FakeSpool();
  const good1 = spool.append(T0, batch(1, 'a'));
  const mixed = spool.append(T0 + 1000, batch(1, 'b', 'bad'));
  const good2 = spool.append(T0 + 2000, batch(1, 'c'));
  const sink = new FakeSink();
  sink.answer = (record) => ({
    status: 'rejected',
    code: 'RECORD_TOO_LARGE',
    reason: 'too large',
    refusedEvents: record.events.filter(
      (event) => eventsOf(record).find((sent) => sent.messageId === event.messageId)?.name === 'bad',
    ),
  });
  const runner = runnerFor(spool, sink, { settings: { batchWindowMs: MINUTE }, clock: () => T0 + 2 * MINUTE });
  runner.start();
  try {
    await until('every batch settled', () => spool.pending.size === 0);
    assert.equal(sink.sent.length, 1);
    assert.deepEqual(spool.acked.sort(), [good1, good2]);
    assert.equal(spool.deadLetters.length, 1);
    const [dead] = spool.deadLetters;
    assert.equal(dead.seq, mixed);
    assert.match(dead.reason, /^RECORD_TOO_LARGE: too large/);
    assert.ok(dead.payload !== undefined, 'the dead letter holds a derived payload');
    const kept = parseJson(dead.payload);
    assert.ok(isJsonObject(kept) && Array.isArray(kept.events));
    assert.deepEqual(
      kept.events.map((event) => (isJsonObject(event) && isJsonObject(event.data) ? event.data.event_name : null)),
      ['bad'],
    );
  } finally {
    await runner.close();
  }
});

test('a record refused whole dead-letters every batch with events in it', async () => {
  const spool = new FakeSpool();
  spool.append(T0, batch(1, 'a'));
  spool.append(T0 + 1000, batch(1, 'b'));
  const sink = new FakeSink();
  sink.answer = () => ({ status: 'rejected', code: 'INVALID_RECORD', reason: 'corrupt' });
  const runner = runnerFor(spool, sink, { settings: { batchWindowMs: MINUTE }, clock: () => T0 + 2 * MINUTE });
  runner.start();
  try {
    await until('every batch settled', () => spool.pending.size === 0);
    assert.deepEqual(spool.acked, []);
    assert.deepEqual(
      spool.deadLetters.map((dead) => [dead.seq, dead.payload]),
      [
        [1n, undefined],
        [2n, undefined],
      ],
    );
  } finally {
    await runner.close();
  }
});

test('a batch is acknowledged only once every record made from it is acked', async () => {
  const spool = new FakeSpool();
  const seq = spool.append(T0, batch(1, 'a', 'b'));
  const sink = new FakeSink();
  const releases: ((outcome: RecordOutcome) => void)[] = [];
  sink.answer = () => new Promise((resolve) => releases.push(resolve));
  const runner = runnerFor(spool, sink, { settings: { sendAsBatch: false }, clock: () => T0 });
  runner.start();
  try {
    await until('both per-event records sent', () => sink.sent.length === 2);
    releases[0]({ status: 'acked' });
    // Give the runner every chance to (wrongly) acknowledge after the first record alone.
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(spool.acked, []);
    releases[1]({ status: 'acked' });
    await until('the batch acknowledged', () => spool.acked.length === 1);
    assert.deepEqual(spool.acked, [seq]);
  } finally {
    await runner.close();
  }
});

test('a batch with an aborted record stays in the spool (neither acked nor dead-lettered)', async () => {
  const spool = new FakeSpool();
  const seq = spool.append(T0, batch(1, 'a', 'b'));
  const sink = new FakeSink();
  let calls = 0;
  sink.answer = () => (calls++ === 0 ? { status: 'acked' } : { status: 'aborted' });
  const runner = runnerFor(spool, sink, { settings: { sendAsBatch: false }, clock: () => T0 });
  runner.start();
  await until('both per-event records sent', () => sink.sent.length === 2);
  await runner.close();
  assert.deepEqual(spool.acked, []);
  assert.deepEqual(spool.deadLetters, []);
  assert.ok(spool.pending.has(seq));
});

test('at debug, the runner logs windows opened and closed and events filtered out, by setting', async () => {
  const lines: { msg: string; reason?: string; batches?: number; events?: number }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.startsWith('{')) lines.push(JSON.parse(line) as (typeof lines)[number]);
      done();
    },
  });
  const spool = new FakeSpool();
  spool.append(T0, batch(1, 'first'));
  spool.append(T0 + MINUTE, batch(1, 'second'));
  spool.append(
    T0 + 2 * MINUTE,
    '{"environment":"production","mpid":1,"events":[{"event_type":"pre_attribution","data":{}}]}',
  );
  const sink = new FakeSink();
  const runner = new ConnectionRunner({
    connection: { name: 'conn', input: 'in', output: 'out', settings: settings({ batchWindowMs: 10 * MINUTE }) },
    maxRecordBytes: 900_000,
    spool,
    sink,
    metrics: new Metrics(),
    logger: createLogger({ level: 'debug', destination }),
    clock: () => T0 + 12 * MINUTE,
    pollIntervalMs: 5,
  });
  runner.start();
  try {
    await until('the batches acknowledged', () => spool.acked.length === 3);
    const messages = lines.map((line) => line.msg);
    assert.equal(messages.filter((msg) => msg === 'window opened').length, 1, messages.join(', '));
    const closed = lines.find((line) => line.msg === 'window closed');
    // All three batches are the device's window; the filtered one brings no event.
    assert.deepEqual([closed?.batches, closed?.events], [3, 2]);
    const filtered = lines.find((line) => line.msg === 'events filtered out');
    assert.deepEqual([filtered?.events, filtered?.reason], [1, 'unsupported_event_type']);
  } finally {
    await runner.close();
  }
});
