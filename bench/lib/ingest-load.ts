// The client side of `npm run bench:ingest`, in its own process so that it does not share the server's
// event loop. Posts realistic batches (10 events, about 3 KB each) to 127.0.0.1 only, over keep-alive
// connections, for a fixed time, then prints one JSON line of results and exits.
//
//   node bench/lib/ingest-load.ts <port> closed <concurrency> <seconds> <batchesPerRequest>
//   node bench/lib/ingest-load.ts <port> open <batchesPerSecond> <seconds> <batchesPerRequest>
//
// batchesPerRequest 1 posts to /v2/events; more posts arrays to /v2/bulkevents. The open loop measures
// latency from each request's scheduled start, so a slow server cannot hide its queueing delay.
import { Agent, request } from 'node:http';

const [portArg, mode, levelArg, secondsArg, perRequestArg] = process.argv.slice(2);
const port = Number(portArg);
const level = Number(levelArg);
const durationMs = Number(secondsArg) * 1000;
const perRequest = Number(perRequestArg);
if (!(port > 0) || (mode !== 'closed' && mode !== 'open') || !(level > 0) || !(durationMs > 0) || !(perRequest >= 1)) {
  throw new Error(
    'usage: ingest-load.ts <port> closed|open <concurrency|batchesPerSecond> <seconds> <batchesPerRequest>',
  );
}
/** The open loop never holds more than this many requests in flight: the load stays bounded. */
const MAX_IN_FLIGHT = 1024;
const AUTHORIZATION = `Basic ${Buffer.from('bench-key:bench-secret').toString('base64')}`;
const path = perRequest === 1 ? '/v2/events' : '/v2/bulkevents';

const EVENT_TYPES = ['custom_event', 'screen_view', 'custom_event', 'commerce_event', 'custom_event'];

/** One realistic batch, as a JSON string with a unique source_request_id and IDs past 2^53. */
function batchText(id: number): string {
  const mpid = -7636538281262557000n + BigInt(id);
  const events: string[] = [];
  for (let i = 0; i < 10; i++) {
    const type = EVENT_TYPES[i % EVENT_TYPES.length];
    const common =
      `"event_id":${6917529027641081856n + BigInt(id * 10 + i)},"session_id":${-4611686018427387904n - BigInt(id)},` +
      `"timestamp_unixtime_ms":${1700000000000 + i},` +
      `"source_message_id":"3dbfc52e-164f-405e-885e-${(id * 10 + i).toString(16).padStart(12, '0')}",` +
      `"custom_attributes":{"plan":"premium","n":"${i}"}`;
    const data =
      type === 'screen_view'
        ? `{"screen_name":"Product Detail",${common}}`
        : type === 'commerce_event'
          ? `{"product_action":{"action":"add_to_cart","products":[{"id":"sku-${i}","name":"Album","price":9.99,"quantity":2}]},"currency_code":"EUR",${common}}`
          : `{"event_name":"Played track ${i}","custom_event_type":"media",${common}}`;
    events.push(`{"event_type":"${type}","data":${data}}`);
  }
  return (
    `{"environment":"production","source_request_id":"bench-${process.pid}-${id}","mpid":${mpid},` +
    `"ip":"203.0.113.7","user_identities":{"customerid":"c-${id}","email":"user${id}@example.com"},` +
    `"user_attributes":{"$firstname":"Zoë","tier":"gold"},` +
    `"device_info":{"platform":"iOS","os_version":"17.2","device_manufacturer":"Apple","device_model":"iPhone15,2"},` +
    `"application_info":{"application_name":"bench","application_version":"5.2.1"},` +
    `"events":[${events.join(',')}]}`
  );
}

let nextId = 0;
function body(): Buffer {
  if (perRequest === 1) return Buffer.from(batchText(nextId++));
  const batches: string[] = [];
  for (let i = 0; i < perRequest; i++) batches.push(batchText(nextId++));
  return Buffer.from(`[${batches.join(',')}]`);
}

const agent = new Agent({ keepAlive: true, maxSockets: mode === 'closed' ? level : MAX_IN_FLIGHT });
const latencies: number[] = [];
const statuses = new Map<number, number>();
let bytesSent = 0;
let inFlight = 0;

function send(scheduledAt: number): Promise<void> {
  const payload = body();
  bytesSent += payload.length;
  inFlight++;
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: AUTHORIZATION },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          inFlight--;
          const status = res.statusCode ?? 0;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 202) latencies.push(performance.now() - scheduledAt);
          resolve();
        });
      },
    );
    req.on('error', () => {
      inFlight--;
      statuses.set(0, (statuses.get(0) ?? 0) + 1);
      resolve();
    });
    req.end(payload);
  });
}

const started = performance.now();
const deadline = started + durationMs;
let skipped = 0;
if (mode === 'closed') {
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) await send(performance.now());
  };
  await Promise.all(Array.from({ length: level }, worker));
} else {
  const requestsPerSecond = level / perRequest;
  const pending = new Set<Promise<void>>();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(Math.floor(((Math.min(now, deadline) - started) * requestsPerSecond) / 1000), Infinity);
      for (; sent < due; sent++) {
        const scheduledAt = started + (sent * 1000) / requestsPerSecond;
        if (inFlight >= MAX_IN_FLIGHT) {
          skipped++;
          continue;
        }
        const promise = send(scheduledAt);
        pending.add(promise);
        void promise.then(() => pending.delete(promise));
      }
      if (now >= deadline) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
}
const elapsedMs = performance.now() - started;
agent.destroy();

latencies.sort((a, b) => a - b);
const quantile = (q: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
const accepted = latencies.length;
process.stdout.write(
  `${JSON.stringify({
    mode,
    level,
    perRequest,
    path,
    elapsedMs,
    requestsAccepted: accepted,
    batchesAccepted: accepted * perRequest,
    eventsAccepted: accepted * perRequest * 10,
    avgBatchBytes: Math.round(bytesSent / Math.max(1, nextId)),
    p50Ms: quantile(0.5),
    p99Ms: quantile(0.99),
    maxMs: latencies[latencies.length - 1] ?? NaN,
    statuses: Object.fromEntries(statuses),
    skipped,
  })}\n`,
);
