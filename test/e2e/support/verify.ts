// Reads a topic from the beginning and checks it against what the load generator was told was
// accepted: nothing missing, how many duplicates, and per-key order (a user's sequence numbers
// never go backwards on its partition).
import { createConsumer, MessagesStreamModes } from '../../../tools/kafka/client.ts';
import { plaintextConnection, uniqueTopicName, type KafkaCluster } from '../../support/kafka.ts';

export interface SeenEvent {
  readonly seq: number;
  readonly partition: number;
  readonly offset: bigint;
}

export interface DeliveryReport {
  /** Records read (this run's and others'). */
  readonly records: number;
  /** This run's events found, duplicates included. */
  readonly events: number;
  /** Accepted events never found, as `mpid:seq`. */
  readonly missing: string[];
  /** Events found more than once, as `mpid:seq×n`. */
  readonly duplicates: string[];
  readonly duplicateCount: number;
  /** Places where a key's sequence went backwards, as `mpid: a then b at partition/offset`. */
  readonly orderViolations: string[];
  /** Keys whose records were spread over more than one partition. */
  readonly keysOnSeveralPartitions: string[];
  /** Records whose key is not the MPID of the events inside. */
  readonly keyMismatches: number;
  /** This run's message_ids found more than once, as `message_id×n`: a resend Kafka wrote twice. */
  readonly duplicateMessageIds: string[];
  /** Per MPID, the events in consumption order. */
  readonly byKey: Map<string, SeenEvent[]>;
}

export interface VerifyOptions {
  readonly topic: string;
  readonly runId: string;
  readonly accepted: Map<string, number[]>;
  /** Give up waiting for missing events after this long. */
  readonly timeoutMs: number;
  /** Once everything has arrived, keep reading until the topic has been quiet this long (for late duplicates). */
  readonly quietMs?: number;
}

interface OutgoingEvent {
  message_id?: string;
  data?: { custom_attributes?: { run?: string; seq?: string } };
}
interface OutgoingBatch {
  mpid?: number | string;
  events?: OutgoingEvent[];
}

export async function verifyDelivery(cluster: KafkaCluster, options: VerifyOptions): Promise<DeliveryReport> {
  const expected = new Set<string>();
  for (const [mpid, seqs] of options.accepted) for (const seq of seqs) expected.add(`${mpid}:${seq}`);
  const outstanding = new Set(expected);
  const counts = new Map<string, number>();
  const messageIds = new Map<string, number>();
  const byKey = new Map<string, SeenEvent[]>();
  const partitionsByKey = new Map<string, Set<number>>();
  let records = 0;
  let events = 0;
  let keyMismatches = 0;

  const consumer = createConsumer(plaintextConnection(cluster), {
    groupId: uniqueTopicName('e2e-verify'),
    clientId: 'e2e-verify',
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
  });
  try {
    const stream = await consumer.consume({
      topics: [options.topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
      maxWaitTime: 200,
    });
    const deadline = Date.now() + options.timeoutMs;
    const quietMs = options.quietMs ?? 1_500;
    let lastRecordAt = Date.now();
    const done = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = Date.now();
        if (now > deadline || (outstanding.size === 0 && now - lastRecordAt >= quietMs)) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
    });
    const collect = (async () => {
      for await (const message of stream) {
        records++;
        lastRecordAt = Date.now();
        const batch = JSON.parse(message.value) as OutgoingBatch;
        const mpid = batch.mpid === undefined ? '' : String(batch.mpid);
        if (message.key !== mpid) keyMismatches++;
        for (const event of batch.events ?? []) {
          const attributes = event.data?.custom_attributes;
          if (attributes?.run !== options.runId || attributes.seq === undefined) continue;
          events++;
          if (event.message_id !== undefined)
            messageIds.set(event.message_id, (messageIds.get(event.message_id) ?? 0) + 1);
          const id = `${mpid}:${attributes.seq}`;
          outstanding.delete(id);
          counts.set(id, (counts.get(id) ?? 0) + 1);
          const list = byKey.get(mpid) ?? [];
          list.push({ seq: Number(attributes.seq), partition: message.partition, offset: message.offset });
          byKey.set(mpid, list);
          const partitions = partitionsByKey.get(mpid) ?? new Set<number>();
          partitions.add(message.partition);
          partitionsByKey.set(mpid, partitions);
        }
      }
    })();
    await done;
    await stream.close().catch(() => {});
    await collect.catch(() => {});
  } finally {
    await consumer.close(true).catch(() => {});
  }

  const duplicates: string[] = [];
  let duplicateCount = 0;
  for (const [id, count] of counts) {
    if (count > 1) {
      duplicates.push(`${id}×${count}`);
      duplicateCount += count - 1;
    }
  }
  const orderViolations: string[] = [];
  for (const [mpid, seen] of byKey) {
    for (let index = 1; index < seen.length; index++) {
      if (seen[index].seq < seen[index - 1].seq) {
        orderViolations.push(
          `${mpid}: ${seen[index - 1].seq} then ${seen[index].seq} at ${seen[index].partition}/${seen[index].offset}`,
        );
      }
    }
  }
  return {
    records,
    events,
    missing: [...outstanding].sort(),
    duplicates,
    duplicateCount,
    orderViolations,
    keysOnSeveralPartitions: [...partitionsByKey].filter(([, set]) => set.size > 1).map(([key]) => key),
    keyMismatches,
    duplicateMessageIds: [...messageIds].filter(([, n]) => n > 1).map(([id, n]) => `${id}×${n}`),
    byKey,
  };
}

/**
 * With duplicates removed (keeping first occurrences), is each key's sequence strictly increasing
 * and does it hold every accepted number? Returns the problems found, empty when none.
 */
export function checkDedupedOrder(report: DeliveryReport, accepted: Map<string, number[]>): string[] {
  const problems: string[] = [];
  for (const [mpid, seqs] of accepted) {
    const seen = report.byKey.get(mpid) ?? [];
    const firstOccurrences: number[] = [];
    const taken = new Set<number>();
    for (const { seq } of seen) {
      if (!taken.has(seq)) {
        taken.add(seq);
        firstOccurrences.push(seq);
      }
    }
    for (let index = 1; index < firstOccurrences.length; index++) {
      if (firstOccurrences[index] <= firstOccurrences[index - 1]) {
        problems.push(`${mpid}: ${firstOccurrences[index - 1]} before ${firstOccurrences[index]}`);
        break;
      }
    }
    const absent = seqs.filter((seq) => !taken.has(seq));
    if (absent.length > 0) problems.push(`${mpid}: missing ${absent.slice(0, 5).join(',')}`);
  }
  return problems;
}

/** One line for the test log: what arrived, duplicates, order. */
export function describeReport(label: string, accepted: number, report: DeliveryReport): string {
  return (
    `${label}: accepted ${accepted} events; read ${report.records} records holding ${report.events} of this run's events; ` +
    `missing ${report.missing.length}; duplicates ${report.duplicateCount}` +
    (report.duplicates.length > 0
      ? ` (${report.duplicates.slice(0, 20).join(' ')}${report.duplicates.length > 20 ? ' …' : ''})`
      : '') +
    `; order violations ${report.orderViolations.length}`
  );
}
