// Fault: the forwarder process is killed with SIGKILL under load and restarted on the same spool.
// Every event answered 202 must arrive at least once; duplicates are allowed (at-least-once) and
// reported. Run once per event and once with Send as Batch on (a 1 s window), since windows live
// in the spool too.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { getTestKafkaCluster, uniqueTopicName } from '../support/kafka.ts';
import { killForwarder, spawnForwarder, type ForwarderChild } from './support/child.ts';
import { writeE2eConfig } from './support/config.ts';
import { LoadGenerator } from './support/load.ts';
import { credentials, newRunId, sleep, tempDir } from './support/scenario.ts';
import { checkDedupedOrder, describeReport, verifyDelivery } from './support/verify.ts';

const children: ForwarderChild[] = [];
const temps: Awaited<ReturnType<typeof tempDir>>[] = [];

after(async () => {
  for (const child of children) await killForwarder(child);
  for (const temp of temps) await temp.remove();
});

for (const mode of ['per event', 'batched (1 s window)'] as const) {
  test(
    `kill -9 of the forwarder under load, ${mode}: every accepted event arrives at least once`,
    { timeout: 180_000 },
    async (t) => {
      const cluster = await getTestKafkaCluster();
      const temp = await tempDir('kill9');
      temps.push(temp);
      const topic = uniqueTopicName('faults-kill9');
      await cluster.createTopic(topic, { partitions: 3 });
      const { apiKey, apiSecret } = credentials();
      const configPath = await writeE2eConfig({
        dir: temp.dir,
        cluster,
        security: 'SCRAM-SHA-512',
        topic,
        apiKey,
        apiSecret,
        sendAsBatch: mode !== 'per event',
        batchWindowMs: 1_000,
      });
      const first = await spawnForwarder(configPath);
      children.push(first);
      const runId = newRunId();
      const load = new LoadGenerator({
        port: first.port,
        apiKey,
        apiSecret,
        runId,
        users: 30,
        concurrency: 3,
        eventsPerBatch: 5,
        pauseMs: 10,
        maxEvents: 40_000,
      }).start();

      await sleep(4_000);
      first.kill('SIGKILL');
      const { signal } = await first.exited;
      assert.equal(signal, 'SIGKILL');
      const acceptedByFirst = load.acceptedEvents;
      await sleep(500);
      const second = await spawnForwarder(configPath);
      children.push(second);
      load.setPort(second.port);
      await sleep(3_000);
      const result = await load.stop();

      const report = await verifyDelivery(cluster, {
        topic,
        runId,
        accepted: result.accepted,
        timeoutMs: 60_000,
        quietMs: 2_500,
      });
      t.diagnostic(describeReport(`kill -9, ${mode}`, result.acceptedEvents, report));
      t.diagnostic(`accepted by the killed process ${acceptedByFirst}; answers ${JSON.stringify(result.statusCounts)}`);
      if (report.duplicates.length > 0) t.diagnostic(`duplicates: ${report.duplicates.join(' ')}`);

      assert.ok(acceptedByFirst > 0 && result.acceptedEvents > acceptedByFirst, 'both processes accepted load');
      assert.deepEqual(report.missing, [], 'every accepted event arrived');
      // A resent tail may repeat events already delivered, so order is checked on first occurrences.
      assert.deepEqual(checkDedupedOrder(report, result.accepted), [], "first occurrences keep each user's order");
    },
  );
}
