// The two small HTTP chores both listeners (the Events API and the admin listener) share.
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A JSON answer with its length, so keep-alive clients need not wait for the end of the stream. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
}

/** Listens, resolving with the bound address (port 0 picks one) or rejecting with EADDRINUSE & co. */
export function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
