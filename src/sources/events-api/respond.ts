// Answers in mParticle's shapes: 202 with an empty body, and errors as
// {"errors":[{"code":"BAD_REQUEST","message":"…"}]}. The wire `code` follows the HTTP status as
// mParticle's does; `reason` carries our registry code for the precise cause.
import type { ServerResponse } from 'node:http';
import { ForwarderError } from '../../errors.ts';
import { sendJson } from '../../telemetry/index.ts';

export { sendJson };

const WIRE_CODES: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

export function sendAccepted(response: ServerResponse): void {
  response.writeHead(202, { 'content-length': '0' });
  response.end();
}

/** Sends a ForwarderError, or a 500 without details for anything unexpected. */
export function sendError(response: ServerResponse, error: unknown, headers: Record<string, string> = {}): number {
  const known = error instanceof ForwarderError && error.status < 500 ? error : undefined;
  const unavailable = error instanceof ForwarderError && error.status === 503 ? error : undefined;
  const status = known?.status ?? unavailable?.status ?? 500;
  const message = known?.message ?? unavailable?.message ?? 'Internal server error.';
  const reason = known?.code ?? unavailable?.code ?? 'INTERNAL';
  sendJson(
    response,
    status,
    { errors: [{ code: WIRE_CODES[status] ?? 'INTERNAL_SERVER_ERROR', message, reason }] },
    headers,
  );
  return status;
}
