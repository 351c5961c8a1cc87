// Against a real broker: our producer writes and our consumer reads back over every security
// mode the product supports, and each kind of misconfiguration fails with a classified error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { classifyKafkaError, type KafkaErrorClassification } from '../../../src/sinks/kafka/error-table.ts';
import {
  createProducer,
  kafkaConnection,
  lastConnectionError,
  type KafkaSecuritySettings,
} from '../../../src/sinks/kafka/kafka-client.ts';
import {
  getTestKafkaCluster,
  readRecords,
  securitySettings,
  uniqueTopicName,
  type KafkaCluster,
  type TestSecurity,
} from '../../support/kafka.ts';

let cluster: KafkaCluster;

before(async () => {
  cluster = await getTestKafkaCluster(1);
});

/** Produces one record with the settings and returns how the attempt failed, classified. */
async function failureOf(settings: KafkaSecuritySettings, topic: string): Promise<KafkaErrorClassification> {
  const producer = createProducer(kafkaConnection(settings), {
    clientId: 'smoke-failure',
    // A few retries ride out what a fresh cluster may still answer (coordinator loading); the
    // misconfigurations under test fail the same way on every attempt.
    retries: 3,
    retryDelayMs: 200,
    connectTimeoutMs: 5000,
    requestTimeoutMs: 5000,
  });
  try {
    await producer.send({ messages: [{ topic, key: 'k', value: 'v' }] });
  } catch (error) {
    return classifyKafkaError(error, [lastConnectionError(producer)]);
  } finally {
    await producer.close(true).catch(() => {});
  }
  assert.fail('the send succeeded although the settings are wrong');
}

void describe('produce and consume back over each security mode', () => {
  const variants: TestSecurity[] = ['SSL', 'MTLS', 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
  for (const variant of variants) {
    void test(`${variant}: a record produced is consumed back unchanged`, async () => {
      const topic = uniqueTopicName(`smoke-${variant.toLowerCase()}`);
      await cluster.createTopic(topic, { partitions: 2 });
      const connection = kafkaConnection(securitySettings(cluster, variant));
      const producer = createProducer(connection, { clientId: `smoke-${variant}` });
      const value = JSON.stringify({ variant, mpid: '-7636538281262557000' });
      try {
        const result = await producer.send({
          messages: [{ topic, key: '-7636538281262557000', value, headers: { source: 'smoke' } }],
        });
        assert.equal(result.offsets?.length, 1);
      } finally {
        await producer.close();
      }
      const [record] = await readRecords(cluster, topic, 1, { connection });
      assert.equal(record.key, '-7636538281262557000');
      assert.equal(record.value, value);
      assert.equal(record.headers.get('source'), 'smoke');
    });
  }
});

void describe('misconfigured connections fail with a classified configuration error', () => {
  let topic: string;
  before(async () => {
    topic = uniqueTopicName('smoke-failures');
    await cluster.createTopic(topic);
  });

  void test('wrong SCRAM password', async () => {
    const settings = { ...securitySettings(cluster, 'SCRAM-SHA-256'), password: 'not-the-password' };
    const failure = await failureOf(settings, topic);
    assert.equal(failure.kind, 'configuration');
    assert.equal(failure.code, 'SASL_AUTHENTICATION_FAILED');
    assert.match(failure.fix, /username\/password and mechanism/);
  });

  void test('wrong PLAIN password', async () => {
    const settings = { ...securitySettings(cluster, 'PLAIN'), password: 'not-the-password' };
    const failure = await failureOf(settings, topic);
    assert.equal(failure.kind, 'configuration');
    assert.equal(failure.code, 'SASL_AUTHENTICATION_FAILED');
  });

  void test('unknown user', async () => {
    const settings = { ...securitySettings(cluster, 'SCRAM-SHA-512'), username: 'nobody' };
    const failure = await failureOf(settings, topic);
    assert.equal(failure.kind, 'configuration');
    assert.equal(failure.code, 'SASL_AUTHENTICATION_FAILED');
  });

  void test('broker certificate signed by a CA the client does not trust', async () => {
    const settings = { ...securitySettings(cluster, 'SSL'), caPem: readFileSync(cluster.untrustedCaPemPath, 'utf8') };
    const failure = await failureOf(settings, topic);
    assert.equal(failure.kind, 'configuration');
    assert.equal(failure.code, 'TLS_UNTRUSTED_CERTIFICATE');
    assert.match(failure.fix, /ca_file/);
  });

  void test('host name not covered by the broker certificate', async () => {
    const settings = { ...securitySettings(cluster, 'SSL'), bootstrapServers: cluster.bootstrapServers('WRONGHOST') };
    const failure = await failureOf(settings, topic);
    assert.equal(failure.kind, 'configuration');
    assert.equal(failure.code, 'TLS_HOSTNAME_MISMATCH');
    assert.equal(failure.matched, 'node:ERR_TLS_CERT_ALTNAME_INVALID');
  });

  void test('mTLS listener without a client certificate', async () => {
    const { clientCertPem: _cert, clientKeyPem: _key, ...settings } = securitySettings(cluster, 'MTLS');
    const failure = await failureOf(settings, topic);
    assert.equal(failure.kind, 'configuration');
    assert.equal(failure.code, 'TLS_CLIENT_CERTIFICATE_REJECTED');
  });

  void test('topic that does not exist', async () => {
    const failure = await failureOf(securitySettings(cluster, 'SSL'), uniqueTopicName('missing'));
    assert.equal(failure.kind, 'configuration');
    assert.equal(failure.code, 'UNKNOWN_TOPIC');
  });
});
