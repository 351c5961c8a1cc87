// Rejected requests are logged at info with what finds the client (request id, input, status,
// reason) and never the body or the credentials; a flood of one reason is sampled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createRejectionLog } from '../../../src/sources/events-api/rejection-log.ts';
import { createLogger } from '../../../src/telemetry/index.ts';
import { API_SECRET, basicAuth, post, smallBatch, startTestForwarder } from './support/forwarder.ts';

interface LogLine {
  level: string;
  msg: string;
  requestId?: string;
  input?: string;
  status?: number;
  reason?: string;
  message?: string;
  route?: string;
  suppressedSinceLastLine?: number;
}

function capturedLogger(level: 'info' | 'warn' = 'info') {
  const lines: LogLine[] = [];
  let raw = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw += chunk.toString('utf8');
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.startsWith('{')) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines, raw: () => raw };
}

test('a 400 and a 403 are logged at info with request id, input, status and reason; no body, no secret', async () => {
  const log = capturedLogger();
  const server = await startTestForwarder({ logger: log.logger });
  try {
    const secretMarker = 'body-marker-7f3a';
    const bad = await post(server.url, '/v2/events', `{"events": [{"x": "${secretMarker}"`, {
      headers: { 'x-request-id': 'client-req-42' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('x-request-id'), 'client-req-42', 'the client’s id is echoed');
    const forbidden = await post(server.url, '/v2/events', smallBatch('forbidden'), {
      headers: { authorization: basicAuth('test-key', 'wrong-secret-9c1d') },
    });
    assert.equal(forbidden.status, 403);
    const generated = forbidden.headers.get('x-request-id');
    assert.match(generated ?? '', /^[0-9a-f-]{36}$/, 'one of ours when the client sent none');
    const accepted = await post(server.url, '/v2/events', smallBatch('fine'));
    assert.equal(accepted.status, 202);
    assert.ok(accepted.headers.get('x-request-id') !== null, 'a 202 carries it too');

    const rejected = log.lines.filter((line) => line.msg === 'request rejected');
    assert.equal(rejected.length, 2, JSON.stringify(rejected));
    const [first, second] = rejected;
    assert.equal(first.level, 'info');
    assert.deepEqual(
      {
        requestId: first.requestId,
        input: first.input,
        status: first.status,
        reason: first.reason,
        route: first.route,
      },
      { requestId: 'client-req-42', input: 'web', status: 400, reason: 'BAD_JSON', route: '/v2/events' },
    );
    assert.match(first.message ?? '', /not valid JSON/);
    assert.deepEqual(
      { requestId: second.requestId, input: second.input, status: second.status, reason: second.reason },
      { requestId: generated, input: undefined, status: 403, reason: 'AUTH_INVALID' },
    );
    for (const leaked of [secretMarker, 'wrong-secret-9c1d', API_SECRET])
      assert.ok(!log.raw().includes(leaked), `${leaked} is not in the log`);
  } finally {
    await server.close();
  }
});

test('a request id that is not a plain token is replaced by one of ours', async () => {
  const server = await startTestForwarder();
  try {
    const answer = await post(server.url, '/v2/events', smallBatch('odd-id'), {
      headers: { 'x-request-id': 'has spaces and "quotes"' },
    });
    assert.equal(answer.status, 202);
    assert.match(answer.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  } finally {
    await server.close();
  }
});

test('sampling: at most perWindow lines per reason per window, then the count left out', () => {
  const log = capturedLogger();
  let now = 0;
  const logRejection = createRejectionLog(log.logger, { perWindow: 2, windowMs: 1000, now: () => now });
  const rejection = (reason: string) => ({
    requestId: 'r',
    route: '/v2/events',
    input: 'web',
    status: 400,
    reason,
    message: 'm',
  });
  for (let i = 0; i < 5; i++) logRejection(rejection('BAD_JSON'));
  logRejection(rejection('BATCH_INVALID'));
  assert.deepEqual(
    log.lines.map((line) => line.reason),
    ['BAD_JSON', 'BAD_JSON', 'BATCH_INVALID'],
    'each reason has its own budget',
  );
  now = 1000;
  logRejection(rejection('BAD_JSON'));
  assert.equal(log.lines.length, 4);
  assert.equal(log.lines[3].suppressedSinceLastLine, 3, 'the three left out are counted on the next line');
  logRejection(rejection('BAD_JSON'));
  assert.equal(log.lines[4].suppressedSinceLastLine, undefined);
});

test('nothing is logged below info', () => {
  const log = capturedLogger('warn');
  createRejectionLog(log.logger)({
    requestId: 'r',
    route: '/v2/events',
    input: 'web',
    status: 400,
    reason: 'BAD_JSON',
    message: 'm',
  });
  assert.equal(log.lines.length, 0);
});
