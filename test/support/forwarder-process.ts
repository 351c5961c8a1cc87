// A forwarder in its own process, for tests that must kill it (kill -9) or stop it with SIGTERM:
//   node test/support/forwarder-process.ts <config.json>
// The file holds the snake_case configuration document (what kafka-forwarder.yaml would hold).
// Prints one JSON line on stdout once it listens: {"port":…,"pid":…}; logs go to stderr.
// SIGTERM or SIGINT: graceful close (Forwarder.close), then exit 0.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildConfig } from '../../src/config/index.ts';
import { startForwarder } from '../../src/main.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

const configPath = process.argv[2];
if (configPath === undefined) {
  process.stderr.write('usage: forwarder-process.ts <config.json>\n');
  process.exit(2);
}
const path = resolve(configPath);
const config = await buildConfig(JSON.parse(readFileSync(path, 'utf8')), { source: path, baseDir: dirname(path) });
const logger = createLogger({ level: config.logLevel, destination: process.stderr, name: 'forwarder-process' });
const forwarder = await startForwarder(config, { logger });
process.stdout.write(JSON.stringify({ port: forwarder.address.port, pid: process.pid }) + '\n');

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  forwarder.close().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, 'close failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
