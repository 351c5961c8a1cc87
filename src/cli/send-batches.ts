// Sends batches to a running forwarder through the official mParticle Node SDK, pointed at our
// server as its NOTES describe: a client of our own with basePath set, passed to EventsApi.
import { mParticle, type SampleBatch, type SdkError } from './sample-batches.ts';

export interface SendTarget {
  /** The server's base URL, e.g. http://127.0.0.1:8080 (the SDK's /v2 is appended). */
  url: string;
  apiKey: string;
  apiSecret: string;
}

export interface SendOutcome {
  status: number | undefined;
  ms: number;
  /** The server's error answer, or the transport error, when not accepted. */
  error?: string;
}

function eventsApi(target: SendTarget) {
  const client = new mParticle.ApiClient();
  client.basePath = `${target.url.replace(/\/+$/, '')}/v2`;
  client.timeout = 30_000;
  return new mParticle.EventsApi(new mParticle.Configuration(target.apiKey, target.apiSecret), client);
}

function outcome(started: number, error: SdkError | null, response: { status: number } | undefined): SendOutcome {
  const ms = Date.now() - started;
  if (error === null) return { status: response?.status, ms };
  const status = error.status ?? error.response?.status;
  const text = error.response?.text;
  return { status, ms, error: text !== undefined && text !== '' ? text : error.message };
}

/** POST /v2/events with one batch. */
export function sendBatch(target: SendTarget, sample: SampleBatch): Promise<SendOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    eventsApi(target).uploadEvents(sample.batch, (error, _data, response) =>
      resolve(outcome(started, error, response)),
    );
  });
}

/** POST /v2/bulkevents with up to 100 batches. */
export function sendBulk(target: SendTarget, samples: readonly SampleBatch[]): Promise<SendOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    eventsApi(target).bulkUploadEvents(
      samples.map((sample) => sample.batch),
      (error, _data, response) => resolve(outcome(started, error, response)),
    );
  });
}
