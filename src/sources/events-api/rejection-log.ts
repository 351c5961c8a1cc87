// Rejected requests (4xx) at info: what an operator needs to find a misbehaving client (request
// id, input, status, reason), never the body or the credentials. A client stuck in a loop of bad
// requests must not flood the log, so each reason code logs at most `perWindow` lines per window;
// the next line logged for it says how many were left out meanwhile (the metric counts them all).
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

export function createRejectionLog(
  logger: Logger,
  options: { perWindow?: number; windowMs?: number; now?: () => number } = {},
): (rejection: Rejection) => void {
  const perWindow = options.perWindow ?? 10;
  const windowMs = options.windowMs ?? 10_000;
  const now = options.now ?? Date.now;
  const byReason = new Map<string, { windowStart: number; logged: number; suppressed: number }>();
  return (rejection) => {
    if (!logger.isLevelEnabled('info')) return;
    const at = now();
    let entry = byReason.get(rejection.reason);
    if (entry === undefined || at - entry.windowStart >= windowMs) {
      entry = { windowStart: at, logged: 0, suppressed: entry?.suppressed ?? 0 };
      byReason.set(rejection.reason, entry);
    }
    if (entry.logged >= perWindow) {
      entry.suppressed++;
      return;
    }
    entry.logged++;
    const suppressed = entry.suppressed;
    entry.suppressed = 0;
    logger.info({ ...rejection, ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }) }, 'request rejected');
  };
}
