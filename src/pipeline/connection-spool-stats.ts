// Publishes the spool's numbers as metrics, once a second (stats() is a synchronous snapshot, so
// this costs nothing): held bytes and batches, oldest age, per-connection backlog, dead letters.
import type { KafkaSpool, Spool } from '../spool/index.ts';
import type { Metrics } from '../telemetry/index.ts';

export function publishSpoolStats(spool: Pick<Spool, 'stats'>, metrics: Metrics, connections: readonly string[]): void {
  const stats = spool.stats();
  metrics.spoolBytes.set(stats.bytes);
  metrics.spoolRecords.set(stats.records);
  metrics.spoolOldestAge.set(stats.oldestAgeMs / 1000);
  for (const connection of connections) metrics.spoolBacklog.set({ connection }, stats.backlog[connection] ?? 0);
  metrics.deadLetters.set(stats.deadLetters);
}

/** Publishes now and every intervalMs until the returned function is called. */
export function startSpoolStats(
  spool: Pick<Spool, 'stats'>,
  metrics: Metrics,
  connections: readonly string[],
  intervalMs = 1000,
): () => void {
  const publish = (): void => {
    try {
      publishSpoolStats(spool, metrics, connections);
    } catch {
      // A closed or failed spool has no numbers to give; readiness reports its state.
    }
  };
  publish();
  const timer = setInterval(publish, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Cluster mode's numbers, once a second: partitions owned, rebalances, records held (the
 * spool gauges, for this instance's share of the intake) and backlog per connection.
 */
export function startIntakeStats(
  intake: Pick<KafkaSpool, 'stats'>,
  metrics: Metrics,
  connections: readonly string[],
  intervalMs = 1000,
): () => void {
  let rebalances = 0;
  const duplicates = new Map<string, number>();
  const publish = (): void => {
    const stats = intake.stats();
    // Duplicates are found by the partition's owner, after the 202 (ingest counts them locally).
    for (const [input, count] of stats.duplicates) {
      metrics.batchesDeduplicated.inc({ input }, count - (duplicates.get(input) ?? 0));
      duplicates.set(input, count);
    }
    metrics.intakeAssignedPartitions.set(stats.assignedPartitions.length);
    metrics.intakeRestoringPartitions.set(stats.restoringPartitions.length);
    metrics.intakeRebalances.inc(Math.max(0, stats.rebalances - rebalances));
    rebalances = stats.rebalances;
    metrics.intakeLag.reset();
    for (const { partition, connection, records } of stats.lag)
      metrics.intakeLag.set({ partition: String(partition), connection }, records);
    metrics.spoolBytes.set(stats.heldBytes);
    metrics.spoolRecords.set(stats.heldRecords);
    metrics.deadLetters.set(stats.deadLetters);
    for (const connection of connections) metrics.spoolBacklog.set({ connection }, stats.backlog[connection] ?? 0);
  };
  publish();
  const timer = setInterval(publish, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
