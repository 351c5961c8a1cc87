// Wiring only: config → spool → Events API (ingest) → connections (pipeline + Kafka sinks).
// Every decision lives in the module it names; this file only builds them and connects them,
// in the order a batch travels: HTTP request → spool → connection → Kafka record.
import type { AddressInfo } from 'node:net';
import type { ForwarderConfig } from './config/types.ts';
import { openSpool } from './spool/index.ts';
import type { Spool } from './spool/index.ts';
import { Authenticator } from './sources/events-api/auth.ts';
import { createIngestHandler } from './sources/events-api/ingest.ts';
import { buildOpenApiDocument } from './sources/events-api/openapi.ts';
import { createEventsApiServer } from './sources/events-api/server.ts';
import type { Logger } from './telemetry/logger.ts';
import { Metrics } from './telemetry/metrics.ts';

export interface Forwarder {
  readonly address: AddressInfo;
  readonly spool: Spool;
  readonly metrics: Metrics;
  /** Graceful stop: readiness fails, new requests get 503, in-flight ones finish, sinks flush, spool closes. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger: Logger;
  readonly metrics?: Metrics;
}

export async function startForwarder(config: ForwarderConfig, options: StartOptions): Promise<Forwarder> {
  const { logger } = options;
  const metrics = options.metrics ?? new Metrics();
  let recovering = true;

  const spool = await openSpool({
    dir: config.spool.path,
    maxBytes: config.spool.maxBytes,
    highWaterRatio: config.spool.highWaterRatio,
    dedupWindowMs: config.spool.dedupWindowMs,
    logger,
  });
  logger.info({ recovery: spool.recovery }, 'spool opened');

  const destinationsByInput = new Map<string, string[]>();
  for (const connection of config.connections) {
    const list = destinationsByInput.get(connection.input) ?? [];
    list.push(connection.name);
    destinationsByInput.set(connection.input, list);
  }

  const ingest = createIngestHandler({
    authenticator: new Authenticator(config.inputs.map((i) => ({ input: i.name, credentials: i.credentials }))),
    spool,
    destinationsFor: (input) => destinationsByInput.get(input) ?? [],
    limits: config.server,
    metrics,
    logger,
  });

  const openapi = buildOpenApiDocument();
  const server = createEventsApiServer(
    {
      ingest,
      metrics,
      logger,
      openapi: () => openapi,
      notReadyReason: () => {
        if (recovering) return 'recovering the spool';
        if (spool.state === 'full') return 'the spool is above its high-water mark';
        if (spool.state === 'unavailable') return 'the spool is not writable';
        return null;
      },
    },
    config.server.tls,
  );
  const address = await server.listen(config.server.port, config.server.host);
  recovering = false;
  logger.info({ address: `${address.address}:${address.port}` }, 'listening');

  let closed: Promise<void> | undefined;
  return {
    address,
    spool,
    metrics,
    close() {
      closed ??= (async () => {
        await server.close(config.server.shutdownTimeoutMs);
        await spool.close();
        logger.info('stopped');
      })();
      return closed;
    },
  };
}
