// Cluster mode's topics are made by whichever instance starts first. Instances of one deployment
// start together (a Kubernetes Deployment starts its replicas at once), so the loser of each race
// must take the broker's TOPIC_ALREADY_EXISTS, however deeply the client library nests it, as
// success, and every instance must start.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MultipleErrors, ProtocolError, ResponseError } from '@platformatic/kafka';
import { createIntakeAdmin, hasKafkaProtocolError } from '../../../src/spool/kafka/client.ts';
import { ensureIntakeTopics } from '../../../src/spool/kafka/topics.ts';
import {
  getTestKafkaCluster,
  plaintextIntakeConnection,
  uniqueTopicName,
  type KafkaCluster,
} from '../../support/kafka.ts';

describe('hasKafkaProtocolError', () => {
  const alreadyExists = (): ResponseError =>
    new ResponseError(19, 7, { '/topics/0': [36, 'Topic x already exists.'] }, {});

  it('finds the code in a broker answer nested in MultipleErrors and cause, as the admin client reports it', () => {
    const failed = new MultipleErrors('Creating topics failed.', [alreadyExists()]);
    assert.equal(hasKafkaProtocolError(failed, 'TOPIC_ALREADY_EXISTS'), true);
    const wrapped = new Error('start-up failed', { cause: new MultipleErrors('outer', [failed]) });
    assert.equal(hasKafkaProtocolError(wrapped, 'TOPIC_ALREADY_EXISTS'), true);
  });

  it('does not match another code, or the name only in a message', () => {
    const other = new MultipleErrors('Creating topics failed.', [new ProtocolError('TOPIC_AUTHORIZATION_FAILED')]);
    assert.equal(hasKafkaProtocolError(other, 'TOPIC_ALREADY_EXISTS'), false);
    assert.equal(hasKafkaProtocolError(new Error('TOPIC_ALREADY_EXISTS'), 'TOPIC_ALREADY_EXISTS'), false);
    assert.equal(hasKafkaProtocolError(undefined, 'TOPIC_ALREADY_EXISTS'), false);
  });
});

describe('ensureIntakeTopics on the real 3-broker cluster', () => {
  let cluster: KafkaCluster;
  const made: string[] = [];
  before(async () => {
    cluster = await getTestKafkaCluster(3);
  });
  after(async () => {
    await cluster.deleteTopics(made).catch(() => undefined);
  });

  it('21 instances creating one fresh topic set at the same moment all succeed, 5 times over', async () => {
    const connection = plaintextIntakeConnection(cluster, 'topics-race');
    for (let round = 1; round <= 5; round++) {
      const intake = uniqueTopicName(`race${round}`);
      const topics = {
        intake,
        state: `${intake}-state`,
        deadLetters: `${intake}-dead-letters`,
        partitions: 6,
        replicationFactor: 3,
      };
      made.push(topics.intake, topics.state, topics.deadLetters);
      const admins = Array.from({ length: 21 }, () => createIntakeAdmin(connection));
      try {
        const outcomes = await Promise.allSettled(admins.map((admin) => ensureIntakeTopics(admin, topics)));
        const failures = outcomes.flatMap((outcome) =>
          outcome.status === 'rejected' ? [String((outcome.reason as Error).message)] : [],
        );
        assert.deepEqual(failures, [], `round ${round}: ${failures.length} of 21 instances failed`);
        for (const outcome of outcomes) assert.deepEqual(outcome, { status: 'fulfilled', value: 6 });
      } finally {
        await Promise.all(admins.map((admin) => admin.close().catch(() => undefined)));
      }
    }
  });
});
