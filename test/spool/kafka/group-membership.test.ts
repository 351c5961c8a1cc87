// Group membership on the real broker: a member that restarts (its stream failed) first commits
// what its owner promised through the consumer that is still in the group, then joins again and
// reads on from that commit. (The forwarder once cleared its consumer before committing, so the
// commit went nowhere and the next owner sent the tail again.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createIntakeAdmin, createStateProducer, type IntakeMessage } from '../../../src/spool/kafka/client.ts';
import { GroupMembership } from '../../../src/spool/kafka/group-membership.ts';
import {
  getTestKafkaCluster,
  plaintextIntakeConnection,
  uniqueTopicName,
  type KafkaCluster,
} from '../../support/kafka.ts';

let cluster: KafkaCluster;
const topic = uniqueTopicName('membership');
before(async () => {
  cluster = await getTestKafkaCluster();
  await cluster.createTopic(topic, { partitions: 1 });
});
after(async () => {
  await cluster.deleteTopics([topic]).catch(() => undefined);
});

async function waitFor(what: string, condition: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a restart commits what was promised through the old member, then reads on from there', async () => {
  const connection = plaintextIntakeConnection(cluster, 'membership-test');
  const producer = createStateProducer(connection);
  await producer.send({
    messages: Array.from({ length: 10 }, (_, i) => ({ topic, partition: 0, value: Buffer.from(`m${i}`) })),
  });
  await producer.close();

  const groupId = uniqueTopicName('membership-group');
  const received: bigint[] = [];
  const assignments: number[][] = [];
  const promised = 7n;
  const membership = new GroupMembership(
    { connection, topic, groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, retryDelayMs: 100 },
    {
      beforeJoin: () => Promise.resolve(),
      assigned: (_generation, partitions) => assignments.push([...partitions]),
      message: (message: IntakeMessage) => received.push(message.offset),
      beforeRestart: async (consumer) => {
        await consumer.commit({ offsets: [{ topic, partition: 0, offset: promised, leaderEpoch: -1 }] });
      },
    },
  );
  const admin = createIntakeAdmin(connection);
  try {
    await membership.join();
    await waitFor('the first ten records', () => received.length >= 10);
    assert.deepEqual(received, [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);

    const before = membership.consumer;
    await membership.restart();
    assert.notEqual(membership.consumer, before, 'a new member joined');
    assert.equal(membership.restarts, 1);

    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const committed = group.topics.find((listed) => listed.name === topic)?.partitions[0]?.committedOffset;
    assert.equal(committed, promised, 'the offset promised before the restart is the group commit');

    await waitFor('the records after the commit, read again', () => received.length >= 13);
    assert.deepEqual(received.slice(10), [7n, 8n, 9n]);
    assert.deepEqual(assignments.at(-1), [0], 'the new member owns the partition');
  } finally {
    await membership.close((step) => step.then(() => undefined));
    await admin.close();
  }
});

test('a failed rejoin the client reports as an error event restarts the member instead of ending the process', async () => {
  // The client emits 'error' (an EventEmitter event) when a rejoin it started after a failed
  // heartbeat fails, as when the coordinator moves in a rolling restart or its connection pool is
  // already closed. An 'error' event nobody listens to throws: the process would exit.
  const connection = plaintextIntakeConnection(cluster, 'membership-error-test');
  const groupId = uniqueTopicName('membership-error-group');
  let restartCommits = 0;
  const membership = new GroupMembership(
    { connection, topic, groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, retryDelayMs: 100 },
    {
      beforeJoin: () => Promise.resolve(),
      assigned: () => undefined,
      message: () => undefined,
      beforeRestart: () => {
        restartCommits++;
        return Promise.resolve();
      },
    },
  );
  try {
    await membership.join();
    const first = membership.consumer;
    assert.ok(first);
    first.emit('error', new Error('Connection pool is closed.'));
    await waitFor('the member to join again', () => membership.consumer !== undefined && membership.consumer !== first);
    assert.equal(membership.restarts, 1);
    assert.equal(restartCommits, 1, 'what was promised is committed first, as after a failed stream');
  } finally {
    await membership.close((step) => step.then(() => undefined));
  }
});
