// The server side of `npm run bench:ingest`, in its own process. argv[2] is a JSON file with the
// snake_case config document; argv[3] is `full` (the real forwarder, src/main.ts, whose connection
// runners also read and parse every stored batch) or `ingest-only` (the same spool, ingest handler and
// HTTP server, wired as main.ts wires them, without connections), to tell the two costs apart.
// Prints "READY <port>" once listening, and closes on SIGTERM.
// Profile it with BENCH_SERVER_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof".
import { readFileSync } from 'node:fs';
import { buildConfig } from '../../src/config/index.ts';
import { openSpool } from '../../src/spool/index.ts';
import { startForwarder } from '../../src/main.ts';

import { Authenticator } from '../../src/sources/events-api/auth.ts';
import { createIngestHandler } from '../../src/sources/events-api/ingest.ts';
import { createEventsApiServer } from '../../src/sources/events-api/server.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';

const config = await buildConfig(JSON.parse(readFileSync(process.argv[2], 'utf8')), { source: process.argv[2] });
const logger = silentLogger();

async function ingestOnly() {
  const spool = await openSpool({
    dir: config.spool.path,
    maxBytes: config.spool.maxBytes,
    highWaterRatio: config.spool.highWaterRatio,
    dedupWindowMs: config.spool.dedupWindowMs,
    minFreeDiskBytes: config.spool.minFreeDiskBytes,
    logger,
  });
  const metrics = new Metrics();
  const destinations = config.connections.map((connection) => connection.name);
  const ingest = createIngestHandler({
    authenticator: new Authenticator(config.inputs.map((i) => ({ input: i.name, credentials: i.credentials }))),
    spool,
    destinationsFor: () => destinations,
    limits: config.server,
    metrics,
    logger,
  });
  const server = createEventsApiServer({ ingest, metrics, logger, openapi: () => ({}) });
  const address = await server.listen(config.server.port, config.server.host);
  return {
    port: address.port,
    spool,
    close: async () => {
      await server.close(1000);
      await spool.close();
    },
  };
}

async function full() {
  const forwarder = await startForwarder(config, { logger });
  return { port: forwarder.address.port, spool: forwarder.spool, close: () => forwarder.close() };
}

const running = process.argv[3] === 'ingest-only' ? await ingestOnly() : await full();
process.stdout.write(`READY ${running.port}\n`);
process.once('SIGTERM', () => {
  const stats = running.spool?.stats();
  if (stats !== undefined)
    process.stderr.write(`  spool: ${stats.appendCalls} appends in ${stats.commits} commits (fsyncs)\n`);
  void running.close().then(() => process.exit(0));
});
