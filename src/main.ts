// Wiring only: config → spool → Events API (ingest) → connections (pipeline + Kafka sinks).
// Every decision lives in the module it names; this file only builds them and connects them,
// in the order a batch travels: HTTP request → spool → connection → Kafka record.
import type { AddressInfo } from 'node:net';
import type { ForwarderConfig, IntakeConfig } from './config/index.ts';
import { PartitionTasks, startIntakeStats, startSpoolStats } from './pipeline/index.ts';
import type { ConnectionTarget } from './pipeline/index.ts';
import { kafkaOutputSettings } from './sinks/kafka/index.ts';
import type { KafkaOutputSettings } from './sinks/kafka/index.ts';
import { KafkaSink, traceKafkaDiagnostics } from './sinks/kafka/index.ts';
import { KafkaSpool, LocalStore, openKafkaSpool, openSpool } from './spool/index.ts';
import type { IntakeConnection } from './spool/index.ts';
import type { AppendItem, Spool, Store } from './spool/index.ts';
import { Authenticator } from './sources/events-api/index.ts';
import { createIngestHandler } from './sources/events-api/index.ts';
import { buildOpenApiDocument } from './sources/events-api/index.ts';
import { createEventsApiServer } from './sources/events-api/index.ts';
import type { Logger } from './telemetry/index.ts';
import { createAdminServer, Metrics } from './telemetry/index.ts';
import { ForwarderError } from './errors.ts';

/** How long past server.shutdown_timeout_ms a stop still waits for acknowledgements to reach the spool. */
const ACK_GRACE_MS = 2_000;

export interface OutputStatus {
  readonly output: string;
  readonly state: 'ok' | 'retrying' | 'paused';
  /** Reported by /readyz as degraded: paused, unreachable since the start, or retrying past degraded_after_ms. */
  readonly degraded: boolean;
  readonly code?: string;
  readonly reason?: string;
  readonly fix?: string;
}

export interface Forwarder {
  /** The ingest listener (server.host:server.port). */
  readonly address: AddressInfo;
  /** The admin listener (admin.host:admin.port): /metrics, /healthz, /readyz. */
  readonly adminAddress: AddressInfo;
  /** The store batches are kept in between the 202 and Kafka's acknowledgement, whichever its kind. */
  readonly store: Store;
  /** The local spool (spool.kind: local). */
  readonly spool?: Spool;
  /** The Kafka spool (spool.kind: kafka). */
  readonly intake?: KafkaSpool;
  readonly metrics: Metrics;
  /** Each output's state (ok, retrying, paused) and, when not ok, why. */
  outputs(): OutputStatus[];
  /**
   * Graceful stop: readiness fails, new requests get 503, in-flight ones finish; connections stop
   * reading and hand over the windows already due; sinks send what they hold and wait for Kafka's
   * acknowledgements (up to server.shutdown_timeout_ms); acknowledgements reach the spool; the
   * spool closes. Whatever was not acknowledged waits in the spool for the next start.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /**
   * The wall clock (ms) of receipt times, dedup windows and batching windows. Tests whose subject
   * is time pass a controlled one; the service runs on Date.now.
   */
  readonly clock?: () => number;
}

export async function startForwarder(config: ForwarderConfig, options: StartOptions): Promise<Forwarder> {
  const { logger } = options;
  const metrics = options.metrics ?? new Metrics();

  const destinationsByInput = new Map<string, string[]>();
  for (const connection of config.connections) {
    const list = destinationsByInput.get(connection.input) ?? [];
    list.push(connection.name);
    destinationsByInput.set(connection.input, list);
  }
  const outputSettings = new Map(config.outputs.map((output) => [output.name, kafkaOutputSettings(output)]));
  const sinks = new Map(
    [...outputSettings.values()].map((settings) => [settings.output, new KafkaSink({ settings, metrics, logger })]),
  );
  // Start-up truth: each output asks its brokers for its topic now, not when the first window closes.
  for (const sink of sinks.values()) void sink.checkAtStart();
  // A start that fails after this closes them again: their producers would keep the process alive.
  const closeSinks = (): Promise<unknown> => Promise.all([...sinks.values()].map((sink) => sink.close(0)));
  // The server listens before the store is open (the spool recovered, or the intake reached), so
  // that /readyz can say why it is not ready and requests get a clear 503 instead of a refused
  // connection.
  let store: Store | undefined = undefined;
  const openingReason =
    config.spool.kind === 'kafka' ? 'the intake topic is being opened' : 'it is being recovered after start';
  const ingest = createIngestHandler({
    authenticator: new Authenticator(config.inputs.map((i) => ({ input: i.name, credentials: i.credentials }))),
    spool: {
      append(items: readonly AppendItem[]) {
        if (store === undefined) throw new ForwarderError('SPOOL_UNAVAILABLE', { reason: openingReason });
        return store.append(items);
      },
    },
    destinationsFor: (input) => destinationsByInput.get(input) ?? [],
    limits: config.server,
    metrics,
    logger,
  });

  const outputs = (): OutputStatus[] =>
    [...sinks.values()].map((sink) => {
      const problem = sink.problem;
      return problem === undefined
        ? { output: sink.output, state: 'ok', degraded: false }
        : {
            output: sink.output,
            state: problem.state,
            degraded: sink.degraded,
            code: problem.code,
            reason: problem.reason,
            fix: problem.fix,
          };
    });

  const openapi = buildOpenApiDocument();
  const server = createEventsApiServer({ ingest, metrics, logger, openapi: () => openapi }, config.server.tls);
  const admin = createAdminServer({
    metrics,
    logger,
    notReadyReason: () =>
      store === undefined
        ? config.spool.kind === 'kafka'
          ? 'opening the intake topic'
          : 'recovering the spool'
        : store.notReadyReason(),
    // A paused output, or one that cannot reach its brokers, needs a person: say so where
    // orchestration and on-call look. Batches are still accepted and kept meanwhile; the spool's
    // high-water mark bounds for how long.
    degradedReasons: () => [
      ...(store?.degradedReasons() ?? []),
      ...outputs()
        .filter((output) => output.degraded)
        .map(
          (output) =>
            `output ${output.output} is ${output.state === 'paused' ? 'paused' : 'retrying'}: ${output.reason} (${output.code}); ${output.fix}`,
        ),
    ],
  });
  // The admin listener first: probes and scrapers see the start-up (recovering, not ready) too.
  const adminAddress = await admin.listen(config.admin.port, config.admin.host);
  let address: AddressInfo;
  try {
    address = await server.listen(config.server.port, config.server.host);
  } catch (error) {
    await admin.close();
    await closeSinks();
    throw error;
  }
  logger.info(
    { listening: `${address.address}:${address.port}`, admin: `${adminAddress.address}:${adminAddress.port}` },
    'listening; recovering the spool',
  );
  const stopListening = {
    async close(ms: number) {
      admin.markShuttingDown();
      await server.close(ms);
    },
  };
  // log_level trace: the Kafka client's own diagnostics too, until the forwarder stops.
  const stopTracing = logger.isLevelEnabled('trace') ? traceKafkaDiagnostics(logger) : () => {};
  const closeAdmin = (): Promise<void> => {
    stopTracing();
    return admin.close();
  };

  // One start path for both spool kinds: open the store, then hand its partitions to the tasks.
  const tasks = new PartitionTasks({
    targets: connectionTargets(config, outputSettings, sinks),
    metrics,
    logger,
    ...(options.clock !== undefined && { clock: options.clock }),
  });
  let opened: Store;
  try {
    opened = await openStore(config, { metrics, logger, ...(options.clock !== undefined && { clock: options.clock }) });
  } catch (error) {
    await server.close(0);
    await admin.close();
    await closeSinks();
    throw error;
  }
  // Ingest takes batches as soon as the store can: in cluster mode, joining the group takes
  // seconds more, and batches accepted meanwhile simply wait on the intake topic.
  store = opened;
  try {
    await opened.startProcessing(tasks);
  } catch (error) {
    store = undefined;
    await server.close(0);
    await admin.close();
    await opened.close(2_000).catch(() => undefined);
    await closeSinks();
    throw error;
  }
  const connectionNames = config.connections.map((connection) => connection.name);
  const stopStats =
    opened instanceof LocalStore
      ? startSpoolStats(opened.spool, metrics, connectionNames)
      : startIntakeStats(opened as KafkaSpool, metrics, connectionNames);
  logger.info(
    { address: `${address.address}:${address.port}` },
    opened.kind === 'kafka' ? 'ready; partitions are processed once the consumer group is joined' : 'ready',
  );

  return {
    address,
    adminAddress,
    store: opened,
    ...(opened instanceof LocalStore && { spool: opened.spool }),
    ...(opened instanceof KafkaSpool && { intake: opened }),
    metrics,
    outputs,
    close: closeOnce({
      shutdownTimeoutMs: config.server.shutdownTimeoutMs,
      server: stopListening,
      closeAdmin,
      processing: tasks,
      sinks: [...sinks.values()],
      stopStats,
      // The Kafka store commits and leaves the group: it gets a second even past the deadline.
      closeStore: (ms) => opened.close(Math.max(1_000, ms)),
      logger,
    }),
  };
}

interface CloseParts {
  readonly shutdownTimeoutMs: number;
  readonly server: { close(ms: number): Promise<void> };
  /** The connections' work, whichever spool feeds it. */
  readonly processing: { stop(ms: number): Promise<void>; settled(ms: number): Promise<void> };
  readonly sinks: readonly KafkaSink[];
  readonly stopStats: () => void;
  readonly closeStore: (ms: number) => Promise<void>;
  /** Last: /metrics and /readyz answer through the drain. */
  readonly closeAdmin: () => Promise<void>;
  readonly logger: Logger;
}

/**
 * The one shutdown sequence of both spool kinds, within server.shutdown_timeout_ms: stop taking
 * requests, stop the connections, flush the sinks, wait for the acknowledgements, then close the
 * store. Called again, it returns the same promise.
 */
function closeOnce(parts: CloseParts): () => Promise<void> {
  let closed: Promise<void> | undefined;
  return () => {
    closed ??= (async () => {
      const deadline = Date.now() + parts.shutdownTimeoutMs;
      const left = (): number => Math.max(0, deadline - Date.now());
      await parts.server.close(left());
      await parts.processing.stop(left());
      await Promise.all(parts.sinks.map((sink) => sink.close(left())));
      // Acks get a moment past the deadline: they are what keeps delivered batches from being sent again.
      await parts.processing.settled(left() + ACK_GRACE_MS);
      parts.stopStats();
      await parts.closeStore(left());
      await parts.closeAdmin();
      parts.logger.info('stopped');
    })();
    return closed;
  };
}

/** How to reach the intake cluster: spool.kafka, read as an output's connection is (TLS, SASL, tuning). */
export function intakeConnectionOf(settings: IntakeConfig): IntakeConnection {
  const { connection } = kafkaOutputSettings({
    ...settings,
    name: 'spool.kafka',
    degradedAfterMs: 0,
    key: 'mpid',
    headers: [],
  });
  return {
    ...connection,
    clientId: settings.clientId,
    connectTimeoutMs: settings.connectTimeoutMs,
    requestTimeoutMs: settings.requestTimeoutMs,
    retryDelayMs: settings.retryBackoffMinMs,
  };
}

/** Each connection with its output's sink and record shape: what a partition's task runs. */
function connectionTargets(
  config: ForwarderConfig,
  outputSettings: ReadonlyMap<string, KafkaOutputSettings>,
  sinks: ReadonlyMap<string, KafkaSink>,
): ConnectionTarget[] {
  return config.connections.map((connection) => {
    const output = outputSettings.get(connection.output);
    const sink = sinks.get(connection.output);
    if (output === undefined || sink === undefined)
      throw new TypeError(`connection ${connection.name}: no output ${connection.output}`);
    return {
      connection,
      sink,
      maxRecordBytes: output.maxRecordBytes,
      keyField: output.keyField,
      headerFields: output.headerFields,
      topicByEventType: output.topicByEventType,
    };
  });
}

/**
 * Opens the configured store: the local spool (recovered from disk), or the Kafka spool (its
 * topics made when missing and its intake writable).
 */
async function openStore(
  config: ForwarderConfig,
  parts: { readonly metrics: Metrics; readonly logger: Logger; readonly clock?: () => number },
): Promise<Store> {
  const { logger } = parts;
  if (config.spool.kind === 'kafka') {
    const settings = config.spool.kafka;
    if (settings === undefined) throw new TypeError('spool.kind is kafka without spool.kafka');
    return openKafkaSpool({
      connection: intakeConnectionOf(settings),
      topic: settings.topic,
      groupId: settings.groupId,
      stateTopic: settings.stateTopic,
      deadLetterTopic: settings.deadLetterTopic,
      partitions: settings.partitions,
      replicationFactor: settings.replicationFactor,
      maxBufferedBytes: settings.maxBufferedBytes,
      dedupWindowMs: config.spool.dedupWindowMs,
      sessionTimeoutMs: settings.sessionTimeoutMs,
      destinations: config.connections.map((connection) => connection.name),
      logger,
      ...(parts.clock !== undefined && { clock: parts.clock }),
      onRebuilt: (rebuild) => parts.metrics.intakeRebuildSeconds.observe(rebuild.ms / 1000),
    });
  }
  const spool = await openSpool({
    dir: config.spool.path,
    maxBytes: config.spool.maxBytes,
    highWaterRatio: config.spool.highWaterRatio,
    minFreeDiskBytes: config.spool.minFreeDiskBytes,
    dedupWindowMs: config.spool.dedupWindowMs,
    logger,
    ...(parts.clock !== undefined && { clock: parts.clock }),
  });
  // Logged here, once, for the service; the CLI's offline commands open the spool quietly.
  if (spool.recovery.cleanShutdown) logger.info({ recovery: spool.recovery }, 'spool opened');
  else logger.warn({ recovery: spool.recovery }, 'spool opened after an unclean shutdown; recovered committed records');
  const configured = new Set(config.connections.map((connection) => connection.name));
  for (const [destination, backlog] of Object.entries(spool.recovery.backlog)) {
    if (!configured.has(destination) && backlog > 0) {
      logger.warn(
        { connection: destination, batches: backlog },
        'the spool holds batches for a connection that is no longer configured; they are kept',
      );
    }
  }
  return new LocalStore(spool);
}
