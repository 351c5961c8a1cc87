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
 * so the usual log line (no secrets) costs one walk and no allocation. Errors, at any depth, become
 * their serialized form (serializeError), censored too. An object met twice is censored both times;
 * a cycle becomes "[Circular]".
 */
export function redactSecrets<T>(value: T, seen: Map<object, unknown> = new Map()): T {
  if (typeof value === 'string') return (PRIVATE_KEY_PEM.test(value) ? CENSOR : value) as T;
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return value;
  if (seen.has(value)) return seen.get(value) as T;
  seen.set(value, CIRCULAR);
  const redacted = value instanceof Error ? redactSecrets(serializeError(value), seen) : redactObject(value, seen);
  seen.set(value, redacted);
  return redacted as T;
}

const CIRCULAR = '[Circular]';

function redactObject(value: object, seen: Map<object, unknown>): unknown {
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    let copy: unknown[] | undefined;
    items.forEach((item, i) => {
      const redacted = redactSecrets(item, seen);
      if (redacted !== item) (copy ??= [...items])[i] = redacted;
    });
    return copy ?? items;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
    const redacted: unknown =
      isSecretKey(name) && item !== undefined && item !== null ? CENSOR : redactSecrets(item, seen);
    if (redacted !== item) (copy ??= { ...(value as Record<string, unknown>) })[name] = redacted;
  }
  return copy ?? value;
}

/** How far down causes and aggregated errors `codes` goes, and how many entries it holds at most. */
const CODES_MAX_DEPTH = 8;
const CODES_MAX_ENTRIES = 20;
const CODE_MESSAGE_MAX_CHARS = 200;

interface ErrorCodeEntry {
  code?: string | number;
  /** A Kafka protocol error's number and name (the client's ProtocolError). */
  apiCode?: number;
  apiId?: string;
  /** Where in a Kafka response the error was, e.g. /topics/0/partitions/1. */
  path?: string;
  message: string;
}

/**
 * pino's error serialization (type, message and stack with the causes', own properties, aggregated
 * errors), plus `codes`: the codes of the errors nested in it, flattened (pino prints a cause's
 * message and stack only, so a Kafka error's codes under a cause would not show).
 */
function serializeError(error: Error): Record<string, unknown> {
  const serialized: Record<string, unknown> = { ...pino.stdSerializers.err(error) };
  const nested = nestedCodes(error);
  if (nested !== undefined) {
    serialized.codes = nested.entries;
    if (nested.omitted > 0) serialized.codesOmitted = nested.omitted;
  }
  return serialized;
}

function innerErrors(error: object): unknown[] {
  const { errors } = error as { errors?: unknown };
  return Array.isArray(errors) ? errors : [];
}

/**
 * The error and those down its causes and aggregated errors (depth first, bounded in depth and
 * count) that carry a code; undefined for an error with nothing nested.
 */
function nestedCodes(root: Error): { entries: ErrorCodeEntry[]; omitted: number } | undefined {
  if (root.cause === undefined && innerErrors(root).length === 0) return undefined;
  const entries: ErrorCodeEntry[] = [];
  let omitted = 0;
  const visited = new Set<object>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || visited.has(value)) return;
    const { message, code, apiCode, apiId, path, cause } = value as Record<string, unknown>;
    if (typeof message !== 'string') return;
    visited.add(value);
    if (depth > CODES_MAX_DEPTH || visited.size > 10 * CODES_MAX_ENTRIES) {
      omitted++;
      return;
    }
    if (typeof code === 'string' || typeof code === 'number' || typeof apiCode === 'number') {
      if (entries.length < CODES_MAX_ENTRIES) {
        entries.push({
          ...((typeof code === 'string' || typeof code === 'number') && { code }),
          ...(typeof apiCode === 'number' && { apiCode }),
          ...(typeof apiId === 'string' && { apiId }),
          ...(typeof path === 'string' && { path }),
          message:
            message.length > CODE_MESSAGE_MAX_CHARS ? `${message.slice(0, CODE_MESSAGE_MAX_CHARS - 1)}…` : message,
        });
      } else {
        omitted++;
      }
    }
    for (const inner of innerErrors(value)) visit(inner, depth + 1);
    visit(cause, depth + 1);
  };
  visit(root, 0);
  return entries.length > 0 ? { entries, omitted } : undefined;
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
      // formatters.log has already turned errors into censored plain objects; an error that did not
      // pass through it (a child logger's bindings) is serialized and censored here.
      serializers: { err: (value: unknown): unknown => (value instanceof Error ? redactSecrets(value) : value) },
    },
    options.destination,
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
