// POST /v2/events and /v2/bulkevents: authenticate, read, parse, validate, store, answer.
// The order matters: credentials are checked before the body is read (a request without
// credentials is never stored), every batch of a request is validated before anything is
// stored (a bulk request is accepted whole or rejected whole), and 202 goes out only after the
// spool has fsync'd the batches.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ForwarderError, isForwarderError } from '../../errors.ts';
import { batchMpid, int64ToString, parseJson, stringifyJsonToBuffer } from '../../format/index.ts';
import type { JsonValue } from '../../format/index.ts';
import type { AppendItem, Spool } from '../../spool/index.ts';
import { dedupKeyOf } from '../../spool/index.ts';
import type { Logger } from '../../telemetry/index.ts';
import type { Metrics } from '../../telemetry/index.ts';
import type { Authenticator } from './auth.ts';
import { checkContentType, readBody } from './read-body.ts';
import { createFailureLog, createRejectionLog } from './rejection-log.ts';
import { sendAccepted, sendError } from './respond.ts';
import { validateBatch } from './validate-batch.ts';

export interface IngestLimits {
  readonly maxRequestBytes: number;
  readonly maxBatchBytes: number;
  readonly maxBatchesPerBulk: number;
  /** Request body bytes held at once across all requests; beyond it, 429. */
  readonly maxInFlightBytes: number;
}

export interface IngestOptions {
  readonly authenticator: Authenticator;
  readonly spool: Pick<Spool, 'append'>;
  /** The connections an input feeds: each stored batch is bound to all of them. */
  readonly destinationsFor: (input: string) => readonly string[];
  readonly limits: IngestLimits;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Seconds a client should wait after a 429. */
  readonly retryAfterSeconds?: number;
}

export function createIngestHandler(options: IngestOptions) {
  const { authenticator, spool, destinationsFor, limits, metrics } = options;
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  let inFlightBytes = 0;

  /**
   * Reserves room for this request's body: its declared length, or the whole request limit when
   * it declares none or is gzip (which may inflate to the limit). Many concurrent uploads then
   * get 429 instead of growing memory without bound.
   */
  const reserve = (request: IncomingMessage): number => {
    const declared = Number(request.headers['content-length']);
    const gzip = (request.headers['content-encoding'] ?? '').toLowerCase().includes('gzip');
    const bytes =
      Number.isFinite(declared) && declared >= 0 && !gzip
        ? Math.min(declared, limits.maxRequestBytes)
        : limits.maxRequestBytes;
    if (inFlightBytes + bytes > limits.maxInFlightBytes && inFlightBytes > 0) {
      throw new ForwarderError('SERVER_BUSY', { limit: limits.maxInFlightBytes, retryAfter });
    }
    inFlightBytes += bytes;
    return bytes;
  };

  const logRejection = createRejectionLog(options.logger);
  const logFailure = createFailureLog(options.logger);

  const fail = (
    response: ServerResponse,
    request: { route: string; started: number; requestId: string; input: string | undefined },
    error: unknown,
  ): void => {
    const { route, started } = request;
    const headers: Record<string, string> = {};
    // The header must say what the message says: the spool's own figure wins over our default.
    // Every "try again later" answer carries one: 429 (full, busy) and 503 (disk fault, recovering,
    // shutting down), so that clients back off instead of hammering or giving up.
    if (isForwarderError(error) && (error.status === 429 || error.status === 503)) {
      headers['retry-after'] = String(error.params.retryAfter ?? retryAfter);
    }
    // A body we stopped reading cannot be followed by another request on this connection.
    if (isForwarderError(error) && [401, 403, 413].includes(error.status)) headers.connection = 'close';
    if (isForwarderError(error, 'SERVER_BUSY')) {
      headers.connection = 'close';
    }
    const status = sendError(response, error, headers);
    const reason = isForwarderError(error) ? error.code : 'INTERNAL';
    metrics.requestsRejected.inc({ reason, status: String(status) });
    metrics.requestDuration.observe({ route, status: String(status) }, (performance.now() - started) / 1000);
    if (status >= 500) logFailure({ requestId: request.requestId, route, input: request.input, status, error });
    else
      logRejection({
        requestId: request.requestId,
        route,
        input: request.input,
        status,
        reason,
        message: isForwarderError(error) ? error.message : 'internal error',
      });
  };

  return async function ingest(request: IncomingMessage, response: ServerResponse, bulk: boolean): Promise<void> {
    const started = performance.now();
    const route = bulk ? '/v2/bulkevents' : '/v2/events';
    const requestId = requestIdOf(request);
    response.setHeader('x-request-id', requestId);
    let reserved = 0;
    let input: string | undefined;
    try {
      input = authenticator.authenticate(request.headers.authorization);
      checkContentType(request);
      reserved = reserve(request);
      const body = await readBody(request, limits.maxRequestBytes);
      const batches = toBatches(parseBody(body), bulk, limits.maxBatchesPerBulk);
      const { items, eventCounts } = toAppendItems(
        batches,
        bulk ? undefined : body,
        input,
        destinationsFor(input),
        limits.maxBatchBytes,
      );
      const results = items.length === 0 ? [] : await store(spool, items);
      let stored = 0;
      let events = 0;
      for (let i = 0; i < results.length; i++) {
        if (results[i].status === 'stored') {
          stored++;
          events += eventCounts[i];
        }
      }
      sendAccepted(response);
      metrics.batchesAccepted.inc({ input }, stored);
      metrics.eventsAccepted.inc({ input }, events);
      if (stored < results.length) metrics.batchesDeduplicated.inc({ input }, results.length - stored);
      metrics.requestDuration.observe({ route, status: '202' }, (performance.now() - started) / 1000);
    } catch (error) {
      if (!isForwarderError(error) && request.readableAborted && !response.headersSent) {
        // The client went away mid-request: nothing to answer, and not our failure.
        metrics.requestsRejected.inc({ reason: 'CLIENT_ABORTED', status: '499' });
        return;
      }
      fail(response, { route, started, requestId, input }, error);
    } finally {
      inFlightBytes -= reserved;
    }
  };
}

/** A client's or proxy's X-Request-Id when it is a plain token, else one of ours: logs and the answer carry it. */
const CLIENT_REQUEST_ID = /^[\w.:@-]{1,128}$/;
function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
}

function parseBody(body: Buffer): JsonValue {
  if (body.length === 0) throw new ForwarderError('BAD_JSON', { reason: 'the body is empty' });
  return parseJson(body);
}

function toBatches(value: JsonValue, bulk: boolean, maxBatches: number): JsonValue[] {
  if (!bulk) {
    if (Array.isArray(value)) {
      throw new ForwarderError('BAD_REQUEST', {
        message:
          'body: an array is not a batch; /v2/events takes one batch object (send arrays of batches to /v2/bulkevents)',
      });
    }
    return [value];
  }
  if (!Array.isArray(value)) {
    throw new ForwarderError('BAD_REQUEST', {
      message: 'body: /v2/bulkevents takes a JSON array of batches (send a single batch object to /v2/events)',
    });
  }
  if (value.length > maxBatches)
    throw new ForwarderError('TOO_MANY_BATCHES', { limit: maxBatches, count: value.length });
  return value;
}

/**
 * Validates every batch and builds the spool items. `singleBody` is the request body of a
 * /v2/events request: when validation left its batch unchanged, those bytes are stored as they
 * came (they parse to the same batch), which spares a stringify on the hot path.
 */
function toAppendItems(
  batches: JsonValue[],
  singleBody: Buffer | undefined,
  input: string,
  destinations: readonly string[],
  maxBatchBytes: number,
): { items: AppendItem[]; eventCounts: number[] } {
  const items: AppendItem[] = [];
  const eventCounts: number[] = [];
  for (let i = 0; i < batches.length; i++) {
    const bulk = singleBody === undefined;
    const pathPrefix = bulk ? `batches[${i}]` : '';
    const result = validateBatch(batches[i], { pathPrefix });
    if (!result.ok)
      throw new ForwarderError('BAD_REQUEST', { message: result.errors.map((e) => e.message).join('; ') });
    const payload = !bulk && result.batch === batches[i] ? singleBody : stringifyJsonToBuffer(result.batch);
    if (payload.length > maxBatchBytes) {
      throw new ForwarderError('BATCH_TOO_LARGE', {
        path: bulk ? pathPrefix : 'the batch',
        size: payload.length,
        limit: maxBatchBytes,
      });
    }
    const { events, source_request_id: sourceRequestId } = result.batch;
    eventCounts.push(Array.isArray(events) ? events.length : 0);
    const mpid = batchMpid(result.batch);
    const deviceId = result.batch.mp_deviceid;
    items.push({
      payload,
      destinations,
      routingKey:
        mpid !== undefined
          ? int64ToString(mpid)
          : typeof deviceId === 'string' && deviceId !== ''
            ? deviceId
            : undefined,
      dedupKey: dedupKeyOf(input, sourceRequestId),
    });
  }
  return { items, eventCounts };
}

async function store(spool: Pick<Spool, 'append'>, items: AppendItem[]) {
  try {
    return await spool.append(items);
  } catch (error) {
    if (isForwarderError(error)) throw error;
    // Never a 202, and never a 500 that a client would not retry: the disk failed us.
    throw new ForwarderError('SPOOL_UNAVAILABLE', { reason: 'the durable write failed' }, { cause: error });
  }
}
