// Dead letters in cluster mode: records of the dead-letter topic, one partition, so that a dead
// letter's offset there is its id (as the local spool's row id is). Keyed by connection and intake
// coordinates, so that the topic, compacted, keeps one record per dead letter.
import type { DeadLetter, DeadLetterSummary, SpoolRecord } from '../types.ts';
import type { IntakeConsumer, IntakeProducer } from './client.ts';
import { readPartitionToEnd, type StoredRecord } from './state-topic.ts';

export const DEAD_LETTER_HEADERS = {
  destination: 'kf-destination',
  reason: 'kf-reason',
  batchId: 'kf-batch-id',
  receivedAtMs: 'kf-received-at',
  deadAtMs: 'kf-dead-at',
  source: 'kf-source',
} as const;

export class DeadLetterTopic {
  readonly #producer: IntakeProducer;
  readonly #topic: string;
  readonly #clock: () => number;

  constructor(producer: IntakeProducer, topic: string, clock: () => number = Date.now) {
    this.#producer = producer;
    this.#topic = topic;
    this.#clock = clock;
  }

  /** Forgets a dead letter (replayed or deleted): a tombstone for its key. */
  async remove(key: Buffer): Promise<void> {
    await this.#producer.send({ messages: [{ topic: this.#topic, partition: 0, key }] });
  }

  /** Writes the dead letter (acks=all) and returns its id, its offset on the dead-letter topic. */
  async write(
    destination: string,
    partition: number,
    record: SpoolRecord,
    reason: string,
    payload?: Buffer,
  ): Promise<number> {
    const source = `${partition}:${record.seq}`;
    const produced = await this.#producer.send({
      messages: [
        {
          topic: this.#topic,
          partition: 0,
          key: Buffer.from(`${destination}\u0000${source}`, 'utf8'),
          value: payload ?? record.payload,
          headers: new Map([
            [DEAD_LETTER_HEADERS.destination, destination],
            [DEAD_LETTER_HEADERS.reason, reason],
            [DEAD_LETTER_HEADERS.batchId, String(record.batchId)],
            [DEAD_LETTER_HEADERS.receivedAtMs, String(record.receivedAtMs)],
            [DEAD_LETTER_HEADERS.deadAtMs, String(this.#clock())],
            [DEAD_LETTER_HEADERS.source, source],
          ]),
        },
      ],
    });
    const offset = produced.offsets?.[0]?.offset;
    return offset === undefined ? -1 : Number(offset);
  }
}

/** The dead letter a record of the dead-letter topic holds, or undefined for a tombstone or a foreign record. */
function deadLetterOf(record: StoredRecord): DeadLetter | undefined {
  const { headers, value } = record;
  const destination = headers.get(DEAD_LETTER_HEADERS.destination);
  const source = headers.get(DEAD_LETTER_HEADERS.source)?.split(':');
  if (value === null || destination === undefined || source?.length !== 2 || !/^\d+$/.test(source[1])) return undefined;
  const batchId = headers.get(DEAD_LETTER_HEADERS.batchId) ?? '';
  return {
    id: Number(record.offset),
    destination,
    seq: BigInt(source[1]),
    batchId: /^\d+$/.test(batchId) ? BigInt(batchId) : 0n,
    receivedAtMs: Number(headers.get(DEAD_LETTER_HEADERS.receivedAtMs) ?? 0),
    deadAtMs: Number(headers.get(DEAD_LETTER_HEADERS.deadAtMs) ?? 0),
    reason: headers.get(DEAD_LETTER_HEADERS.reason) ?? '',
    bytes: value.length,
    payload: value,
  };
}

/**
 * The dead letters on the topic, oldest first: the latest record per key that is not a
 * tombstone (a replayed or deleted dead letter is tombstoned).
 */
export async function readDeadLetters(
  reader: IntakeConsumer,
  topic: string,
): Promise<{ key: Buffer; letter: DeadLetter }[]> {
  const latest = new Map<string, { key: Buffer; letter: DeadLetter } | undefined>();
  await readPartitionToEnd(reader, topic, 0, (record) => {
    if (record.key === null) return;
    const key = record.key.toString('utf8');
    const letter = deadLetterOf(record);
    latest.delete(key);
    latest.set(key, letter === undefined ? undefined : { key: record.key, letter });
  });
  return [...latest.values()]
    .filter((entry): entry is { key: Buffer; letter: DeadLetter } => entry !== undefined)
    .sort((a, b) => a.letter.id - b.letter.id);
}

export function summaryOf(letter: DeadLetter): DeadLetterSummary {
  const { payload: _payload, ...summary } = letter;
  return summary;
}
