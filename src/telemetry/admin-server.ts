// The admin listener: /metrics, /healthz and /readyz on their own address (admin.host:admin.port,
// 127.0.0.1:9464 by default), apart from the public ingest port. Scrapers and probes then never
// share the ingest port's limits (in-flight bytes, shutdown 503s), and nothing operational is
// reachable from where the Events API is exposed unless an operator opens it on purpose.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { listenOn, sendJson } from './http.ts';

export interface AdminHandlers {
  /** null when ready; else why not (spool full, recovering, shutting down…). */
  notReadyReason(): string | null;
  /**
   * Problems that need a person but do not stop ingest (a paused output: its batches are still
   * accepted and kept). /readyz reports them with 200, status "degraded": taking the instance out
   * of rotation would lose events at clients that do not retry, while the spool keeps them safe.
   */
  degradedReasons(): string[];
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface AdminServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  /** From now on /readyz answers 503 "shutting down", while /metrics still shows the drain. */
  markShuttingDown(): void;
  close(): Promise<void>;
}

export const ADMIN_PATHS = ['/metrics', '/healthz', '/readyz'] as const;

export function createAdminServer(handlers: AdminHandlers): AdminServer {
  let shuttingDown = false;

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?', 1)[0];
    const method = request.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      return sendJson(response, 405, { error: `${method} is not allowed on ${path}; use GET` }, { allow: 'GET, HEAD' });
    }
    if (path === '/healthz') return sendJson(response, 200, { status: 'ok' });
    if (path === '/readyz') {
      const reason = shuttingDown ? 'shutting down' : handlers.notReadyReason();
      if (reason !== null) return sendJson(response, 503, { status: 'not ready', reason });
      const warnings = handlers.degradedReasons();
      return sendJson(response, 200, warnings.length === 0 ? { status: 'ready' } : { status: 'degraded', warnings });
    }
    if (path === '/metrics') {
      const { contentType, body } = await handlers.metrics.render();
      response.writeHead(200, { 'content-type': contentType });
      response.end(body);
      return;
    }
    sendJson(response, 404, {
      error: `no such endpoint: ${path}; the admin listener serves ${ADMIN_PATHS.join(', ')}`,
    });
  };

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      handlers.logger.error({ err: error }, 'admin request failed');
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });

  return {
    server,
    listen(port, host) {
      return listenOn(server, port, host);
    },
    markShuttingDown() {
      shuttingDown = true;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
