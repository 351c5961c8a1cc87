// DNS lookups and TCP connects as the Kafka client makes them, with the words for their failures;
// shared by the DNS and TCP stages and by the metadata stage's check of advertised addresses.
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { HostPort } from './types.ts';

interface Resolved {
  literal: boolean;
  addresses: string[];
  error?: NodeJS.ErrnoException;
}

/** Resolves as the Kafka client will (getaddrinfo), giving up after timeoutMs. */
export async function resolveHost(host: string, timeoutMs: number): Promise<Resolved> {
  if (net.isIP(host) !== 0) return { literal: true, addresses: [host] };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error: NodeJS.ErrnoException = new Error(`DNS lookup of ${host} timed out`);
      error.code = 'EAI_AGAIN';
      reject(error);
    }, timeoutMs);
  });
  try {
    const found = await Promise.race([lookup(host, { all: true }), timedOut]);
    return { literal: false, addresses: found.map((entry) => entry.address) };
  } catch (error) {
    return { literal: false, addresses: [], error: error as NodeJS.ErrnoException };
  } finally {
    clearTimeout(timer);
  }
}

export function dnsErrorText(host: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOTFOUND':
      return `${host} does not resolve (no such host)`;
    case 'EAI_AGAIN':
      return `the DNS server did not answer for ${host} (temporary failure; check /etc/resolv.conf and the network)`;
    case 'ENODATA':
      return `${host} has no address records`;
    default:
      return `${host} could not be resolved (${error.code ?? error.message})`;
  }
}

interface Connected {
  remote?: string;
  ms?: number;
  error?: NodeJS.ErrnoException;
}

export function tcpConnect(server: HostPort, timeoutMs: number): Promise<Connected> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect({ host: server.host, port: server.port });
    socket.setTimeout(timeoutMs, () => {
      const error: NodeJS.ErrnoException = new Error('connect timed out');
      error.code = 'ETIMEDOUT';
      socket.destroy();
      resolve({ error });
    });
    socket.once('connect', () => {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      socket.destroy();
      resolve({ remote, ms: Date.now() - started });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ error });
    });
  });
}

export function tcpErrorText(error: NodeJS.ErrnoException, timeoutMs: number): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused: nothing listens on that port';
    case 'ETIMEDOUT':
      return `no answer within ${timeoutMs} ms: packets are dropped on the way`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to that address from here';
    case 'ECONNRESET':
      return 'the connection was reset while opening';
    default:
      return `cannot connect (${error.code ?? error.message})`;
  }
}

export function tcpFix(error: NodeJS.ErrnoException | undefined, server: HostPort | undefined): string {
  const port = server?.port ?? 'the';
  switch (error?.code) {
    case 'ECONNREFUSED':
      return `check the port in bootstrap_servers (the broker's SSL or SASL_SSL listener, often 9093, 9094 or 9096) and that the broker runs`;
    case 'ETIMEDOUT':
      return `a firewall or security group probably drops traffic: allow outbound TCP to port ${port}, and check the broker allows this machine's address`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'check routing, VPN or VPC peering between this machine and the brokers';
    default:
      return 'check that the brokers run and that bootstrap_servers is reachable from this machine';
  }
}
