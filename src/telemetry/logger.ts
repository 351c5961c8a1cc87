// Structured JSON logs (pino). Secrets are removed by configuration, not by care: every path
// that can hold a password, API secret or private key is listed in REDACT_PATHS, and pino
// censors it wherever it appears in a logged object. Callers should still never log secrets.
import { pino } from 'pino';
import type { Logger, LevelWithSilent, DestinationStream } from 'pino';

export type { Logger } from 'pino';
export type LogLevel = LevelWithSilent;

const SECRET_KEYS = [
  'password',
  'apiSecret',
  'api_secret',
  'secret',
  'clientKeyPem',
  'client_key',
  'keyPem',
  'key',
  'authorization',
  'sasl',
];

/** Paths censored in every log line, at the top level and up to three levels deep. */
export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]).concat([
  'req.headers.authorization',
  'headers.authorization',
]);

export function createLogger(options: { level?: LogLevel; destination?: DestinationStream; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'kafka-forwarder',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
