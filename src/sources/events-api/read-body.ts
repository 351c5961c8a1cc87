// Reads a request body under the Events API's size limit. The limit applies to the decoded
// size: a gzip body is inflated with a hard output cap, so a zip bomb costs at most `limit`
// bytes of memory and gets 413, never an out-of-memory crash.
import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { ForwarderError } from '../../errors.ts';

const gunzipAsync = promisify(gunzip);

/** Throws UNSUPPORTED_MEDIA_TYPE unless the request says it carries JSON. */
export function checkContentType(request: IncomingMessage): void {
  const contentType = request.headers['content-type'];
  const mediaType = contentType?.split(';', 1)[0].trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new ForwarderError('UNSUPPORTED_MEDIA_TYPE', { contentType: contentType ? `"${contentType}"` : 'missing' });
  }
}

export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    throw new ForwarderError('UNSUPPORTED_ENCODING', { encoding: JSON.stringify(encoding) });
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    throw new ForwarderError('BODY_TOO_LARGE', { limit, detail: '' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    // A compressed body larger than the decoded limit cannot decode to less than it in practice.
    if (size > limit) throw new ForwarderError('BODY_TOO_LARGE', { limit, detail: '' });
    chunks.push(chunk);
  }
  const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
  if (encoding === 'identity') return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ForwarderError('BODY_TOO_LARGE', { limit, detail: ' once decompressed' }, { cause: error });
    }
    throw new ForwarderError('BAD_REQUEST', { message: 'The body is not valid gzip data.' }, { cause: error });
  }
}
