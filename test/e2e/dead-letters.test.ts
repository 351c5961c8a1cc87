// Per-record failures: a record the broker will never take (here: larger than the topic's
// max.message.bytes) sends its batch to the dead letters with the reason, and the batches around
// it are delivered, in order. An event too large for max_message_bytes even alone never reaches
// the broker and is dead-lettered the same way. A window the broker refuses as too large is split
// by events, and only the batch of the event too large alone goes to the dead letters.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import {
  CONNECTION,
  consumeRecords,
  metricsText,
  postRaw,
  startKafkaTestForwarder,
  waitFor,
  backlogOf,
  deadLettersOf,
  intakeFor,
  rawForwarderConfig,
  SPOOL_KINDS,
  testIntake,
} from '../support/forwarder.ts';
import { cli } from '../cli/support.ts';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';
import { tempDir } from '../support/temp-dir.ts';

let cluster: KafkaCluster;
before(async () => {
  cluster = await getTestKafkaCluster(1);
});

function batch(name: string, padBytes = 0): string {
  const pad = padBytes > 0 ? `,"custom_attributes":{"pad":"${'p'.repeat(padBytes)}"}` : '';
  return `{"environment":"production","mpid":5,"source_request_id":"${name}","events":[{"event_type":"custom_event","data":{"event_name":"${name}","custom_event_type":"other"${pad}}}]}`;
}

for (const kind of SPOOL_KINDS) {
  describe(`spool.kind: ${kind}`, () => {
    for (const where of ['broker', 'forwarder'] as const) {
      test(`a record too large for the ${where} is dead-lettered and the others go through`, async () => {
        const topic = uniqueTopicName(`dead-${where}`);
        await cluster.createTopic(topic, {
          partitions: 1,
          ...(where === 'broker' && { configs: { 'max.message.bytes': '3000' } }),
        });
        const forwarder = await startKafkaTestForwarder({
          cluster,
          topic,
          settings: { send_as_batch: false },
          ...(where === 'forwarder' && { output: { max_message_bytes: 3000 } }),
          intake: intakeFor(kind),
        });
        try {
          const body = [batch('before'), batch('huge', 6000), batch('after')];
          assert.equal(await postRaw(forwarder.url, `[${body.join(',')}]`, true), 202);
          const records = await consumeRecords(cluster, topic, 2);
          assert.deepEqual(
            records.map((record) => record.value.source_request_id),
            ['before', 'after'],
          );
          const [dead] = await waitFor('the dead letter', async () => {
            const list = await deadLettersOf(forwarder.forwarder).listDeadLetters(CONNECTION);
            return list.length > 0 ? list : undefined;
          });
          assert.match(dead.reason, /^RECORD_TOO_LARGE: /);
          const shown = await deadLettersOf(forwarder.forwarder).showDeadLetter(dead.id);
          assert.match(shown?.payload.toString('utf8') ?? '', /"source_request_id":"huge"/);
          await waitFor('the backlog to drain', () => backlogOf(forwarder.forwarder) === 0 || undefined);
          // The gauge counts the dead-letter store: the local spool's table, or the dead-letter topic
          // that instances share (counted every few seconds).
          await waitFor('the dead-letter gauge', async () =>
            /^kafka_forwarder_dead_letters 1$/m.test(await metricsText(forwarder.adminUrl)) ? true : undefined,
          );
          assert.match(
            await metricsText(forwarder.adminUrl),
            new RegExp(
              `^kafka_forwarder_dead_letters_total\\{connection="${CONNECTION}",code="RECORD_TOO_LARGE"\\} 1$`,
              'm',
            ),
          );
          assert.deepEqual(forwarder.forwarder.outputs(), [{ output: 'kafka', state: 'ok', degraded: false }]);
        } finally {
          await forwarder.close();
        }
      });
    }

    test('a window the broker refuses as too large is split by events; only the batch of an event too large alone is dead-lettered', async () => {
      const topic = uniqueTopicName('dead-window');
      // The topic takes less than the forwarder's max_message_bytes: the merged record is refused.
      await cluster.createTopic(topic, { partitions: 1, configs: { 'max.message.bytes': '3000' } });
      const forwarder = await startKafkaTestForwarder({
        cluster,
        topic,
        settings: { batch_window_ms: 1000 },
        intake: intakeFor(kind),
      });
      try {
        const body = [batch('a', 600), batch('b', 600), batch('huge', 6000), batch('c', 600)];
        assert.equal(await postRaw(forwarder.url, `[${body.join(',')}]`, true), 202);
        const [dead] = await waitFor('the dead letter', async () => {
          const list = await deadLettersOf(forwarder.forwarder).listDeadLetters(CONNECTION);
          return list.length > 0 ? list : undefined;
        });
        await waitFor('the backlog to drain', () => backlogOf(forwarder.forwarder) === 0 || undefined);
        assert.match(dead.reason, /^RECORD_TOO_LARGE: /);
        const shown = await deadLettersOf(forwarder.forwarder).showDeadLetter(dead.id);
        assert.match(shown?.payload.toString('utf8') ?? '', /"source_request_id":"huge"/);
        assert.equal((await deadLettersOf(forwarder.forwarder).listDeadLetters(CONNECTION)).length, 1);
        // The other events arrived, each once, in order, in records split from the window.
        const records = await consumeRecords(cluster, topic, 2);
        const names = records.flatMap((record) =>
          (record.value.events as { data: { event_name: string } }[]).map((event) => event.data.event_name),
        );
        assert.deepEqual(names, ['a', 'b', 'c']);
      } finally {
        await forwarder.close();
      }
    });
  });
}

test('cluster mode: `dlq list|show|replay` work on the dead-letter topic while the instances run', async () => {
  const topic = uniqueTopicName('dead-cli');
  await cluster.createTopic(topic, { partitions: 1 });
  const intake = testIntake(2);
  const setup = {
    cluster,
    topic,
    settings: { send_as_batch: false },
    output: { max_message_bytes: 3000 },
    intake,
  };
  const forwarder = await startKafkaTestForwarder(setup);
  const { dir } = await tempDir('dead-cli');
  const configPath = path.join(dir, 'kafka-forwarder.yaml');
  await writeFile(configPath, JSON.stringify(rawForwarderConfig({ ...setup, spoolDir: path.join(dir, 'spool') })));
  try {
    assert.equal(await postRaw(forwarder.url, batch('huge', 6000), false), 202);
    const [dead] = await waitFor('the dead letter', async () => {
      const list = await deadLettersOf(forwarder.forwarder).listDeadLetters(CONNECTION);
      return list.length > 0 ? list : undefined;
    });
    const listed = await cli(['dlq', 'list', '-c', configPath]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${dead.id}\\s+${CONNECTION}\\s+${dead.batchId}\\s`, 'm'));
    assert.match(listed.stdout, /RECORD_TOO_LARGE/);
    const shown = await cli(['dlq', 'show', String(dead.id), '-c', configPath]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /"source_request_id": "huge"/);
    const replayed = await cli(['dlq', 'replay', String(dead.id), '-c', configPath]);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.match(replayed.stdout, /Replayed 1 dead letter\(s\) to the intake topic/);
    // Forwarded again by the running instance, with its batch id: still too large, so dead-lettered
    // again, and the replayed dead letter is gone.
    const again = await waitFor('the replayed batch to come back', async () => {
      const list = await deadLettersOf(forwarder.forwarder).listDeadLetters(CONNECTION);
      return list.length === 1 && list[0].id !== dead.id ? list[0] : undefined;
    });
    assert.equal(again.batchId, dead.batchId);
    assert.equal((await cli(['dlq', 'show', String(dead.id), '-c', configPath])).code, 1);
    // spool status reads the intake's backlog from the group's committed offsets: none left.
    await waitFor('the backlog to drain', () => backlogOf(forwarder.forwarder) === 0 || undefined);
    await forwarder.forwarder.intake?.commit();
    const status = await cli(['spool', 'status', '-c', configPath]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      new RegExp(`^Intake topic ${intake.name} \\(group ${intake.name}-group\\): 2 partition\\(s\\)`, 'm'),
    );
    assert.match(status.stdout, /^ {2}backlog: {6}0 batch/m);
  } finally {
    await forwarder.close();
  }
});
