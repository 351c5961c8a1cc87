// Dead letters in cluster mode: records of the dead-letter topic, one partition, so that a dead
// letter's offset there is its id (as the local spool's row id is). Keyed by connection and intake
// coordinates, so that the topic, compacted, keeps one record per dead letter.
import { batchMpid, int64ToString, isJsonObject, parseJson } from '../../format/index.ts';
import type { AppendItem, AppendResult, DeadLetter, DeadLetterSummary, SpoolRecord } from '../types.ts';
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
    return offset === undefined ? -1 : idOf(offset);
  }
}

/** Ids count from 1, as the local spool's do: the offset on the dead-letter topic plus one. */
function idOf(offset: bigint): number {
  return Number(offset) + 1;
}

/** The dead letter a record of the dead-letter topic holds, or undefined for a tombstone or a foreign record. */
function deadLetterOf(record: StoredRecord): DeadLetter | undefined {
  const { headers, value } = record;
  const destination = headers.get(DEAD_LETTER_HEADERS.destination);
  const source = headers.get(DEAD_LETTER_HEADERS.source)?.split(':');
  if (value === null || destination === undefined || source?.length !== 2 || !/^\d+$/.test(source[1])) return undefined;
  const batchId = headers.get(DEAD_LETTER_HEADERS.batchId) ?? '';
  return {
    id: idOf(record.offset),
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

/**
 * How many dead letters the topic holds, kept by reading on from where the last count stopped
 * (the topic is shared by every instance, so this counts theirs too): for the kafka_forwarder_dead_letters
 * gauge. A deleted or replayed dead letter is tombstoned, which takes it off the count.
 */
export class DeadLetterCount {
  readonly #reader: IntakeConsumer;
  readonly #topic: string;
  readonly #live = new Set<string>();
  #next: bigint | undefined;

  constructor(reader: IntakeConsumer, topic: string) {
    this.#reader = reader;
    this.#topic = topic;
  }

  get count(): number {
    return this.#live.size;
  }

  /** Reads what was written since the last refresh. */
  async refresh(): Promise<void> {
    this.#next = await readPartitionToEnd(
      this.#reader,
      this.#topic,
      0,
      (record) => {
        if (record.key === null) return;
        const key = record.key.toString('utf8');
        if (deadLetterOf(record) === undefined) this.#live.delete(key);
        else this.#live.add(key);
      },
      this.#next,
    );
  }
}

export function summaryOf(letter: DeadLetter): DeadLetterSummary {
  const { payload: _payload, ...summary } = letter;
  return summary;
}
/** The intake key of a stored batch (its MPID, else its mp_deviceid), to replay it to its user's partition. */
function routingKeyOf(payload: Buffer): string | undefined {
  try {
    const batch = parseJson(payload);
    if (!isJsonObject(batch)) return undefined;
    const mpid = batchMpid(batch);
    if (mpid !== undefined) return int64ToString(mpid);
    return typeof batch.mp_deviceid === 'string' && batch.mp_deviceid !== '' ? batch.mp_deviceid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The dead letters of cluster mode, as the local spool offers its own: list and show read the
 * dead-letter topic; replay writes a dead letter back to the intake, bound to its connection alone
 * and with its batch id, then tombstones it; delete tombstones it.
 */
export class DeadLetterStore {
  readonly #reader: IntakeConsumer;
  readonly #topic: DeadLetterTopic;
  readonly #name: string;
  readonly #append: (items: readonly AppendItem[], batchIds: readonly bigint[]) => Promise<AppendResult[]>;

  constructor(
    reader: IntakeConsumer,
    topic: DeadLetterTopic,
    name: string,
    append: (items: readonly AppendItem[], batchIds: readonly bigint[]) => Promise<AppendResult[]>,
  ) {
    this.#reader = reader;
    this.#topic = topic;
    this.#name = name;
    this.#append = append;
  }

  async listDeadLetters(destination?: string, limit = 100, afterId = 0): Promise<DeadLetterSummary[]> {
    const letters = await readDeadLetters(this.#reader, this.#name);
    return letters
      .map(({ letter }) => letter)
      .filter((letter) => (destination === undefined || letter.destination === destination) && letter.id > afterId)
      .slice(0, limit)
      .map(summaryOf);
  }

  async showDeadLetter(id: number): Promise<DeadLetter | null> {
    return (await this.#find(id))?.letter ?? null;
  }

  async replayDeadLetter(id: number): Promise<{ seq: bigint } | null> {
    const found = await this.#find(id);
    if (found === undefined) return null;
    const routingKey = routingKeyOf(found.letter.payload);
    const [result] = await this.#append(
      [
        {
          payload: found.letter.payload,
          destinations: [found.letter.destination],
          ...(routingKey !== undefined && { routingKey }),
        },
      ],
      [found.letter.batchId],
    );
    await this.#topic.remove(found.key);
    return { seq: result.status === 'stored' ? result.seq : -1n };
  }

  async deleteDeadLetter(id: number): Promise<boolean> {
    const found = await this.#find(id);
    if (found === undefined) return false;
    await this.#topic.remove(found.key);
    return true;
  }

  async #find(id: number) {
    return (await readDeadLetters(this.#reader, this.#name)).find(({ letter }) => letter.id === id);
  }
}
