// Classification of client errors by class, Kafka protocol code and Node error code (unit level;
// smoke.test.ts checks the same against real broker failures).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyKafkaError, kafkaErrorTable } from '../../../src/sinks/kafka/error-table.ts';
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  TimeoutError,
  UserError,
  normalizeKafkaError,
} from '../../../src/sinks/kafka/kafka-client.ts';

function nodeError(code: string): Error {
  return Object.assign(new Error(`node error ${code}`), { code });
}

void test('Kafka protocol errors map to their kind', () => {
  const expectations: [string, string, string][] = [
    ['SASL_AUTHENTICATION_FAILED', 'configuration', 'SASL_AUTHENTICATION_FAILED'],
    ['UNKNOWN_TOPIC_OR_PARTITION', 'configuration', 'UNKNOWN_TOPIC'],
    ['TOPIC_AUTHORIZATION_FAILED', 'configuration', 'NOT_AUTHORIZED'],
    ['NOT_LEADER_OR_FOLLOWER', 'retryable', 'CLUSTER_BUSY'],
    ['NOT_ENOUGH_REPLICAS', 'retryable', 'CLUSTER_BUSY'],
    ['REQUEST_TIMED_OUT', 'retryable', 'CLUSTER_BUSY'],
    ['MESSAGE_TOO_LARGE', 'per-record', 'RECORD_TOO_LARGE'],
    ['CORRUPT_MESSAGE', 'per-record', 'RECORD_INVALID'],
    ['INVALID_RECORD', 'per-record', 'RECORD_INVALID'],
  ];
  for (const [protocolId, kind, code] of expectations) {
    const result = classifyKafkaError(new ProtocolError(protocolId));
    assert.deepEqual([result.kind, result.code, result.matched], [kind, code, `kafka:${protocolId}`], protocolId);
  }
});

void test('protocol errors are found inside nested aggregates and causes', () => {
  const nested = new MultipleErrors('produce failed 3 times', [
    new NetworkError('Connection closed'),
    new MultipleErrors('inner', [new ProtocolError(10)]),
  ]);
  assert.equal(classifyKafkaError(nested).code, 'RECORD_TOO_LARGE');
});

void test('TLS verification failures are configuration errors with a fix', () => {
  const untrusted = new NetworkError('Connection to 127.0.0.1:9093 failed.', {
    cause: nodeError('SELF_SIGNED_CERT_IN_CHAIN'),
  });
  assert.deepEqual(
    { ...classifyKafkaError(untrusted), reason: undefined },
    {
      kind: 'configuration',
      code: 'TLS_UNTRUSTED_CERTIFICATE',
      reason: undefined,
      fix: 'set ca_file to the CA that signed the broker certificate',
      matched: 'node:SELF_SIGNED_CERT_IN_CHAIN',
      freshProducer: false,
    },
  );
  assert.equal(classifyKafkaError(nodeError('ERR_TLS_CERT_ALTNAME_INVALID')).code, 'TLS_HOSTNAME_MISMATCH');
  assert.equal(classifyKafkaError(nodeError('CERT_HAS_EXPIRED')).code, 'TLS_CERTIFICATE_EXPIRED');
});

void test('only lost producer state asks for a new producer; transient errors keep the producer id', () => {
  for (const id of ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']) {
    assert.equal(classifyKafkaError(new ProtocolError(id)).freshProducer, true, id);
  }
  for (const id of [
    'NOT_LEADER_OR_FOLLOWER',
    'NOT_ENOUGH_REPLICAS',
    'REQUEST_TIMED_OUT',
    'SASL_AUTHENTICATION_FAILED',
  ]) {
    assert.equal(classifyKafkaError(new ProtocolError(id)).freshProducer, false, id);
  }
  assert.equal(
    classifyKafkaError(new NetworkError('failed', { cause: nodeError('ECONNREFUSED') })).freshProducer,
    false,
  );
});

void test('a configuration cause wins over the connection resets around it', () => {
  const mixed = new MultipleErrors('Cannot connect to any broker.', [
    new NetworkError('failed', { cause: nodeError('ECONNREFUSED') }),
    new NetworkError('failed', { cause: nodeError('UNABLE_TO_VERIFY_LEAF_SIGNATURE') }),
  ]);
  assert.equal(classifyKafkaError(mixed).kind, 'configuration');
});

void test('a closed connection is explained by a related socket error', () => {
  const closed = new NetworkError('Connection closed');
  assert.equal(classifyKafkaError(closed).kind, 'retryable');
  const alert = new NetworkError('Connection error', { cause: nodeError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') });
  assert.equal(classifyKafkaError(closed, [alert]).code, 'TLS_CLIENT_CERTIFICATE_REJECTED');
  assert.equal(classifyKafkaError(closed, [undefined]).kind, 'retryable');
});

void test('a closed connection (the client’s NetworkError, no socket code) is a retryable BROKER_UNREACHABLE', () => {
  // What @platformatic/kafka raises when a connection closes under a request (or before it was ready).
  for (const closed of [
    new NetworkError('Connection closed'),
    new NetworkError('Connection closed while waiting for ready.'),
  ]) {
    const result = classifyKafkaError(closed);
    assert.deepEqual(
      [result.kind, result.code, result.matched, result.freshProducer],
      ['retryable', 'BROKER_UNREACHABLE', 'client:NetworkError', false],
    );
  }
  // Inside the aggregate a failed send throws, too.
  const aggregate = new MultipleErrors('Produce failed', [new NetworkError('Connection closed')]);
  assert.equal(classifyKafkaError(aggregate).code, 'BROKER_UNREACHABLE');
  // Matched by class, not by text: the same class with another message is classified alike.
  assert.equal(classifyKafkaError(new NetworkError('Verbindung geschlossen')).code, 'BROKER_UNREACHABLE');
  // A more specific fact around it still wins: a timeout, a protocol error, a socket code.
  assert.equal(
    classifyKafkaError(new MultipleErrors('x', [new NetworkError('Connection closed'), new TimeoutError('t')])).code,
    'TIMEOUT',
  );
  assert.equal(
    classifyKafkaError(new MultipleErrors('x', [new NetworkError('Connection closed'), new ProtocolError(6)])).code,
    'CLUSTER_BUSY',
  );
  const refused = classifyKafkaError(new NetworkError('Connection error', { cause: nodeError('ECONNREFUSED') }));
  assert.equal(refused.matched, 'node:ECONNREFUSED');
  // Our own closed client is not the broker's doing: the client says it must not be retried.
  assert.equal(
    classifyKafkaError(new NetworkError('Client is closed.', { canRetry: false, closed: true })).code,
    'UNCLASSIFIED',
  );
});

void test('client error classes: authentication, timeout, socket errors', () => {
  assert.equal(classifyKafkaError(new AuthenticationError('SASL authentication failed.')).kind, 'configuration');
  assert.equal(classifyKafkaError(new TimeoutError('Connection timed out.')).code, 'TIMEOUT');
  assert.equal(
    classifyKafkaError(new NetworkError('x', { cause: nodeError('ECONNREFUSED') })).code,
    'BROKER_UNREACHABLE',
  );
  assert.equal(
    classifyKafkaError(new UserError('TLS handshake failed.', { cause: nodeError('ECONNRESET') })).code,
    'TLS_NOT_A_TLS_LISTENER',
  );
});

void test('unknown errors are retryable and unclassified', () => {
  const result = classifyKafkaError(new Error('something odd'));
  assert.deepEqual([result.kind, result.code], ['retryable', 'UNCLASSIFIED']);
  assert.equal(classifyKafkaError('not even an error').code, 'UNCLASSIFIED');
});

void test("the library's bare 'Unknown topic' UserError is turned back into UNKNOWN_TOPIC_OR_PARTITION", () => {
  const bare = new UserError('Unknown topic events.');
  const normalized = normalizeKafkaError(bare) as ProtocolError;
  assert.equal(normalized.apiId, 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(normalized.cause, bare);
  assert.equal(classifyKafkaError(new MultipleErrors('send failed', [bare])).code, 'UNKNOWN_TOPIC');
  const other = new UserError('Failed to serialize a message.');
  assert.equal(normalizeKafkaError(other), other);
});

void test('every rule has a reason and a fix, and every rule can match something', () => {
  for (const rule of kafkaErrorTable) {
    assert.ok(rule.reason.length > 0 && rule.fix.length > 0, rule.code);
    assert.ok((rule.protocol?.length ?? 0) + (rule.node?.length ?? 0) + (rule.classes?.length ?? 0) > 0, rule.code);
  }
});
