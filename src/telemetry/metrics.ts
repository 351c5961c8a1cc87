// Every Prometheus metric the service exposes is declared here, once, so that /metrics,
// the docs and the code agree. Each Metrics instance has its own registry, so tests can
// run several servers in one process.
import * as promClient from 'prom-client';
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';
import { BUILD_INFO } from './build-info.ts';

export class Metrics {
  readonly registry = new Registry();

  readonly batchesAccepted = new Counter({
    name: 'kafka_forwarder_batches_accepted_total',
    help: 'Batches accepted (answered 202 and stored), per input.',
    labelNames: ['input'] as const,
    registers: [this.registry],
  });
  readonly eventsAccepted = new Counter({
    name: 'kafka_forwarder_events_accepted_total',
    help: 'Events in accepted batches, per input.',
    labelNames: ['input'] as const,
    registers: [this.registry],
  });
  readonly requestsRejected = new Counter({
    name: 'kafka_forwarder_requests_rejected_total',
    help: 'Rejected HTTP requests, per error code and status.',
    labelNames: ['reason', 'status'] as const,
    registers: [this.registry],
  });
  readonly batchesDeduplicated = new Counter({
    name: 'kafka_forwarder_batches_deduplicated_total',
    help: 'Batches answered 202 but not stored again because their source_request_id was already accepted.',
    labelNames: ['input'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'kafka_forwarder_ingest_request_duration_seconds',
    help: 'Time from request start to answer on the Events API, including the durable write.',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly spoolBytes = new Gauge({
    name: 'kafka_forwarder_spool_bytes',
    help: 'Bytes held in the spool.',
    registers: [this.registry],
  });
  readonly spoolRecords = new Gauge({
    name: 'kafka_forwarder_spool_records',
    help: 'Batches held in the spool.',
    registers: [this.registry],
  });
  readonly spoolOldestAge = new Gauge({
    name: 'kafka_forwarder_spool_oldest_age_seconds',
    help: 'Age of the oldest batch in the spool.',
    registers: [this.registry],
  });
  readonly spoolBacklog = new Gauge({
    name: 'kafka_forwarder_spool_backlog_records',
    help: 'Batches not yet acknowledged, per connection.',
    labelNames: ['connection'] as const,
    registers: [this.registry],
  });
  readonly openWindows = new Gauge({
    name: 'kafka_forwarder_open_windows',
    help: 'Open batching windows (Send as Batch / Wait for Complete Batch), per connection.',
    labelNames: ['connection'] as const,
    registers: [this.registry],
  });
  readonly eventsFiltered = new Counter({
    name: 'kafka_forwarder_events_filtered_total',
    help: 'Events not forwarded because of a connection setting or an unsupported event type, per connection and reason.',
    labelNames: ['connection', 'reason'] as const,
    registers: [this.registry],
  });
  readonly recordsProduced = new Counter({
    name: 'kafka_forwarder_records_produced_total',
    help: 'Records acknowledged by Kafka, per output.',
    labelNames: ['output'] as const,
    registers: [this.registry],
  });
  readonly bytesProduced = new Counter({
    name: 'kafka_forwarder_produced_bytes_total',
    help: 'Record value bytes acknowledged by Kafka, per output.',
    labelNames: ['output'] as const,
    registers: [this.registry],
  });
  readonly produceLatency = new Histogram({
    name: 'kafka_forwarder_produce_latency_seconds',
    help: 'Time from a produce request to its Kafka acknowledgement, per output.',
    labelNames: ['output'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly ingestToAck = new Histogram({
    name: 'kafka_forwarder_ingest_to_ack_seconds',
    help: 'Time from batch receipt to Kafka acknowledgement of its records, per output.',
    labelNames: ['output'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 1800],
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'kafka_forwarder_retries_total',
    help: 'Produce retries, per output and error class.',
    labelNames: ['output', 'class'] as const,
    registers: [this.registry],
  });
  readonly outputState = new Gauge({
    name: 'kafka_forwarder_output_state',
    help: 'Output state: 1 for the current state (ok, retrying, paused) and its reason, 0 otherwise.',
    labelNames: ['output', 'state', 'reason'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Gauge({
    name: 'kafka_forwarder_dead_letters',
    help: 'Records in the dead-letter store.',
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'kafka_forwarder_dead_letters_total',
    help: 'Batches moved to the dead letters by this process, per connection and error code.',
    labelNames: ['connection', 'code'] as const,
    registers: [this.registry],
  });
  readonly buildInfo = new Gauge({
    name: 'kafka_forwarder_build_info',
    help: 'Always 1: the kafka-forwarder version and the Node.js version that run.',
    labelNames: ['version', 'node'] as const,
    registers: [this.registry],
  });

  // --- cluster mode (spool.kind: kafka) ---
  readonly intakeAssignedPartitions = new Gauge({
    name: 'kafka_forwarder_intake_assigned_partitions',
    help: 'Intake partitions this instance owns (processes).',
    registers: [this.registry],
  });
  readonly intakeRestoringPartitions = new Gauge({
    name: 'kafka_forwarder_intake_restoring_partitions',
    help: 'Intake partitions this instance owns whose state is not restored yet: their batches wait unprocessed (more than 0 for long: see /readyz).',
    registers: [this.registry],
  });
  readonly intakeRebalances = new Counter({
    name: 'kafka_forwarder_intake_rebalances_total',
    help: 'Consumer group rebalances this instance took part in (each changes or confirms its partitions).',
    registers: [this.registry],
  });
  readonly intakeLag = new Gauge({
    name: 'kafka_forwarder_intake_lag_records',
    help: 'Intake records not yet acknowledged by Kafka for the connection, per owned partition: the end of the partition less the oldest offset the connection still needs.',
    labelNames: ['partition', 'connection'] as const,
    registers: [this.registry],
  });
  readonly intakeRebuildSeconds = new Histogram({
    name: 'kafka_forwarder_intake_rebuild_seconds',
    help: 'Time from being assigned an intake partition to having read its backlog as of then (windows rebuilt).',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly #outputStateLabels = new Map<string, { output: string; state: string; reason: string }>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // Node's process and runtime metrics keep their standard names, so stock Node dashboards work.
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.buildInfo.set({ version: BUILD_INFO.version, node: BUILD_INFO.node }, 1);
  }

  /** Sets the one-hot output state gauge: the current state has value 1, others are removed. */
  setOutputState(output: string, state: 'ok' | 'retrying' | 'paused', reason = ''): void {
    const previous = this.#outputStateLabels.get(output);
    if (previous) this.outputState.remove(previous);
    const labels = { output, state, reason };
    this.outputState.set(labels, 1);
    this.#outputStateLabels.set(output, labels);
  }

  /**
   * For the Kafka client's own `metrics` option: it registers its producer metrics
   * (kafka_producers, kafka_produced_messages) in our registry, labelled with `labels`. Every
   * client given this must use the same label names, as the library merges them per metric.
   */
  kafkaClientMetrics(labels: { output: string }): {
    registry: Registry;
    client: typeof promClient;
    labels: { output: string };
  } {
    return { registry: this.registry, client: promClient, labels };
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
