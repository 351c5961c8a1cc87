// `serve`: run the forwarder until SIGTERM or SIGINT, then shut down gracefully (readiness fails,
// new requests get 503, in-flight ones finish, sinks flush, the spool closes) within the
// configured deadline. A second signal, or a close that overruns the deadline, ends the process at once.
import { redactConfig, type LogLevel } from '../../config/index.ts';
import { startForwarder } from '../../main.ts';
import { createLogger, type Logger } from '../../telemetry/index.ts';
import { configOption, EXIT_FAILED, EXIT_OK, stringValue, UsageError, type CommandDefinition } from '../index.ts';
import { loadCliConfig } from '../index.ts';

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** Time allowed beyond shutdown_timeout_ms for the sinks and the spool to close after the HTTP server. */
const CLOSE_GRACE_MS = 5_000;

export const serveCommand: CommandDefinition = {
  path: ['serve'],
  summary: 'Run the forwarder: take Events API batches over HTTP and forward them to Kafka.',
  usage: '[--config FILE] [--log-level LEVEL]',
  description:
    'Logs are JSON lines on stdout. SIGTERM or SIGINT stops it gracefully within server.shutdown_timeout_ms; ' +
    'a second signal stops it at once.',
  options: { ...configOption.options, 'log-level': { type: 'string', short: 'l' } },
  optionHelp: [
    configOption.help,
    { flag: '-l, --log-level LEVEL', help: `${LOG_LEVELS.join('|')} (default: log_level of the config)` },
  ],
  positionals: [0, 0],
  async run(args, io) {
    const level = stringValue(args, 'log-level');
    if (level !== undefined && !LOG_LEVELS.includes(level as LogLevel)) {
      throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not "${level}"`);
    }
    const loaded = await loadCliConfig(args, io);
    if (typeof loaded === 'number') return loaded;
    const { config } = loaded;
    const logger = createLogger({ level: (level as LogLevel | undefined) ?? config.logLevel });
    exitOnUnexpectedErrors(logger);
    // Secrets are replaced before logging; the logger would censor them as well.
    logger.debug({ config: redactConfig(config) }, 'configuration loaded');
    let forwarder;
    try {
      forwarder = await startForwarder(config, { logger });
    } catch (error) {
      logger.fatal({ err: error }, 'start-up failed');
      logger.flush();
      return EXIT_FAILED;
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    const deadlineMs = config.server.shutdownTimeoutMs + CLOSE_GRACE_MS;
    logger.info({ signal, deadlineMs }, 'shutting down');
    const forceExit = (reason: string): void => {
      logger.error({ reason }, 'shutdown did not finish; exiting now');
      logger.flush();
      process.exit(EXIT_FAILED);
    };
    process.once('SIGTERM', () => forceExit('second signal'));
    process.once('SIGINT', () => forceExit('second signal'));
    const timer = setTimeout(() => forceExit(`deadline of ${deadlineMs} ms passed`), deadlineMs);
    timer.unref();
    await forwarder.close();
    clearTimeout(timer);
    logger.flush();
    return EXIT_OK;
  },
};

/**
 * An exception nobody caught, or a promise rejection nobody handled, leaves the process in a state
 * nothing vouches for: write one fatal line (flushed, so the supervisor's log has it) and exit
 * non-zero for the supervisor to restart. Every batch answered 202 is already in the spool, whose
 * recovery at the next start is the same as after a crash.
 */
function exitOnUnexpectedErrors(logger: Logger): void {
  const exit = (kind: 'uncaughtException' | 'unhandledRejection') => (error: unknown) => {
    logger.fatal({ err: error, kind }, `${kind}: exiting; the spool keeps every accepted batch`);
    logger.flush();
    process.exit(EXIT_FAILED);
  };
  process.once('uncaughtException', exit('uncaughtException'));
  process.once('unhandledRejection', exit('unhandledRejection'));
}
