import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { MultipleErrors, NetworkError, ProtocolError, ResponseError } from '@platformatic/kafka';
import { ForwarderError } from '../../src/errors.ts';
import { createLogger, redactSecrets } from '../../src/telemetry/logger.ts';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

test('secrets are censored at any depth, whatever the path', () => {
  const { stream, text } = capture();
  const logger = createLogger({ level: 'debug', destination: stream });
  logger.debug(
    {
      config: {
        inputs: [{ name: 'web', credentials: [{ apiKey: 'key-1', apiSecret: 'api-secret-canary' }] }],
        outputs: [{ password: 'password-canary', sasl: { username: 'u', password: 'x' }, clientKeyPem: PEM }],
      },
      tls: { key: PEM },
      note: PEM,
    },
    'loaded',
  );
  const line = text();
  assert.doesNotMatch(line, /api-secret-canary|password-canary|PRIVATE KEY/);
  assert.match(line, /"apiKey":"key-1"/);
  assert.match(line, /\[redacted\]/);
});

test('redactSecrets leaves objects without secrets untouched and does not mutate its input', () => {
  const plain = { a: { b: [1, 'two', { c: null }] } };
  assert.equal(redactSecrets(plain), plain);
  const withSecret = { outer: { password: 'p' } };
  const redacted = redactSecrets(withSecret);
  assert.deepEqual(redacted, { outer: { password: '[redacted]' } });
  assert.equal(withSecret.outer.password, 'p');
});

test('cyclic objects do not hang the logger', () => {
  const cyclic: Record<string, unknown> = { password: 'p' };
  cyclic.self = cyclic;
  const redacted = redactSecrets(cyclic);
  assert.equal(redacted.password, '[redacted]');
});

test('errors carrying secrets in their properties or cause are censored too', () => {
  const { stream, text } = capture();
  const logger = createLogger({ level: 'info', destination: stream });
  const cause = Object.assign(new Error('inner'), { sasl: { password: 'cause-canary' } });
  const error = Object.assign(new Error('outer', { cause }), { options: { password: 'prop-canary' } });
  logger.error({ err: error }, 'failed');
  const line = text();
  assert.doesNotMatch(line, /cause-canary|prop-canary/);
  assert.match(line, /outer/);
  assert.match(line, /"type":"Error"/, 'the censored copy keeps the error’s type');
});

// --- nested errors: the codes an operator needs, flattened; never a secret ---

interface LoggedError {
  type?: string;
  message?: string;
  codes?: { code?: string; apiCode?: number; apiId?: string; path?: string; message?: string }[];
  codesOmitted?: number;
}

function loggedLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** What @platformatic/kafka throws when a produce request comes back with per-partition errors. */
function produceFailure(response: object = { throttleTimeMs: 0 }): MultipleErrors {
  const answer = new ResponseError(
    0, // Produce
    9,
    { '/topics/0/partitions/0': [6, null], '/topics/0/partitions/1': [19, 'only 1 in sync'] },
    response,
  );
  return new MultipleErrors('Sending failed.', [answer]);
}

test('a Kafka error nested in a cause shows its codes down the nesting (apiCode, apiId, path)', () => {
  const { stream, text } = capture();
  const logger = createLogger({ level: 'info', destination: stream });
  const refused = new ForwarderError(
    'SPOOL_UNAVAILABLE',
    { reason: 'the intake topic could not be written' },
    { cause: produceFailure() },
  );
  logger.warn({ err: refused }, 'intake write failed');
  const [line] = loggedLines(text());
  const err = line.err as LoggedError;
  assert.equal(err.type, 'ForwarderError');
  assert.doesNotMatch(text(), /\[Array\]|\[Object\]/);
  assert.deepEqual(
    err.codes?.map(({ code, apiCode, apiId, path }) => ({ code, apiCode, apiId, path })),
    [
      { code: 'SPOOL_UNAVAILABLE', apiCode: undefined, apiId: undefined, path: undefined },
      { code: 'PLT_KFK_MULTIPLE', apiCode: undefined, apiId: undefined, path: undefined },
      { code: 'PLT_KFK_RESPONSE', apiCode: undefined, apiId: undefined, path: undefined },
      { code: 'PLT_KFK_PROTOCOL', apiCode: 6, apiId: 'NOT_LEADER_OR_FOLLOWER', path: '/topics/0/partitions/0' },
      { code: 'PLT_KFK_PROTOCOL', apiCode: 19, apiId: 'NOT_ENOUGH_REPLICAS', path: '/topics/0/partitions/1' },
    ],
  );
  assert.match(err.codes?.[1].message ?? '', /^Sending failed\./);
});

test('an error under any key is serialized with its codes, not as {}', () => {
  const { stream, text } = capture();
  const logger = createLogger({ level: 'info', destination: stream });
  logger.warn({ error: produceFailure(), attempt: 2 }, 'send failed');
  const [line] = loggedLines(text());
  const error = line.error as LoggedError;
  assert.equal(error.message?.startsWith('Sending failed.'), true, JSON.stringify(line));
  assert.deepEqual(
    error.codes?.map((entry) => entry.apiId ?? entry.code),
    ['PLT_KFK_MULTIPLE', 'PLT_KFK_RESPONSE', 'NOT_LEADER_OR_FOLLOWER', 'NOT_ENOUGH_REPLICAS'],
  );
});

test('the flattened codes are bounded in depth and count', () => {
  const { stream, text } = capture();
  const logger = createLogger({ level: 'info', destination: stream });
  let deep: Error = new NetworkError('bottom', { cause: Object.assign(new Error('socket'), { code: 'ECONNRESET' }) });
  for (let i = 0; i < 50; i++) deep = new NetworkError(`level ${i}`, { cause: deep });
  logger.warn({ err: deep }, 'deep');
  const wide = new MultipleErrors(
    'many',
    Array.from({ length: 100 }, () => new ProtocolError('NOT_LEADER_OR_FOLLOWER')),
  );
  logger.warn({ err: wide }, 'wide');
  const [deepLine, wideLine] = loggedLines(text()).map((line) => line.err as LoggedError);
  for (const err of [deepLine, wideLine]) {
    assert.ok((err.codes?.length ?? 0) > 0 && (err.codes?.length ?? 0) <= 20, String(err.codes?.length));
    assert.ok((err.codesOmitted ?? 0) > 0, 'says that some were left out');
  }
  assert.equal(wideLine.codes?.[1].apiId, 'NOT_LEADER_OR_FOLLOWER');
});

test('secrets inside nested Kafka errors (aggregated errors, their responses) are censored', () => {
  const { stream, text } = capture();
  const logger = createLogger({ level: 'info', destination: stream });
  const failure = produceFailure({ sasl: { password: 'nested-canary' }, note: PEM });
  logger.error({ err: failure }, 'failed');
  logger.error({ err: new NetworkError('outer', { cause: failure }) }, 'failed in a cause');
  const output = text();
  assert.doesNotMatch(output, /nested-canary|PRIVATE KEY/);
  assert.match(output, /NOT_ENOUGH_REPLICAS/);
});

test('an object logged twice in one line is censored both times', () => {
  const { stream, text } = capture();
  const logger = createLogger({ level: 'info', destination: stream });
  const output = { name: 'events', password: 'twice-canary' };
  logger.info({ first: output, second: output }, 'shared');
  assert.doesNotMatch(text(), /twice-canary/);
  const shared = { password: 'p' };
  const redacted = redactSecrets({ a: shared, b: [shared] });
  assert.deepEqual(redacted, { a: { password: '[redacted]' }, b: [{ password: '[redacted]' }] });
});
