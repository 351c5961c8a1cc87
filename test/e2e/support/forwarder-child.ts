// A forwarder in its own process, as `kafka-forwarder serve` runs it: loads the config file given
// as argv[2], logs JSON to stdout at the configured level, prints one line `{"forwarderPort":N}`
// once it listens, and closes gracefully on SIGTERM/SIGINT. Tests use it to kill -9 or SIGTERM a
// real process and to capture everything it writes.
import { loadConfig } from '../../../src/config/index.ts';
import { startForwarder } from '../../../src/main.ts';
import { createLogger } from '../../../src/telemetry/logger.ts';

const configFile = process.argv[2];
const config = await loadConfig({ path: configFile, env: process.env });
const logger = createLogger({ level: config.logLevel });
// The redaction test's canary: the whole loaded configuration, secrets and PEMs included, goes
// through the logger at debug level, so the logger's redaction configuration — not the care of
// whoever logs — must keep them out of the output.
if (process.env.KF_E2E_LOG_CONFIG === '1') logger.debug({ config }, 'configuration loaded');
const forwarder = await startForwarder(config, { logger });
process.stdout.write(`${JSON.stringify({ forwarderPort: forwarder.address.port })}\n`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  forwarder.close().then(
    () => {
      logger.flush();
      process.exitCode = 0;
      // Whatever still holds the event loop (sockets the client library keeps) must not keep a
      // closed forwarder alive.
      setImmediate(() => process.exit(0));
    },
    (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
