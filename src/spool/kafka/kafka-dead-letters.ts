// The dead letters of a cluster-mode deployment for the CLI (`kafka-forwarder dlq`): the
// dead-letter topic and, to replay, a writer of the intake topic. No group is joined, nothing
// else runs, so it works beside the running instances.
import type { SpoolLogger } from '../types.ts';
import { createReader, createStateProducer, type IntakeConnection } from './client.ts';
import { DeadLetterStore, DeadLetterTopic } from './dead-letter-topic.ts';
import { IntakeWriter } from './intake-writer.ts';

/** The dead letters of a cluster-mode deployment, for the CLI: no group is joined, nothing else runs. */
export interface KafkaDeadLetters extends Pick<
  DeadLetterStore,
  'listDeadLetters' | 'showDeadLetter' | 'replayDeadLetter' | 'deleteDeadLetter'
> {
  close(): Promise<void>;
}

export function openKafkaDeadLetters(options: {
  readonly connection: IntakeConnection;
  /** The intake topic, where a replayed dead letter goes. */
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly logger?: SpoolLogger;
}): KafkaDeadLetters {
  const reader = createReader(options.connection, 'dlq');
  const producer = createStateProducer(options.connection);
  const writer = new IntakeWriter({
    connection: options.connection,
    topic: options.topic,
    ...(options.logger !== undefined && { logger: options.logger }),
  });
  const store = new DeadLetterStore(
    reader,
    new DeadLetterTopic(producer, options.deadLetterTopic),
    options.deadLetterTopic,
    (items, ids) => writer.append(items, ids),
  );
  return {
    listDeadLetters: (destination, limit, afterId) => store.listDeadLetters(destination, limit, afterId),
    showDeadLetter: (id) => store.showDeadLetter(id),
    replayDeadLetter: (id) => store.replayDeadLetter(id),
    deleteDeadLetter: (id) => store.deleteDeadLetter(id),
    async close() {
      await Promise.all([
        writer.close(),
        producer.close().catch(() => undefined),
        reader.close(true).catch(() => undefined),
      ]);
    },
  };
}
