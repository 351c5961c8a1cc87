// The HTTP front door: the Events API itself and /openapi.json. Health, readiness and metrics
// are on the admin listener (telemetry/admin-server.ts), apart from this public port.
// Plain node:http keeps the hot path short and leaves body limits and gzip in our hands.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ForwarderError } from '../../errors.ts';
import type { Logger } from '../../telemetry/index.ts';
import type { Metrics } from '../../telemetry/index.ts';
import { ADMIN_PATHS, listenOn } from '../../telemetry/index.ts';
import { sendError, sendJson } from './respond.ts';

/** What the server needs from the rest of the service. */
export interface ServerHandlers {
  /** Handles POST /v2/events (bulk=false) and /v2/bulkevents (bulk=true); answers the response itself. */
  ingest(request: IncomingMessage, response: ServerResponse, bulk: boolean): Promise<void>;
  openapi(): unknown;
  metrics: Metrics;
  logger: Logger;
}

export interface EventsApiServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stop taking new requests (they get 503) and wait for in-flight ones, up to the deadline. */
  close(deadlineMs: number): Promise<void>;
}

export function createEventsApiServer(
  handlers: ServerHandlers,
  tls?: { certPem: string; keyPem: string },
): EventsApiServer {
  let closing = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    inFlight++;
    response.once('close', () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    route(request, response).catch((error: unknown) => {
      handlers.logger.error({ err: error }, 'request failed');
      if (!response.headersSent) sendError(response, error);
      else response.destroy();
    });
  };

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?', 1)[0];
    const method = request.method ?? 'GET';
    // Operational endpoints live on the admin listener only; say where, for whoever probes here.
    if ((ADMIN_PATHS as readonly string[]).includes(path)) {
      reject(response, new ForwarderError('ADMIN_ENDPOINT', { path }));
      return;
    }
    if (path === '/openapi.json' && method === 'GET') return sendJson(response, 200, handlers.openapi());
    const bulk = path === '/v2/bulkevents';
    if (path === '/v2/events' || bulk) {
      if (method !== 'POST') {
        reject(response, new ForwarderError('METHOD_NOT_ALLOWED', { method, path }), { allow: 'POST' });
        return;
      }
      if (closing) {
        reject(response, new ForwarderError('SHUTTING_DOWN'), { 'retry-after': '1', connection: 'close' });
        return;
      }
      return handlers.ingest(request, response, bulk);
    }
    reject(response, new ForwarderError('NOT_FOUND', { method, path }));
  };

  const reject = (response: ServerResponse, error: ForwarderError, headers: Record<string, string> = {}): void => {
    const status = sendError(response, error, headers);
    handlers.metrics.requestsRejected.inc({ reason: error.code, status: String(status) });
  };

  const server = tls ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handle) : createHttpServer(handle);
  server.keepAliveTimeout = 65_000;

  return {
    server,
    listen(port, host) {
      return listenOn(server, port, host);
    },
    async close(deadlineMs) {
      closing = true;
      server.close();
      server.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, deadlineMs).unref();
        });
      }
      server.closeAllConnections();
    },
  };
}
