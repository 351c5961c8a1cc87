// Processing, for both spool kinds: for each store partition this instance owns, one task per
// connection, a ConnectionRunner reading the partition. The local spool is one partition, held
// from start to stop; cluster mode's are the intake partitions the group gives this instance. A
// partition that moves away takes its tasks with it: they stop reading at once, and the windows
// they held are rebuilt by the next owner from the committed offset (records they had already
// handed to Kafka are sent, and acknowledged, as usual).
import type { ConnectionConfig } from '../config/index.ts';
import type { HeaderField, RecordKeyField, RecordSink } from '../sinks/kafka/index.ts';
import type { PartitionListener, StorePartition } from '../spool/index.ts';
import type { Logger, Metrics } from '../telemetry/index.ts';
import { ConnectionRunner } from './connection-runner.ts';

export interface ConnectionTarget {
  readonly connection: ConnectionConfig;
  readonly sink: RecordSink;
  readonly maxRecordBytes: number;
  readonly keyField: RecordKeyField;
  readonly headerFields: readonly HeaderField[];
  readonly topicByEventType: Readonly<Record<string, string>> | undefined;
}

export interface PartitionTasksOptions {
  readonly targets: readonly ConnectionTarget[];
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock?: () => number;
}

export class PartitionTasks implements PartitionListener {
  readonly #options: PartitionTasksOptions;
  readonly #tasks = new Map<StorePartition, ConnectionRunner[]>();
  /** Open windows per connection per partition, summed into the connection's gauge. */
  readonly #openWindows = new Map<string, Map<number, number>>();
  /** Runners of revoked partitions that are still handing their last records to Kafka. */
  readonly #stopping = new Set<Promise<void>>();

  constructor(options: PartitionTasksOptions) {
    this.#options = options;
  }

  get partitions(): number {
    return this.#tasks.size;
  }

  assigned(log: StorePartition): void {
    const { metrics, logger } = this.#options;
    const runners = this.#options.targets.map(
      (target) =>
        new ConnectionRunner({
          connection: target.connection,
          maxRecordBytes: target.maxRecordBytes,
          keyField: target.keyField,
          headerFields: target.headerFields,
          ...(target.topicByEventType !== undefined && { topicByEventType: target.topicByEventType }),
          spool: log,
          sink: target.sink,
          metrics,
          logger: log.partition === null ? logger : logger.child({ partition: log.partition }),
          ...(this.#options.clock !== undefined && { clock: this.#options.clock }),
          onOpenWindows: (count) => this.#reportOpenWindows(target.connection.name, log.partition ?? 0, count),
          spoolCatchingUp: () => log.catchingUp,
        }),
    );
    this.#tasks.set(log, runners);
    for (const runner of runners) runner.start();
  }

  async release(log: StorePartition, deadlineMs: number): Promise<void> {
    const runners = this.#tasks.get(log);
    if (runners === undefined) return;
    this.#tasks.delete(log);
    await Promise.all(
      runners.map(async (runner) => {
        await runner.close(deadlineMs);
        this.#reportOpenWindows(runner.name, log.partition ?? 0, 0);
      }),
    );
  }

  revoked(log: StorePartition): void {
    const runners = this.#tasks.get(log);
    if (runners === undefined) return;
    this.#tasks.delete(log);
    for (const runner of runners) {
      this.#reportOpenWindows(runner.name, log.partition ?? 0, 0);
      // No deadline to meet: the partition's log no longer counts their acknowledgements.
      const stopping = runner.close(0).finally(() => this.#stopping.delete(stopping));
      this.#stopping.add(stopping);
    }
  }

  received(log: StorePartition): void {
    for (const runner of this.#tasks.get(log) ?? []) runner.notify();
  }

  /** First half of a graceful stop (see ConnectionRunner.stop). */
  async stop(deadlineMs: number): Promise<void> {
    await Promise.all([...this.#tasks.values()].flat().map((runner) => runner.stop(deadlineMs)));
  }

  /** Second half: every record handed to Kafka settled and acknowledged to its log. */
  async settled(deadlineMs: number): Promise<void> {
    await Promise.all([...this.#tasks.values()].flat().map((runner) => runner.settled(deadlineMs)));
    await Promise.all(this.#stopping);
  }

  #reportOpenWindows(connection: string, partition: number, count: number): void {
    let byPartition = this.#openWindows.get(connection);
    if (byPartition === undefined) {
      byPartition = new Map();
      this.#openWindows.set(connection, byPartition);
    }
    if (count === 0) byPartition.delete(partition);
    else byPartition.set(partition, count);
    let total = 0;
    for (const value of byPartition.values()) total += value;
    this.#options.metrics.openWindows.set({ connection }, total);
  }
}
