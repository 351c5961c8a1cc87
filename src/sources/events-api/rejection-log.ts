// What the Events API logs about requests it did not accept, sampled so that a flood cannot flood
// the log: each reason code logs at most `perWindow` lines per window, and the next line logged
// for it says how many were left out meanwhile (the metric counts them all).
//
// - Rejected requests (4xx) at info: what an operator needs to find a misbehaving client (request
//   id, input, status, reason), never the body or the credentials.
// - Failed requests (5xx): a 503 (the spool or the intake cannot store now; expected while a disk
//   or Kafka is down, and the client retries) at warn with the code, the message and the cause's
//   code, without a stack; anything else (500, unexpected) at error with the error and its stack.
import { isForwarderError } from '../../errors.ts';
import type { Logger } from '../../telemetry/index.ts';

export interface Rejection {
  readonly requestId: string;
  readonly route: string;
  /** Unknown until the credentials are checked. */
  readonly input: string | undefined;
  readonly status: number;
  /** The registry code (docs/errors.md). */
  readonly reason: string;
  /** The error's message, which names the field; messages carry no secrets or bodies. */
  readonly message: string;
}

export interface Failure {
  readonly requestId: string;
  readonly route: string;
  readonly input: string | undefined;
  /** The status answered, 500 or more. */
  readonly status: number;
  readonly error: unknown;
}

export interface SamplingOptions {
  /** Lines per reason code per window (10). */
  perWindow?: number;
  /** The window, in ms (10 s). */
  windowMs?: number;
  now?: () => number;
}

/**
 * Per key, whether a line may be logged now: undefined when it is left out, else how many were left
 * out since the last line logged for the key.
 */
function createSampler(options: SamplingOptions): (key: string) => number | undefined {
  const perWindow = options.perWindow ?? 10;
  const windowMs = options.windowMs ?? 10_000;
  const now = options.now ?? Date.now;
  const byKey = new Map<string, { windowStart: number; logged: number; suppressed: number }>();
  return (key) => {
    const at = now();
    let entry = byKey.get(key);
    if (entry === undefined || at - entry.windowStart >= windowMs) {
      entry = { windowStart: at, logged: 0, suppressed: entry?.suppressed ?? 0 };
      byKey.set(key, entry);
    }
    if (entry.logged >= perWindow) {
      entry.suppressed++;
      return undefined;
    }
    entry.logged++;
    const suppressed = entry.suppressed;
    entry.suppressed = 0;
    return suppressed;
  };
}

export function createRejectionLog(logger: Logger, options: SamplingOptions = {}): (rejection: Rejection) => void {
  const sample = createSampler(options);
  return (rejection) => {
    if (!logger.isLevelEnabled('info')) return;
    const suppressed = sample(rejection.reason);
    if (suppressed === undefined) return;
    logger.info({ ...rejection, ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }) }, 'request rejected');
  };
}

export function createFailureLog(logger: Logger, options: SamplingOptions = {}): (failure: Failure) => void {
  const sample = createSampler(options);
  return ({ error, ...request }) => {
    const unavailable = request.status === 503;
    if (!logger.isLevelEnabled(unavailable ? 'warn' : 'error')) return;
    const reason = isForwarderError(error) ? error.code : 'INTERNAL';
    const suppressed = sample(reason);
    if (suppressed === undefined) return;
    const sampling = suppressed > 0 && { suppressedSinceLastLine: suppressed };
    if (unavailable) {
      const message = error instanceof Error ? error.message : String(error);
      const causeCode = codeOf(error instanceof Error ? error.cause : undefined);
      logger.warn({ ...request, reason, message, causeCode, ...sampling }, 'ingest unavailable');
    } else {
      logger.error({ ...request, reason, err: error, ...sampling }, 'ingest failed');
    }
  };
}

/** The first code down a cause chain (a spool or Kafka client error's, a Node errno's). */
function codeOf(cause: unknown): string | undefined {
  for (let depth = 0; depth < 5 && typeof cause === 'object' && cause !== null; depth++) {
    const { code } = cause as { code?: unknown };
    if (typeof code === 'string' || typeof code === 'number') return String(code);
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}
