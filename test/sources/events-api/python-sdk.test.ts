// Batches built by mParticle's official Python SDK (`mparticle` on PyPI, pinned), as a Python user
// sends them: events with the fields the SDK lets them leave out (a push message without its
// payload, a network performance event without its response code, a session end without its
// duration, a user attribute change without `new` or `old`) are accepted and stored as sent, with
// every other event of their batch. The SDK is installed from PyPI into a virtual environment under
// .cache/ the first time.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseJson } from '../../../src/format/lossless-json.ts';
import { pythonVenv } from '../../support/python-venv.ts';
import { post, startTestForwarder, type TestForwarder } from './support/forwarder.ts';

const SCRIPT = fileURLToPath(new URL('./support/python-sdk/build_batches.py', import.meta.url));

let server: TestForwarder;
before(async () => {
  server = await startTestForwarder();
});
after(async () => {
  await server.close();
});

void describe('Events API: batches the official Python SDK builds', () => {
  void it('accepts events with the fields the SDK lets a user leave out, and stores every batch whole', async () => {
    const python = path.join(pythonVenv('python-sdk'), 'bin', 'python');
    const text = execFileSync(python, [SCRIPT, 'r1'], { encoding: 'utf8' });
    const batches = JSON.parse(text) as { events: { event_type: string; data: Record<string, unknown> }[] }[];
    const types = batches.flatMap((batch) => batch.events.map((event) => event.event_type));
    assert.deepEqual(types, [
      'custom_event',
      'push_message',
      'network_performance',
      'session_end',
      'screen_view',
      'session_start',
      'opt_out',
    ]);
    assert.equal('push_notification_payload' in batches[0].events[1].data, false);
    assert.equal('response_code' in batches[1].events[0].data, false);
    assert.equal('session_duration_ms' in batches[1].events[1].data, false);

    const before = (await server.records()).length;
    const answer = await post(server.url, '/v2/bulkevents', text);
    assert.equal(answer.status, 202, JSON.stringify(answer.error));
    const stored = (await server.records())
      .slice(before)
      .map((record) => parseJson(record.payload) as { events: unknown[] });
    assert.deepEqual(
      stored.map((batch) => batch.events.length),
      [2, 2, 3],
      'every batch is stored with all of its events',
    );
  });
  void it('accepts the user attribute change events it builds without `new` or `old`, and stores them as sent', async () => {
    const python = path.join(pythonVenv('python-sdk'), 'bin', 'python');
    const text = execFileSync(python, [SCRIPT, 'r2', 'changes'], { encoding: 'utf8' });
    const batches = JSON.parse(text) as { events: { event_type: string; data: Record<string, unknown> }[] }[];
    const sent = batches.map((batch) => batch.events);
    // What the SDK sends: UserAttributeChangeEvent(user_attribute_name='tier', deleted=True) has
    // neither value, UserAttributeChangeEvent(user_attribute_name='plan', new='gold', ...) no old one.
    assert.deepEqual(sent[0][0], {
      event_type: 'user_attribute_change',
      data: { user_attribute_name: 'tier', deleted: true },
    });
    assert.deepEqual(sent[1][0], {
      event_type: 'user_attribute_change',
      data: { user_attribute_name: 'plan', new: 'gold', is_new_attribute: true },
    });

    const before = (await server.records()).length;
    const single = await post(server.url, '/v2/events', JSON.stringify(batches[0]));
    assert.equal(single.status, 202, JSON.stringify(single.error));
    const bulk = await post(server.url, '/v2/bulkevents', JSON.stringify(batches.slice(1)));
    assert.equal(bulk.status, 202, JSON.stringify(bulk.error));
    const stored = (await server.records())
      .slice(before)
      .map((record) => (parseJson(record.payload) as { events: unknown[] }).events);
    assert.deepEqual(stored, sent, 'every event is stored as the SDK sent it, no field added');
  });
});
