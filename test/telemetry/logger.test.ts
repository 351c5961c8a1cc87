import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
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
});
