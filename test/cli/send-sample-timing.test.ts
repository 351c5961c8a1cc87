// `send-sample` tells when the records will be in Kafka, and why: with the example config (Send as
// Batch on, 10-minute windows) nothing shows up for ten minutes, which looks like a failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { whenRecordsAppear } from '../../src/cli/commands/send-sample.ts';
import { buildConfig } from '../../src/config/index.ts';

function raw(settings: Record<string, unknown>) {
  return {
    inputs: [{ name: 'web', credentials: [{ api_key: 'key-1', api_secret: 'secret-1' }] }],
    outputs: [{ name: 'events', bootstrap_servers: 'broker-1:9093', topic: 'mparticle-events' }],
    connections: [{ name: 'web-to-events', input: 'web', output: 'events', settings }],
  };
}

const now = new Date('2026-12-01T10:00:00Z');

void test('Send as Batch: says the records wait for the window, when they will appear, and how to see them at once', async () => {
  const config = await buildConfig(raw({}));
  const [line] = whenRecordsAppear(config, 'key-1', now);
  assert.match(line, /^topic mparticle-events \(connection web-to-events\): Send as Batch is on/);
  assert.match(line, /batch_window_ms \(10 minutes\)/);
  assert.match(line, /appear around 10:10:00 UTC/);
  assert.match(line, /send_as_batch: false/);
});

void test('per event and Wait for Complete Batch say what applies to them', async () => {
  const perEvent = await buildConfig(raw({ send_as_batch: false }));
  assert.match(whenRecordsAppear(perEvent, 'key-1', now)[0], /one record per event, in Kafka within moments/);
  const sessions = await buildConfig(raw({ wait_for_complete_batch: true, session_timeout_ms: 90_000 }));
  assert.match(whenRecordsAppear(sessions, 'key-1', now)[0], /when each session ends .*\(90 s\)/);
});

void test('without a config the general rule is printed', () => {
  assert.match(whenRecordsAppear(undefined, 'any').join(' '), /batch_window_ms, 10 minutes by default/);
});
