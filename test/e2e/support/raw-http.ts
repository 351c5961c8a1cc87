// Hand-driven HTTP/1.1 over a raw socket: lets a test start a request, hold it half-sent across
// an event (a SIGTERM), then finish it and read the answer.
import net from 'node:net';

export interface RawRequest {
  /** Sends more bytes of the request. */
  write(text: string): void;
  /** Resolves with the status code of the answer (0 if the connection ended without one) and the raw text. */
  readonly answer: Promise<{ status: number; text: string }>;
  destroy(): void;
}

export async function openRawRequest(port: number, firstBytes: string): Promise<RawRequest> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  const answer = new Promise<{ status: number; text: string }>((resolve) => {
    const finish = (): void => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    socket.once('close', finish);
    socket.on('error', () => {});
    // An answer is complete once its body (content-length) is in; the server may keep the socket open.
    socket.on('data', () => {
      const head = text.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, head))?.[1] ?? 0);
      if (Buffer.byteLength(text.slice(head + 4)) >= length) finish();
    });
  });
  socket.write(firstBytes);
  return {
    write: (more) => {
      socket.write(more);
    },
    answer,
    destroy: () => socket.destroy(),
  };
}

/** Does a new TCP connection to the port succeed? */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
