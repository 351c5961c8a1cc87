// The forwarder as a child process (what fault tests kill -9): it prints its port, forwards, and
// on SIGTERM closes gracefully (exit 0) after Kafka acknowledged what it had accepted.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { before, test } from 'node:test';

import { CONNECTION, consumeRecords, postRaw, startForwarderProcess } from '../support/forwarder.ts';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';
import { openTestSpool } from '../support/spool.ts';

let cluster: KafkaCluster;
before(async () => {
  cluster = await getTestKafkaCluster(1);
});

test('a forwarder process forwards, and SIGTERM stops it cleanly with nothing left behind', async () => {
  const topic = uniqueTopicName('process');
  await cluster.createTopic(topic, { partitions: 2 });
  const child = await startForwarderProcess({ cluster, topic, settings: { send_as_batch: false } });
  try {
    const batches = Array.from(
      { length: 50 },
      (_, n) =>
        `{"environment":"production","mpid":${n % 5},"events":[{"event_type":"screen_view","data":{"screen_name":"s${n}"}}]}`,
    );
    assert.equal(await postRaw(child.url, `[${batches.join(',')}]`, true), 202);
    assert.equal(await child.stop(), 0);
  } finally {
    await child.kill();
  }
  const records = await consumeRecords(cluster, topic, 50);
  assert.equal(records.length, 50);
  const spool = await openTestSpool({ dir: child.spoolDir, maxBytes: 1 << 30 });
  try {
    assert.equal(spool.recovery.cleanShutdown, true);
    assert.equal(spool.stats().backlog[CONNECTION] ?? 0, 0);
  } finally {
    await spool.close();
    rmSync(child.spoolDir, { recursive: true, force: true });
  }
});
