// What the stages of one diagnosis share: the options, the bootstrap servers still usable after
// each stage, the cluster metadata the SASL stage fetched, and the clients to close at the end.
import { createAdmin, kafkaConnection, type ClusterMetadata } from '../kafka-client.ts';
import type { DiagnoseOptions, HostPort } from './types.ts';

const DEFAULT_TIMEOUT_MS = 10_000;

export function parseHostPort(entry: string): HostPort {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(entry);
  if (bracketed !== null) return { host: bracketed[1], port: Number(bracketed[2]), text: entry };
  const colon = entry.lastIndexOf(':');
  return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)), text: entry };
}

export class DiagnosisContext {
  readonly options: DiagnoseOptions;
  readonly timeoutMs: number;
  readonly servers: readonly HostPort[];
  /** Bootstrap servers that passed DNS, then TCP: later stages use only these. */
  usable: readonly HostPort[];
  /** Set by the SASL stage (its first request), read by the metadata stage. */
  clusterMetadata: ClusterMetadata | undefined;
  readonly #closers: (() => Promise<unknown>)[] = [];

  constructor(options: DiagnoseOptions) {
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.servers = options.security.bootstrapServers.map(parseHostPort);
    this.usable = this.servers;
  }

  get clientId(): string {
    return this.options.clientId ?? 'kafka-forwarder-test-connection';
  }

  /** The usable servers, as bootstrap_servers. */
  get bootstrap(): string[] {
    return this.usable.map((server) => server.text);
  }

  /** An admin client on the usable servers, without retries (each stage reports the first answer), closed at the end. */
  admin(): ReturnType<typeof createAdmin> {
    const admin = createAdmin(kafkaConnection({ ...this.options.security, bootstrapServers: this.bootstrap }), {
      clientId: this.clientId,
      retries: false,
      connectTimeoutMs: this.timeoutMs,
      requestTimeoutMs: this.timeoutMs,
    });
    this.closeAtEnd(() => admin.close());
    return admin;
  }

  closeAtEnd(close: () => Promise<unknown>): void {
    this.#closers.push(close);
  }

  async close(): Promise<void> {
    await Promise.all(this.#closers.map((close) => close().catch(() => {})));
  }
}
