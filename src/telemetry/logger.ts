// Structured JSON logs (pino). Secrets are removed by configuration, not by care: every logged
// object passes through redactSecrets(), which censors, at any depth, each property whose name
// says it holds a secret (SECRET_KEYS) and any string that is PEM private-key material, whatever
// its name. Callers should still never log secrets.
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

export const CENSOR = '[redacted]';
const SECRET_KEY_SET = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));
const PRIVATE_KEY_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function isSecretKey(name: string): boolean {
  return SECRET_KEY_SET.has(name.toLowerCase());
}

/**
 * Returns `value` with every secret censored. Objects are copied only where something changes,
 * so the usual log line (no secrets) costs one walk and no allocation.
 */
export function redactSecrets<T>(value: T, seen: WeakSet<object> = new WeakSet()): T {
  if (typeof value === 'string') return (PRIVATE_KEY_PEM.test(value) ? CENSOR : value) as T;
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return value;
  if (seen.has(value)) return value;
  seen.add(value);
  if (value instanceof Error) return redactError(value, seen) as T;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const redacted = redactSecrets(item, seen);
      if (redacted !== item) (copy ??= [...value])[i] = redacted;
    });
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
    const redacted: unknown =
      isSecretKey(name) && item !== undefined && item !== null ? CENSOR : redactSecrets(item, seen);
    if (redacted !== item) (copy ??= { ...(value as Record<string, unknown>) })[name] = redacted;
  }
  return (copy ?? value) as T;
}

/**
 * An error whose own properties or cause hold a secret is replaced by a plain copy (type,
 * message, stack, the other properties and the cause, all redacted); others are left as they are.
 */
function redactError(error: Error, seen: WeakSet<object>): Error | Record<string, unknown> {
  const own = Object.fromEntries(Object.entries(error));
  const redacted = redactSecrets(own, seen);
  const cause = error.cause === undefined ? undefined : redactSecrets(error.cause, seen);
  if (redacted === own && cause === error.cause) return error;
  return {
    type: error.name,
    message: error.message,
    stack: error.stack,
    ...redacted,
    ...(cause !== undefined && { cause }),
  };
}

export function createLogger(
  options: { level?: LogLevel; destination?: DestinationStream; name?: string } = {},
): Logger {
  return pino(
    {
      name: options.name ?? 'kafka-forwarder',
      level: options.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (object) => redactSecrets(object) },
    },
    options.destination,
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
