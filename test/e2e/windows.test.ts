// Send as Batch windows against the real broker: a short window gathers a device's batches into
// one record, the size cut keeps every record under max_message_bytes, and windows survive a
// restart (they live in the spool, not in memory).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { isJsonObject } from '../../src/format/json-value.ts';

import {
  CONNECTION,
  consumeRecords,
  metricsText,
  postRaw,
  startKafkaTestForwarder,
  ControlledClock,
  waitFor,
  type ConsumedRecord,
  backlogOf,
  intakeFor,
  SPOOL_KINDS,
} from '../support/forwarder.ts';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';
import { openTestSpool } from '../support/spool.ts';

let cluster: KafkaCluster;
before(async () => {
  cluster = await getTestKafkaCluster(1);
});

function batch(mpid: number, name: string, extra = ''): string {
  return `{"environment":"production","mpid":${mpid},"source_request_id":"${name}","events":[{"event_type":"custom_event","data":{"event_name":"${name}","custom_event_type":"other"${extra}}}]}`;
}

function eventNames(record: ConsumedRecord): string[] {
  return (record.value.events as unknown[]).map((event) => {
    assert.ok(isJsonObject(event) && isJsonObject(event.data));
    return event.data.event_name as string;
  });
}

for (const kind of SPOOL_KINDS) {
  describe(`spool.kind: ${kind}`, () => {
    test('a 1.5 s window gathers each device’s batches into one record', async () => {
      const topic = uniqueTopicName('window');
      await cluster.createTopic(topic, { partitions: 2 });
      const forwarder = await startKafkaTestForwarder({
        cluster,
        topic,
        settings: { batch_window_ms: 1500 },
        intake: intakeFor(kind),
      });
      try {
        const body = [batch(1, 'a1'), batch(2, 'b1'), batch(1, 'a2'), batch(2, 'b2'), batch(1, 'a3')];
        assert.equal(await postRaw(forwarder.url, `[${body.join(',')}]`, true), 202);
        // The runner reads the spool asynchronously after the 202: poll until both windows are open
        // (the window is long enough that they cannot have closed by then).
        await waitFor('two open windows', async () =>
          /kafka_forwarder_open_windows\{connection="app-to-kafka"\} 2/.test(await metricsText(forwarder.adminUrl))
            ? true
            : undefined,
        );
        const records = await consumeRecords(cluster, topic, 2);
        const byKey = new Map(records.map((record) => [record.key, eventNames(record)]));
        assert.deepEqual(byKey.get('1'), ['a1', 'a2', 'a3']);
        assert.deepEqual(byKey.get('2'), ['b1', 'b2']);
        // Batch-level fields come from the newest batch of the window.
        assert.equal(records.find((record) => record.key === '1')?.value.source_request_id, 'a3');
        await waitFor('the batches to be acknowledged', () => backlogOf(forwarder.forwarder) === 0 || undefined);
      } finally {
        await forwarder.close();
      }
    });

    test('a window is cut before its record would pass max_message_bytes', async () => {
      const topic = uniqueTopicName('window-cut');
      await cluster.createTopic(topic, { partitions: 1 });
      const maxMessageBytes = 6000;
      const forwarder = await startKafkaTestForwarder({
        cluster,
        topic,
        settings: { batch_window_ms: 60_000 },
        output: { max_message_bytes: maxMessageBytes },
        intake: intakeFor(kind),
      });
      try {
        const padding = `,"custom_attributes":{"pad":"${'x'.repeat(1500)}"}`;
        const body = Array.from({ length: 8 }, (_, n) => batch(7, `cut-${n}`, padding));
        assert.equal(await postRaw(forwarder.url, `[${body.join(',')}]`, true), 202);
        // The window is a minute long: only size cuts can send records within the test's time.
        const records = await consumeRecords(cluster, topic, 2);
        for (const record of records) {
          assert.ok(
            Buffer.byteLength(record.raw) <= maxMessageBytes,
            `record of ${Buffer.byteLength(record.raw)} bytes`,
          );
          assert.ok(eventNames(record).length >= 2);
        }
        assert.deepEqual(
          records.flatMap(eventNames),
          Array.from({ length: records.flatMap(eventNames).length }, (_, n) => `cut-${n}`),
        );
      } finally {
        await forwarder.close();
      }
    });

    test('open windows survive a restart and are sent once due', async () => {
      const topic = uniqueTopicName('window-restart');
      await cluster.createTopic(topic, { partitions: 1 });
      // mParticle's default window, on a clock the test moves: the window cannot close by itself
      // while the forwarder stops and starts, however slow the machine.
      const clock = new ControlledClock();
      const setup = { cluster, topic, settings: { batch_window_ms: 600_000 }, intake: intakeFor(kind) };
      const first = await startKafkaTestForwarder(setup, { clock: clock.now });
      assert.equal(await postRaw(first.url, `[${[batch(9, 'r1'), batch(9, 'r2')].join(',')}]`, true), 202);
      await waitFor('the window to open', async () =>
        /kafka_forwarder_open_windows\{connection="app-to-kafka"\} 1/.test(await metricsText(first.adminUrl))
          ? true
          : undefined,
      );
      assert.equal(backlogOf(first.forwarder), 2);
      await first.close(); // the window is not due yet: its batches stay in the spool
      if (kind === 'local') {
        const check = await openTestSpool({ dir: first.spoolDir, maxBytes: 1 << 30 });
        assert.equal(check.stats().backlog[CONNECTION], 2);
        await check.close();
      }
      // (The Kafka spool: the group's offset was committed only up to the window's first batch.)

      clock.advance(60_000);
      const second = await startKafkaTestForwarder({ ...setup, spoolDir: first.spoolDir }, { clock: clock.now });
      try {
        assert.equal(await postRaw(second.url, batch(9, 'r3'), false), 202);
        await waitFor('the window to reform', async () =>
          /kafka_forwarder_open_windows\{connection="app-to-kafka"\} 1/.test(await metricsText(second.adminUrl))
            ? true
            : undefined,
        );
        assert.equal(backlogOf(second.forwarder), 3, 'nothing was sent before the window was due');
        clock.advance(600_000);
        // One record: the window reformed from the spool, joined by r3, sent when due.
        const [record] = await consumeRecords(cluster, topic, 1);
        assert.deepEqual(eventNames(record), ['r1', 'r2', 'r3']);
        await waitFor('the batches to be acknowledged', () => backlogOf(second.forwarder) === 0 || undefined);
      } finally {
        await second.close();
      }
    });
  });
}
