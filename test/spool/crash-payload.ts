// The payload the crash child stores for record number n, so the parent can check it byte for byte.
import { createHash } from 'node:crypto';

export function expectedPayload(n: number): Buffer {
  const digest = createHash('sha256').update(String(n)).digest('hex');
  return Buffer.from(JSON.stringify({ n, digest, pad: 'x'.repeat((n * 37) % 3000) }));
}
