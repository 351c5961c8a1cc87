// Prints figures for the pipeline (no assertions):
//   1. heap held by the window index with 100,000 open device windows holding 1,000,000 batches
//      (the target: well under 100 MB), and how long adding, rebuilding and closing them takes;
//   2. transform throughput: mParticle's sample batch (14 events) through buildOutgoingBatch and
//      the lossless JSON writer, batches/s and events/s; and mergeWindow over 10-batch windows;
//   3. record building (the hot path from outgoing batch to Kafka record values with their
//      metadata): per-event mode, records/s; Send as Batch, merged 10-batch windows/s.
//
//   node bench/pipeline.ts          (re-runs itself with --expose-gc for exact heap figures)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { defaultConnectionSettings } from '../src/config/index.ts';
import type { ConnectionSettings } from '../src/config/types.ts';
import type { JsonObject } from '../src/format/json-value.ts';
import { parseJson, stringifyJsonToBuffer } from '../src/format/lossless-json.ts';
import { mergeWindow } from '../src/pipeline/merge-window.ts';
import { buildOutgoingBatch } from '../src/pipeline/outgoing-batch.ts';
import { buildRecords } from '../src/sinks/kafka/request-builder.ts';
import type { WindowEntry } from '../src/pipeline/windows.ts';
import { Windower } from '../src/pipeline/windows.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, import.meta.filename], {
    stdio: 'inherit',
  });
  process.exit(child.status ?? 1);
}
const collect = gc ?? (() => {});

const WINDOWS = 100_000;
const BATCHES = 1_000_000;
const TRANSFORM_MS = 2000;

// mParticle's defaults, plus the two event types they leave out, so every sample event is transformed.
const settings: ConnectionSettings = {
  ...defaultConnectionSettings,
  includeUserAttributeChangeEvents: true,
  includeUserIdentityChangeEvents: true,
};

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** JS heap plus ArrayBuffer backing stores (the seq pool's typed arrays live outside the heap). */
function heapUsed(): number {
  collect();
  collect();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** Realistic keys: a device UUID and a 19-digit MPID, as windowKeyOf builds them. */
function keyFor(device: number): string {
  const hex = device.toString(16).padStart(12, '0');
  return `d:3f2a9c1e-7b4d-4e8a-9c3f-${hex}|u:-76365382812${String(device).padStart(8, '0')}`;
}

function* entries(t0: number): Generator<WindowEntry> {
  // Round-robin over devices, so every window stays open while it fills (10 batches each), all
  // within one 10-minute window.
  for (let i = 0; i < BATCHES; i++) {
    yield {
      seq: BigInt(i + 1),
      windowKey: keyFor(i % WINDOWS),
      bytes: 3000,
      eventCount: 1,
      hasSessionEnd: false,
      receivedAtMs: t0 + Math.floor(i / 2000),
    };
  }
}

function benchWindows(): void {
  const t0 = 1_700_000_000_000;
  const windower = new Windower({
    mode: 'device-window',
    batchWindowMs: 600_000,
    sessionTimeoutMs: 1_800_000,
    maxRecordBytes: 1_048_576 - 1024,
  });
  const before = heapUsed();
  let start = performance.now();
  for (const entry of entries(t0)) windower.add(entry);
  const addMs = performance.now() - start;
  const held = heapUsed() - before;
  console.log(
    `window index: ${windower.openWindows.toLocaleString()} windows, ${windower.heldBatches.toLocaleString()} batches ` +
      `→ heap + array buffers ${mb(held)} (${Math.round(held / windower.heldBatches)} B/batch); ` +
      `add ${Math.round(BATCHES / (addMs / 1000)).toLocaleString()} batches/s`,
  );

  const restarted = new Windower({
    mode: 'device-window',
    batchWindowMs: 600_000,
    sessionTimeoutMs: 1_800_000,
    maxRecordBytes: 1_048_576 - 1024,
  });
  const all = [...entries(t0)];
  start = performance.now();
  // What a restart does: re-add every unacknowledged batch, in seq order (entries() yields them so).
  for (const entry of all) restarted.add(entry);
  console.log(
    `rebuild (re-adding in seq order) of ${BATCHES.toLocaleString()} entries: ${Math.round(performance.now() - start)} ms`,
  );

  start = performance.now();
  const closed = windower.due(t0 + 600_000 + 1000);
  console.log(
    `due(): closed ${closed.length.toLocaleString()} windows in ${Math.round(performance.now() - start)} ms; ` +
      `${windower.openWindows} left open`,
  );
}

function benchTransform(): void {
  const sample = parseJson(
    readFileSync(new URL('../test/fixtures/eventsapi.sample.json', import.meta.url)),
  ) as JsonObject;
  const events = (sample.events as unknown[]).length;
  let batches = 0;
  let bytes = 0;
  const start = performance.now();
  while (performance.now() - start < TRANSFORM_MS) {
    for (let i = 0; i < 100; i++) {
      const { batch } = buildOutgoingBatch(
        sample,
        { batchId: BigInt(batches), receivedAtMs: 1_700_000_000_000 },
        settings,
      );
      bytes += stringifyJsonToBuffer(batch).length;
      batches++;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `transform (outgoing batch + stringify, ${events} events, ${Math.round(bytes / batches)} B out): ` +
      `${Math.round(batches / seconds).toLocaleString()} batches/s, ${Math.round((batches * events) / seconds).toLocaleString()} events/s, ` +
      `${mb(bytes / seconds)}/s`,
  );

  const window = Array.from(
    { length: 10 },
    (_, i) => buildOutgoingBatch(sample, { batchId: BigInt(i), receivedAtMs: 1 }, settings).batch!,
  );
  let merges = 0;
  const mergeStart = performance.now();
  while (performance.now() - mergeStart < TRANSFORM_MS / 2) {
    for (let i = 0; i < 100; i++) {
      stringifyJsonToBuffer(mergeWindow(window));
      merges++;
    }
  }
  const mergeSeconds = (performance.now() - mergeStart) / 1000;
  console.log(`merge + stringify of 10-batch windows: ${Math.round(merges / mergeSeconds).toLocaleString()} windows/s`);
}

function benchRecords(): void {
  const sample = parseJson(
    readFileSync(new URL('../test/fixtures/eventsapi.sample.json', import.meta.url)),
  ) as JsonObject;
  const maxRecordBytes = 1_000_000;
  let batches = 0;
  let records = 0;
  const start = performance.now();
  while (performance.now() - start < TRANSFORM_MS) {
    for (let i = 0; i < 100; i++) {
      const seq = BigInt(batches);
      const { batch } = buildOutgoingBatch(sample, { batchId: seq, receivedAtMs: 1_700_000_000_000 }, settings);
      records += buildRecords(batch!, { seqs: [seq] }, { maxRecordBytes, perEvent: true }).records.length;
      batches++;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `records, per-event (outgoing batch + one record per event): ${Math.round(batches / seconds).toLocaleString()} batches/s, ` +
      `${Math.round(records / seconds).toLocaleString()} records/s`,
  );

  const results = Array.from({ length: 10 }, (_, i) =>
    buildOutgoingBatch(sample, { batchId: BigInt(i), receivedAtMs: 1 }, settings),
  );
  const eventSeqs = new Map<string, bigint>();
  results.forEach((result, i) => result.messageIds.forEach((id) => eventSeqs.set(id, BigInt(i))));
  const origin = { seqs: results.map((_, i) => BigInt(i)), eventSeqs };
  const window = results.map((result) => result.batch!);
  let merges = 0;
  const mergeStart = performance.now();
  while (performance.now() - mergeStart < TRANSFORM_MS) {
    for (let i = 0; i < 100; i++) {
      buildRecords(mergeWindow(window)!, origin, { maxRecordBytes });
      merges++;
    }
  }
  const mergeSeconds = (performance.now() - mergeStart) / 1000;
  console.log(
    `records, 10-batch windows (merge + record): ${Math.round(merges / mergeSeconds).toLocaleString()} windows/s`,
  );
}

console.log(`node ${process.version}`);
benchWindows();
benchTransform();
benchRecords();
