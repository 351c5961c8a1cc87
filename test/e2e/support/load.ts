// A load generator for the Events API that remembers exactly what was accepted. Each user (MPID)
// belongs to one worker, which sends that user's batches one at a time, so a user's accepted
// events have increasing sequence numbers in the order the forwarder stored them. Every event
// carries `custom_attributes: { run, seq }`; `seq` counts per user from 1.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { basicAuth } from '../../support/auth.ts';

export interface LoadOptions {
  /** The forwarder to send to; or several (`ports`), taken in turn request by request. */
  readonly port: number;
  readonly ports?: readonly number[];
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Marks this run's events; the checker ignores events of other runs. */
  readonly runId: string;
  /** MPIDs 1001, 1002, … */
  readonly users: number;
  /** Parallel workers; users are shared out among them. */
  readonly concurrency: number;
  readonly eventsPerBatch: number;
  /** Stop after this many events have been offered (accepted or not). */
  readonly maxEvents?: number;
  /** Padding per event (bytes of an attribute), to reach a record size. */
  readonly paddingBytes?: number;
  /** Pause between a worker's requests (ms); 0 for as fast as possible. */
  readonly pauseMs?: number;
  /** Cap on events offered per second, over all workers. */
  readonly eventsPerSecond?: number;
}

export interface Outcome {
  readonly status: number | 'error';
  readonly events: number;
}

export interface LoadResult {
  /** Accepted (202) sequence numbers per MPID, in order. */
  readonly accepted: Map<string, number[]>;
  /** Sequence numbers sent but not answered 202 (they may or may not have been stored). */
  readonly unconfirmed: Map<string, number[]>;
  readonly acceptedEvents: number;
  readonly statusCounts: Record<string, number>;
  readonly requests: number;
}

export function mpidOf(index: number): string {
  return String(1001 + index);
}

export function buildBatch(options: {
  mpid: string;
  runId: string;
  seqs: number[];
  paddingBytes?: number;
}): Record<string, unknown> {
  const now = Date.now();
  const padding =
    options.paddingBytes !== undefined && options.paddingBytes > 0 ? 'x'.repeat(options.paddingBytes) : undefined;
  return {
    environment: 'development',
    source_request_id: randomUUID(),
    mpid: Number(options.mpid),
    user_identities: { customer_id: `c${options.mpid}` },
    events: options.seqs.map((seq) => ({
      event_type: 'custom_event',
      data: {
        event_name: 'e2e',
        custom_event_type: 'other',
        timestamp_unixtime_ms: now,
        custom_attributes: { run: options.runId, seq: String(seq), ...(padding !== undefined && { pad: padding }) },
      },
    })),
  };
}

/** Posts one body to /v2/events (or `path`); resolves with the status (never rejects). */
export function postBatch(
  port: number,
  auth: string,
  body: string,
  agent?: Agent,
  path = '/v2/events',
): Promise<number | 'error'> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        agent,
        headers: { authorization: auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', () => resolve('error'));
      },
    );
    req.once('error', () => resolve('error'));
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

export { basicAuth };

/** Sends load until stop() is called or maxEvents have been offered. */
export class LoadGenerator {
  readonly #options: LoadOptions;
  readonly #accepted = new Map<string, number[]>();
  readonly #unconfirmed = new Map<string, number[]>();
  readonly #nextSeq = new Map<string, number>();
  readonly #statusCounts: Record<string, number> = {};
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  #offered = 0;
  #acceptedEvents = 0;
  #requests = 0;
  #stopping = false;
  #done: Promise<void> | undefined;
  #ports: readonly number[];
  #turn = 0;
  #nextSendAt = 0;

  constructor(options: LoadOptions) {
    this.#options = options;
    this.#ports = options.ports ?? [options.port];
  }

  get acceptedEvents(): number {
    return this.#acceptedEvents;
  }

  /** Answers so far, by status. */
  get statusCounts(): Readonly<Record<string, number>> {
    return { ...this.#statusCounts };
  }

  get requests(): number {
    return this.#requests;
  }

  /** Points the workers at a restarted forwarder. */
  setPort(port: number): void {
    this.#ports = [port];
  }

  /** Points the workers at these forwarders, taken in turn (scaling tests). */
  setPorts(ports: readonly number[]): void {
    this.#ports = [...ports];
  }

  /** The next forwarder to send to: round robin over the ports, as a load balancer would. */
  #nextPort(): number {
    this.#turn = (this.#turn + 1) % this.#ports.length;
    return this.#ports[this.#turn];
  }

  start(): this {
    const { users, concurrency } = this.#options;
    const workers: Promise<void>[] = [];
    for (let worker = 0; worker < concurrency; worker++) {
      const mine: string[] = [];
      for (let index = worker; index < users; index += concurrency) mine.push(mpidOf(index));
      if (mine.length > 0) workers.push(this.#work(mine));
    }
    this.#done = Promise.all(workers).then(() => {});
    return this;
  }

  /** Resolves once maxEvents have been offered (or stop() was called). */
  async finished(): Promise<LoadResult> {
    await this.#done;
    return this.result();
  }

  async stop(): Promise<LoadResult> {
    this.#stopping = true;
    await this.#done;
    this.#agent.destroy();
    return this.result();
  }

  result(): LoadResult {
    return {
      accepted: this.#accepted,
      unconfirmed: this.#unconfirmed,
      acceptedEvents: this.#acceptedEvents,
      statusCounts: { ...this.#statusCounts },
      requests: this.#requests,
    };
  }

  /** Holds a worker back so that all workers together stay under eventsPerSecond. */
  async #pace(events: number): Promise<void> {
    const rate = this.#options.eventsPerSecond;
    if (rate === undefined) return;
    const now = performance.now();
    this.#nextSendAt = Math.max(this.#nextSendAt, now) + (events * 1000) / rate;
    const wait = this.#nextSendAt - now - (events * 1000) / rate;
    if (wait > 0) await sleep(wait);
  }

  async #work(mpids: string[]): Promise<void> {
    const { eventsPerBatch, runId, paddingBytes, maxEvents, pauseMs } = this.#options;
    const auth = basicAuth(this.#options.apiKey, this.#options.apiSecret);
    for (let turn = 0; ; turn++) {
      if (this.#stopping) return;
      if (maxEvents !== undefined && this.#offered >= maxEvents) return;
      const mpid = mpids[turn % mpids.length];
      const first = this.#nextSeq.get(mpid) ?? 1;
      const seqs = Array.from({ length: eventsPerBatch }, (_, index) => first + index);
      this.#nextSeq.set(mpid, first + eventsPerBatch);
      this.#offered += eventsPerBatch;
      await this.#pace(eventsPerBatch);
      const body = JSON.stringify(buildBatch({ mpid, runId, seqs, paddingBytes }));
      const status = await postBatch(this.#nextPort(), auth, body, this.#agent);
      this.#requests++;
      this.#statusCounts[String(status)] = (this.#statusCounts[String(status)] ?? 0) + 1;
      const target = status === 202 ? this.#accepted : this.#unconfirmed;
      const list = target.get(mpid) ?? [];
      list.push(...seqs);
      target.set(mpid, list);
      if (status === 202) this.#acceptedEvents += seqs.length;
      else if (status === 'error' || status >= 500 || status === 429) await sleep(50);
      if (pauseMs !== undefined && pauseMs > 0) await sleep(pauseMs);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
