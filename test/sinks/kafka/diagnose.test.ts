// The staged diagnosis itself: its pure helpers, the order and stop-at-first-failure contract, and
// the SASL-stage verdicts the CLI tests do not cover, against the real test cluster.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  diagnoseKafkaOutput,
  formatName,
  parseHostPort,
  similarNames,
  STAGES,
  type StageResult,
} from '../../../src/sinks/kafka/diagnose/index.ts';
import { getTestKafkaCluster, securitySettings, uniqueTopicName, type KafkaCluster } from '../../support/kafka.ts';

void describe('diagnose helpers', () => {
  void it('parseHostPort splits host names, IPv4 and bracketed IPv6', () => {
    assert.deepEqual(parseHostPort('broker-1.example.com:9093'), {
      host: 'broker-1.example.com',
      port: 9093,
      text: 'broker-1.example.com:9093',
    });
    assert.deepEqual(parseHostPort('[2001:db8::1]:9094'), {
      host: '2001:db8::1',
      port: 9094,
      text: '[2001:db8::1]:9094',
    });
  });

  void it('similarNames finds typos and separator/case variants, never internal topics', () => {
    const topics = ['mparticle-events', 'mparticle_events_v2', 'orders', '__consumer_offsets'];
    assert.deepEqual(similarNames('mparticle-event', topics), ['mparticle-events']);
    assert.deepEqual(similarNames('MParticle_Events', topics), ['mparticle-events']);
    assert.deepEqual(similarNames('payments', topics), []);
    assert.deepEqual(similarNames('__consumer_offset', topics), []);
  });

  void it('formatName orders the usual attributes and quotes the result', () => {
    assert.equal(formatName({ O: 'Acme', CN: 'broker-1' }), '"CN=broker-1, O=Acme"');
    assert.equal(formatName(undefined), '(none)');
  });
});

void describe('diagnoseKafkaOutput against a real broker', () => {
  let cluster: KafkaCluster;
  let topic: string;
  before(async () => {
    cluster = await getTestKafkaCluster(1);
    topic = uniqueTopicName('diagnose');
    await cluster.createTopic(topic, { partitions: 2 });
  });

  void it('reports all six stages in order through onStage when everything is right', async () => {
    const seen: StageResult[] = [];
    const diagnosis = await diagnoseKafkaOutput({
      security: securitySettings(cluster, 'SCRAM-SHA-256'),
      topic,
      timeoutMs: 5000,
      onStage: (result) => seen.push(result),
    });
    assert.equal(diagnosis.ok, true);
    assert.deepEqual(
      seen.map((result) => result.stage),
      STAGES.map((stage) => stage.name),
    );
    assert.deepEqual(diagnosis.stages, seen);
    assert.ok(seen.every((result) => result.status === 'pass'));
  });

  void it('stops at SASL when a username is sent to a listener without SASL', async () => {
    const diagnosis = await diagnoseKafkaOutput({
      security: { ...securitySettings(cluster, 'SCRAM-SHA-512'), bootstrapServers: cluster.bootstrapServers('SSL') },
      topic,
      timeoutMs: 5000,
    });
    assert.equal(diagnosis.failed, 'sasl');
    assert.equal(diagnosis.stages.length, 4);
    assert.match(diagnosis.stages[3].summary, /does not use SASL, but a username is set/);
  });

  void it('stops at SASL when no username is given to a SASL listener', async () => {
    const diagnosis = await diagnoseKafkaOutput({
      security: { ...securitySettings(cluster, 'SSL'), bootstrapServers: cluster.bootstrapServers('SASL_SSL') },
      topic,
      timeoutMs: 5000,
    });
    assert.equal(diagnosis.failed, 'sasl');
    assert.match(diagnosis.stages[3].fix ?? '', /set username, password and authentication_method/);
  });

  void it('goes on with the reachable bootstrap servers, warning about the others', async () => {
    const diagnosis = await diagnoseKafkaOutput({
      security: {
        ...securitySettings(cluster, 'PLAIN'),
        bootstrapServers: ['127.0.0.1:1', ...cluster.bootstrapServers('SASL_SSL')],
      },
      topic,
      timeoutMs: 5000,
    });
    assert.equal(diagnosis.ok, true);
    assert.equal(diagnosis.stages[1].status, 'warn');
    assert.match(diagnosis.stages[1].summary, /1 of 2 bootstrap servers reachable/);
  });
});
