// Each connection's progress on the intake topic, kept as a consumer group of its own,
// `<group_id>.<connection>`: per intake partition, the oldest offset the connection still needs.
// The group's own offset is the slowest connection's (a window still open holds it back), so it
// alone cannot say how far each connection is. The partition's owner commits these beside it, once
// a second, as standalone commits (no member joins these groups). Nothing reads them to process:
// they are there so that `spool status`, and any Kafka lag tool (kafka-consumer-groups.sh, KEDA,
// Burrow), show each connection's backlog.
import type { IntakeAdmin } from './client.ts';
import type { SpoolLogger } from '../types.ts';

/** The consumer group that holds the connection's progress on the intake. */
export function connectionProgressGroup(groupId: string, connection: string): string {
  return `${groupId}.${connection}`;
}

/** Per connection, per partition: the oldest offset the connection still needs. */
export type ProgressOffsets = ReadonlyMap<string, ReadonlyMap<number, bigint>>;

export class ConnectionProgress {
  readonly #admin: IntakeAdmin;
  readonly #topic: string;
  readonly #groupId: string;
  readonly #logger: SpoolLogger | undefined;
  /** What was last committed, so that only changes are sent. */
  readonly #committed = new Map<string, Map<number, bigint>>();

  constructor(admin: IntakeAdmin, options: { topic: string; groupId: string; logger?: SpoolLogger }) {
    this.#admin = admin;
    this.#topic = options.topic;
    this.#groupId = options.groupId;
    this.#logger = options.logger;
  }

  /**
   * Commits the offsets that changed since they were last committed. A failure is logged and the
   * offsets are sent again next time: this is for reporting, and never holds processing back.
   */
  async commit(offsets: ProgressOffsets): Promise<void> {
    await Promise.all(
      [...offsets].map(async ([connection, partitions]) => {
        const last = this.#committed.get(connection) ?? new Map<number, bigint>();
        this.#committed.set(connection, last);
        const changed = [...partitions].filter(([partition, offset]) => last.get(partition) !== offset);
        if (changed.length === 0) return;
        try {
          await this.#admin.alterConsumerGroupOffsets({
            groupId: connectionProgressGroup(this.#groupId, connection),
            topics: [
              { name: this.#topic, partitionOffsets: changed.map(([partition, offset]) => ({ partition, offset })) },
            ],
          });
          for (const [partition, offset] of changed) last.set(partition, offset);
        } catch (error) {
          this.#logger?.info(
            { err: error, connection },
            'committing a connection’s intake progress failed; trying again',
          );
        }
      }),
    );
  }

  /** The partition moved away: its next owner commits its progress from then on. */
  forget(partition: number): void {
    for (const last of this.#committed.values()) last.delete(partition);
  }
}
