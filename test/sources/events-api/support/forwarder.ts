// Starts a real forwarder (src/main.ts) for the Events API tests: a config built by the project's own
// loader, a spool in a fresh temp dir, and a connection to a Kafka output that nothing listens on, so
// that every accepted batch stays in the spool where the test can read it back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../../../../src/config/index.ts';
import type { ForwarderConfig } from '../../../../src/config/index.ts';
import { startForwarder } from '../../../../src/main.ts';
import type { Forwarder } from '../../../../src/main.ts';
import type { Spool, SpoolRecord } from '../../../../src/spool/index.ts';
import { silentLogger } from '../../../../src/telemetry/logger.ts';
import type { Logger } from '../../../../src/telemetry/index.ts';
import { basicAuth as basicAuthOf } from '../../../support/auth.ts';

export const API_KEY = 'test-key';
export const API_SECRET = 'test-secret';
/** A second input, to show that dedup is scoped to the input. */
/** A second key/secret pair of the same input, as during a key rotation. */
export const ROTATED_KEY = 'test-key-2';
export const ROTATED_SECRET = 'test-secret-2';
export const OTHER_KEY = 'other-key';
export const OTHER_SECRET = 'other-secret';
export const CONNECTION = 'web-to-events';
export const OTHER_CONNECTION = 'mobile-to-events';

export interface ConfigOverrides {
  readonly spoolDir: string;
  readonly port?: number;
  readonly spool?: Record<string, unknown>;
  readonly server?: Record<string, unknown>;
}

/** The snake_case document a kafka-forwarder.yaml would hold; 127.0.0.1:1 refuses every connection. */
export function rawTestConfig(overrides: ConfigOverrides): Record<string, unknown> {
  return {
    log_level: 'silent',
    server: { host: '127.0.0.1', port: overrides.port ?? 0, shutdown_timeout_ms: 2000, ...overrides.server },
    admin: { host: '127.0.0.1', port: 0 },
    spool: { path: overrides.spoolDir, ...overrides.spool },
    inputs: [
      {
        name: 'web',
        credentials: [
          { api_key: API_KEY, api_secret: API_SECRET },
          { api_key: ROTATED_KEY, api_secret: ROTATED_SECRET },
        ],
      },
      { name: 'mobile', credentials: [{ api_key: OTHER_KEY, api_secret: OTHER_SECRET }] },
    ],
    outputs: [{ name: 'unreachable', bootstrap_servers: '127.0.0.1:1', topic: 'events' }],
    connections: [
      { name: CONNECTION, input: 'web', output: 'unreachable' },
      { name: OTHER_CONNECTION, input: 'mobile', output: 'unreachable' },
    ],
  };
}

export function testConfig(overrides: ConfigOverrides): Promise<ForwarderConfig> {
  return buildConfig(rawTestConfig(overrides), { source: 'test' });
}

export function tempSpoolDir(): string {
  return mkdtempSync(join(tmpdir(), 'kf-events-api-'));
}

export interface TestForwarder {
  readonly forwarder: Forwarder;
  readonly url: string;
  /** The admin listener: /metrics, /healthz, /readyz. */
  readonly adminUrl: string;
  readonly spoolDir: string;
  /** Every record held for the connection, in seq order. */
  records(connection?: string): Promise<SpoolRecord[]>;
  close(): Promise<void>;
}

/** The forwarder's local spool (these tests run spool.kind: local). */
export function localSpool(forwarder: Forwarder): Spool {
  if (forwarder.spool === undefined) throw new Error('the forwarder runs no local spool (spool.kind is kafka)');
  return forwarder.spool;
}

export async function readAll(spool: Spool, connection = CONNECTION): Promise<SpoolRecord[]> {
  const all: SpoolRecord[] = [];
  let after: bigint | null = null;
  for (;;) {
    const page = await spool.read(connection, after, 1000);
    if (page.length === 0) return all;
    all.push(...page);
    after = page[page.length - 1].seq;
  }
}

export async function startTestForwarder(
  options: { spool?: Record<string, unknown>; server?: Record<string, unknown>; logger?: Logger } = {},
): Promise<TestForwarder> {
  const spoolDir = tempSpoolDir();
  const config = await testConfig({ spoolDir, spool: options.spool, server: options.server });
  const forwarder = await startForwarder(config, { logger: options.logger ?? silentLogger() });
  return {
    forwarder,
    url: `http://127.0.0.1:${forwarder.address.port}`,
    adminUrl: `http://127.0.0.1:${forwarder.adminAddress.port}`,
    spoolDir,
    records: (connection) => readAll(localSpool(forwarder), connection),
    async close() {
      await forwarder.close();
      rmSync(spoolDir, { recursive: true, force: true });
    },
  };
}

/** Basic auth with the test input's credentials unless others are given. */
export function basicAuth(key = API_KEY, secret = API_SECRET): string {
  return basicAuthOf(key, secret);
}

export interface PostOptions {
  readonly headers?: Record<string, string>;
  /** Omit the Authorization header entirely. */
  readonly noAuth?: boolean;
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed error body, when there is one. */
  readonly error?: { code: string; message: string; reason: string };
}

/** POSTs a body (a string, bytes or a value to JSON-encode) as application/json with our credentials. */
export async function post(url: string, path: string, body: unknown, options: PostOptions = {}): Promise<Answer> {
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (!options.noAuth && !('authorization' in headers)) headers.authorization = basicAuth();
  const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: payload });
  return answerOf(response);
}

export async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  let error: Answer['error'];
  if (text !== '' && (response.headers.get('content-type') ?? '').startsWith('application/json')) {
    const parsed = JSON.parse(text) as { errors?: Answer['error'][] };
    if (Array.isArray(parsed.errors)) {
      assertOneError(parsed.errors.length);
      error = parsed.errors[0];
    }
  }
  return { status: response.status, headers: response.headers, text, error };
}

function assertOneError(count: number): void {
  if (count !== 1) throw new Error(`expected exactly one error in the body, got ${count}`);
}

/** A small valid batch; `marker` goes into source_request_id unless overridden. */
export function smallBatch(marker: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    environment: 'production',
    source_request_id: marker,
    mpid: 1234567890,
    events: [{ event_type: 'custom_event', data: { event_name: 'Played', custom_event_type: 'media' } }],
    ...extra,
  };
}
