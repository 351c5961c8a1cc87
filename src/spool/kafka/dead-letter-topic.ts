// Dead letters in cluster mode: records of the dead-letter topic, one partition, so that a dead
// letter's offset there is its id (as the local spool's row id is). Keyed by connection and intake
// coordinates, so that the topic, compacted, keeps one record per dead letter.
import type { SpoolRecord } from '../types.ts';
import type { IntakeProducer } from './client.ts';

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
