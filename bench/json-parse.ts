// Lossless JSON and Events API validation: what they cost per batch.
//
// Parses and stringifies a realistic mParticle batch (10 events, about 3 KB, signed 64-bit IDs
// beyond 2^53) with each candidate, plus plain JSON.parse/JSON.stringify as the baseline (which
// is NOT lossless: it rounds the IDs), and times validateBatch on the parsed batch.
//
// Optional npm candidates are measured when they can be loaded; they are not dependencies.
// To include them: `mkdir -p /tmp/json-candidates && cd /tmp/json-candidates && npm init -y &&
// npm i lossless-json json-bigint`, then `JSON_CANDIDATES=/tmp/json-candidates npm run bench:json`.
//
// Run: npm run bench:json   (about 15 s; BENCH_SECONDS=0.3 for a quicker, rougher run)
import { createRequire } from 'node:module';
import path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { parseJson, stringifyJson } from '../src/format/lossless-json.ts';
import type { JsonObject, JsonValue } from '../src/format/json-value.ts';
import { validateBatch } from '../src/sources/events-api/validate-batch.ts';

const SECONDS_PER_CASE = Number(process.env.BENCH_SECONDS ?? '0.7');

// --- a realistic batch --------------------------------------------------------------------

function realisticBatchText(seed: number): string {
  // 64-bit IDs are written as literal digits so that they reach the parser exactly as a client sends them.
  const id = (n: number): string => `${n % 2 === 0 ? '-' : ''}${7_636_538_281_262_557_000n + BigInt(n * 7919)}`;
  const uuid = (n: number): string => `8b8dfaa2-17c7-43e8-88ee-${(0x5f2dcf016d56 + n).toString(16).padStart(12, '0')}`;
  const t0 = 1_700_000_000_000 + seed;
  const events: string[] = [];
  const kinds = ['session_start', 'screen_view', 'custom_event', 'custom_event', 'commerce_event'];
  for (let i = 0; i < 10; i++) {
    const kind = kinds[i % kinds.length];
    const common =
      `"event_id":${id(seed + i)},"source_message_id":"${uuid(seed + i)}","session_id":${id(seed)},` +
      `"session_uuid":"${uuid(seed)}","timestamp_unixtime_ms":${t0 + i * 1000}` +
      (i % 3 === 0 ? `,"custom_attributes":{"plan":"premium","attempt":"${i}"}` : '');
    const specific =
      kind === 'custom_event'
        ? `,"event_name":"Add to playlist – ünïcødé ${i}","custom_event_type":"user_preference"`
        : kind === 'screen_view'
          ? `,"screen_name":"Home","activity_type":"MainActivity"`
          : kind === 'commerce_event'
            ? `,"currency_code":"EUR","product_action":{"action":"purchase","transaction_id":"T-${seed}",` +
              `"total_amount":19.99,"products":[{"id":"sku-1","name":"Album","price":19.99,"quantity":1}]}`
            : '';
    events.push(`{"data":{${common}${specific}},"event_type":"${kind}"}`);
  }
  return (
    `{"events":[${events.join(',')}],` +
    `"device_info":{"platform":"Android","os_version":"14"},"application_info":{"application_version":"5.2.1"},` +
    `"user_attributes":{"$firstname":"Zoë","tier":"gold"},"user_identities":{"customer_id":"c-${seed}","email":"u${seed}@example.com"},` +
    `"environment":"production","source_request_id":"${uuid(seed + 1000)}","mpid":${id(seed + 3)},` +
    `"mp_deviceid":"${uuid(seed + 2000)}","batch_id":${id(seed + 5)},"timestamp_unixtime_ms":${t0}}`
  );
}

// --- candidates ---------------------------------------------------------------------------

interface Candidate {
  readonly name: string;
  readonly lossless: boolean;
  parse(text: string): unknown;
  stringify(value: unknown): string;
}

const candidates: Candidate[] = [
  {
    name: 'plain JSON (baseline)',
    lossless: false,
    parse: (t): unknown => JSON.parse(t),
    stringify: (v) => JSON.stringify(v),
  },
  {
    name: 'ours: parseJson (marker pass)',
    lossless: true,
    parse: (t) => parseJson(t),
    stringify: (v) => stringifyJson(v as JsonValue),
  },
  {
    // The approach parseJson used first, and still uses for texts holding a \u0000 escape.
    name: 'native reviver + context.source',
    lossless: true,
    parse: (t) => (JSON as unknown as ReviverJson).parse(t, reviveWithSource),
    stringify: (v) => stringifyJson(v as JsonValue),
  },
];

interface ReviverJson {
  parse(text: string, reviver: (key: string, value: unknown, context: { source?: string }) => unknown): unknown;
}
function reviveWithSource(_key: string, value: unknown, context: { source?: string }): unknown {
  if (typeof value !== 'number' || Number.isSafeInteger(value)) return value;
  return context.source !== undefined && /^-?\d+$/.test(context.source) ? BigInt(context.source) : value;
}

interface LosslessJsonModule {
  parse(text: string, reviver: null, parseNumber: (digits: string) => unknown): unknown;
  stringify(value: unknown): string | undefined;
  isInteger(digits: string): boolean;
  isSafeNumber(digits: string): boolean;
}
type JsonBigintFactory = (options: { useNativeBigInt: boolean }) => {
  parse(text: string): unknown;
  stringify(value: unknown): string;
};

function loadOptionalCandidates(): void {
  const base = process.env.JSON_CANDIDATES;
  const require = createRequire(base ? path.join(path.resolve(base), 'package.json') : import.meta.url);
  try {
    const lj = require('lossless-json') as LosslessJsonModule;
    const parseNumber = (digits: string): unknown =>
      lj.isInteger(digits) && !lj.isSafeNumber(digits) ? BigInt(digits) : Number(digits);
    candidates.push({
      name: 'lossless-json (npm)',
      lossless: true,
      parse: (t) => lj.parse(t, null, parseNumber),
      stringify: (v) => lj.stringify(v) ?? '',
    });
  } catch {
    console.log('lossless-json not installed: skipped (see the header of this file)');
  }
  try {
    const jb = (require('json-bigint') as JsonBigintFactory)({ useNativeBigInt: true });
    candidates.push({
      name: 'json-bigint (npm)',
      lossless: true,
      parse: (t) => jb.parse(t),
      stringify: (v) => jb.stringify(v),
    });
  } catch {
    console.log('json-bigint not installed: skipped (see the header of this file)');
  }
}

// --- timing -------------------------------------------------------------------------------

function opsPerSecond(run: (i: number) => void): number {
  for (let i = 0; i < 2000; i++) run(i); // warm-up, so the JIT has settled
  const deadline = process.hrtime.bigint() + BigInt(Math.round(SECONDS_PER_CASE * 1e9));
  const start = process.hrtime.bigint();
  let ops = 0;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 200; i++) run(ops + i);
    ops += 200;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(34) : c.padStart(12))).join(' ');
}

function main(): void {
  loadOptionalCandidates();
  const texts = Array.from({ length: 64 }, (_, i) => realisticBatchText(i * 31));
  const bytes = Buffer.byteLength(texts[0]);
  console.log(`Batch: 10 events, ${bytes} bytes, 64-bit IDs; ${SECONDS_PER_CASE}s per case; node ${process.version}`);

  const exact = parseJson(texts[0]) as JsonObject;
  for (const candidate of candidates) {
    const roundTrip = candidate.stringify(candidate.parse(texts[0]));
    const ok = roundTrip === texts[0];
    if (candidate.lossless && !ok) console.log(`WARNING: ${candidate.name} did not round-trip the batch byte-exactly`);
    if (!candidate.lossless && ok) console.log(`note: ${candidate.name} happened to round-trip`);
  }

  console.log(row(['', 'parse ops/s', 'parse MB/s', 'x plain', 'string ops/s', 'string MB/s', 'x plain']));
  let baseParse = 0;
  let baseStringify = 0;
  for (const candidate of candidates) {
    const values = texts.map((t) => candidate.parse(t));
    const parse = opsPerSecond((i) => candidate.parse(texts[i & 63]));
    const stringify = opsPerSecond((i) => candidate.stringify(values[i & 63]));
    if (baseParse === 0) [baseParse, baseStringify] = [parse, stringify];
    const mb = (ops: number): string => ((ops * bytes) / 1e6).toFixed(1);
    console.log(
      row([
        candidate.name,
        parse.toFixed(0),
        mb(parse),
        (baseParse / parse).toFixed(2),
        stringify.toFixed(0),
        mb(stringify),
        (baseStringify / stringify).toFixed(2),
      ]),
    );
  }

  const batches = texts.map((t) => parseJson(t) as JsonObject);
  const firstResult = validateBatch(exact);
  if (!firstResult.ok) throw new Error(`bench batch does not validate: ${JSON.stringify(firstResult.errors)}`);
  const validate = opsPerSecond((i) => validateBatch(batches[i & 63]));
  const whole = opsPerSecond((i) => validateBatch(parseJson(texts[i & 63])));
  console.log(`validateBatch:            ${(1e6 / validate).toFixed(1)} µs/batch (${validate.toFixed(0)} batches/s)`);
  console.log(
    `parseJson + validateBatch: ${(1e6 / whole).toFixed(1)} µs/batch (${whole.toFixed(0)} batches/s, one core)`,
  );

  // What ingest parses is the request's bytes: parseJson(Buffer) also checks that they are UTF-8
  // (RFC 8259) instead of letting the decoder replace invalid bytes with U+FFFD.
  const buffers = texts.map((t) => Buffer.from(t, 'utf8'));
  const decodeOnly = opsPerSecond((i) => buffers[i & 63].toString('utf8'));
  const checkAndDecode = opsPerSecond((i) => isUtf8(buffers[i & 63]) && buffers[i & 63].toString('utf8'));
  const fromBytes = opsPerSecond((i) => parseJson(buffers[i & 63]));
  const fromText = opsPerSecond((i) => parseJson(texts[i & 63]));
  console.log(
    `UTF-8 check: decode ${(1e6 / decodeOnly).toFixed(2)} µs, isUtf8 + decode ${(1e6 / checkAndDecode).toFixed(2)} µs; ` +
      `parseJson(bytes) ${(1e6 / fromBytes).toFixed(1)} µs vs parseJson(text) ${(1e6 / fromText).toFixed(1)} µs per batch`,
  );
}

main();
