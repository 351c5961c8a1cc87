// 5xx answers of the Events API are logged sampled per code, like the 4xx lines: a 503 (the spool or
// the intake cannot store now, expected while a disk or Kafka is down) at warn with the code, the
// message and the cause's code, without a stack; a 500 (unexpected) at error with its stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { ForwarderError } from '../../../src/errors.ts';
import { Authenticator } from '../../../src/sources/events-api/auth.ts';
import { createIngestHandler } from '../../../src/sources/events-api/index.ts';
import { createFailureLog } from '../../../src/sources/events-api/rejection-log.ts';
import { createLogger, Metrics } from '../../../src/telemetry/index.ts';
import { basicAuth } from '../../support/auth.ts';

interface LogLine {
  level: string;
  msg: string;
  requestId?: string;
  route?: string;
  input?: string;
  status?: number;
  reason?: string;
  message?: string;
  causeCode?: string;
  suppressedSinceLastLine?: number;
  err?: { message?: string; stack?: string };
}

function capturedLogger(level: 'info' | 'warn' | 'error' = 'info') {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.startsWith('{')) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}

const unavailable = () =>
  new ForwarderError(
    'SPOOL_UNAVAILABLE',
    { reason: 'the intake topic could not be written (Connection closed)' },
    { cause: Object.assign(new Error('Connection closed'), { code: 'PLT_KFK_NETWORK' }) },
  );

const failure = (error: unknown, status: number) => ({
  requestId: 'req-1',
  route: '/v2/events',
  input: 'web',
  status,
  error,
});

test('503s: warn with code, message and the cause’s code, no stack; sampled per code with the count left out', () => {
  const log = capturedLogger();
  let now = 0;
  const logFailure = createFailureLog(log.logger, { perWindow: 2, windowMs: 1000, now: () => now });
  for (let i = 0; i < 5; i++) logFailure(failure(unavailable(), 503));
  logFailure(failure(new ForwarderError('SHUTTING_DOWN'), 503));
  assert.deepEqual(
    log.lines.map((line) => [line.level, line.reason]),
    [
      ['warn', 'SPOOL_UNAVAILABLE'],
      ['warn', 'SPOOL_UNAVAILABLE'],
      ['warn', 'SHUTTING_DOWN'],
    ],
    'each code has its own budget',
  );
  const [first] = log.lines;
  assert.equal(first.msg, 'ingest unavailable');
  assert.deepEqual(
    {
      requestId: first.requestId,
      route: first.route,
      input: first.input,
      status: first.status,
      causeCode: first.causeCode,
    },
    { requestId: 'req-1', route: '/v2/events', input: 'web', status: 503, causeCode: 'PLT_KFK_NETWORK' },
  );
  assert.match(first.message ?? '', /^The spool cannot store batches right now: the intake topic could not be written/);
  assert.equal(first.err, undefined, 'an expected outage carries no stack');
  assert.ok(!JSON.stringify(log.lines).includes('    at '), 'no stack frame anywhere');

  now = 1000;
  logFailure(failure(unavailable(), 503));
  assert.equal(log.lines.length, 4);
  assert.equal(log.lines[3].suppressedSinceLastLine, 3, 'the three left out are counted on the next line');
  logFailure(failure(unavailable(), 503));
  assert.equal(log.lines[4].suppressedSinceLastLine, undefined);
});

test('500s: error with the stack, sampled too', () => {
  const log = capturedLogger();
  let now = 0;
  const logFailure = createFailureLog(log.logger, { perWindow: 3, windowMs: 1000, now: () => now });
  for (let i = 0; i < 10; i++) logFailure(failure(new TypeError(`bug ${i}`), 500));
  assert.equal(log.lines.length, 3);
  const [first] = log.lines;
  assert.equal(first.level, 'error');
  assert.equal(first.msg, 'ingest failed');
  assert.equal(first.reason, 'INTERNAL');
  assert.equal(first.status, 500);
  assert.match(first.err?.stack ?? '', /TypeError: bug 0\n\s+at /);
  now = 5000;
  logFailure(failure(new TypeError('bug again'), 500));
  assert.equal(log.lines[3].suppressedSinceLastLine, 7);
});

test('nothing is logged below the line’s level', () => {
  const log = capturedLogger('error');
  const logFailure = createFailureLog(log.logger);
  logFailure(failure(unavailable(), 503));
  assert.equal(log.lines.length, 0, 'a 503 is a warning');
  logFailure(failure(new Error('bug'), 500));
  assert.equal(log.lines.length, 1, 'a 500 is an error');
});

test('ingest: a run of 503s from a failing store logs at most 10 lines, at warn, without stacks', async () => {
  const log = capturedLogger();
  const handler = createIngestHandler({
    authenticator: new Authenticator([{ input: 'web', credentials: [{ apiKey: 'k', apiSecret: 's' }] }]),
    spool: { append: () => Promise.reject(unavailable()) },
    destinationsFor: () => ['c'],
    limits: {
      maxRequestBytes: 256 * 1024,
      maxBatchBytes: 128 * 1024,
      maxBatchesPerBulk: 100,
      maxInFlightBytes: 1 << 24,
    },
    metrics: new Metrics(),
    logger: log.logger,
  });
  const server = createServer((request, response) => void handler(request, response, false));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    for (let i = 0; i < 30; i++) {
      const answer = await fetch(`http://127.0.0.1:${port}/v2/events`, {
        method: 'POST',
        headers: { authorization: basicAuth('k', 's'), 'content-type': 'application/json' },
        body: JSON.stringify({ environment: 'development', mpid: 1, events: [] }),
      });
      assert.equal(answer.status, 503, await answer.text());
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.equal(log.lines.length, 10, JSON.stringify(log.lines.map((line) => line.msg)));
  assert.ok(log.lines.every((line) => line.level === 'warn' && line.reason === 'SPOOL_UNAVAILABLE'));
  assert.ok(log.lines.every((line) => line.err === undefined && line.causeCode === 'PLT_KFK_NETWORK'));
});
