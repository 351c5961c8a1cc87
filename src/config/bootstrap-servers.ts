// mParticle's "Apache Kafka Bootstrap Servers" is one comma-separated string of host:port pairs.
// We take that, or a YAML list, and check each entry so that a typo is caught at start-up with
// the entry named, not later as a connection failure to a broker that does not exist.

import { isIPv6 } from 'node:net';

export interface BootstrapEntryProblem {
  /** Position of the entry in the list (0-based), or undefined for the list as a whole. */
  readonly index: number | undefined;
  readonly problem: string;
  readonly fix: string;
}

export interface ParsedBootstrapServers {
  /** Each entry as `host:port` (IPv6 hosts in brackets). */
  readonly servers: string[];
  readonly problems: BootstrapEntryProblem[];
}

const hostName = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

function checkEntry(entry: string): { problem: string; fix: string } | undefined {
  const example = 'write host:port, e.g. broker-1.example.com:9093';
  if (entry === '') return { problem: 'is empty', fix: 'remove the extra comma or give the entry a host:port' };
  const scheme = /^([A-Za-z_]+):\/\//.exec(entry);
  if (scheme !== null) {
    return {
      problem: `"${entry}" starts with ${scheme[1]}://`,
      fix: 'write host:port only; the connection always uses TLS, with SASL when a username is set',
    };
  }
  let host: string;
  let port: string;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close === -1 || entry[close + 1] !== ':')
      return { problem: `"${entry}" is not [ipv6-address]:port`, fix: example };
    host = entry.slice(1, close);
    port = entry.slice(close + 2);
    if (!isIPv6(host)) return { problem: `"${host}" in "${entry}" is not an IPv6 address`, fix: example };
  } else {
    const colon = entry.lastIndexOf(':');
    if (colon === -1) return { problem: `"${entry}" has no port`, fix: `add the port, e.g. ${entry}:9093` };
    host = entry.slice(0, colon);
    port = entry.slice(colon + 1);
    if (host === '') return { problem: `"${entry}" has no host`, fix: example };
    if (host.includes(':'))
      return { problem: `"${entry}" looks like an IPv6 address without brackets`, fix: 'write [address]:port' };
    if (!hostName.test(host)) return { problem: `"${host}" in "${entry}" is not a valid host name`, fix: example };
  }
  if (!/^\d+$/.test(port)) return { problem: `"${entry}" has no valid port after the colon`, fix: example };
  const number = Number(port);
  if (number < 1 || number > 65535) {
    return {
      problem: `the port of "${entry}" is ${number}, outside 1–65535`,
      fix: 'use the port the broker listens on',
    };
  }
  return undefined;
}

/** Splits and checks a bootstrap servers setting (comma-separated string or list of strings). */
export function parseBootstrapServers(value: string | readonly string[]): ParsedBootstrapServers {
  const entries = (typeof value === 'string' ? value.split(',') : value).map((entry) => entry.trim());
  const problems: BootstrapEntryProblem[] = [];
  if (entries.length === 0 || (entries.length === 1 && entries[0] === '')) {
    return {
      servers: [],
      problems: [{ index: undefined, problem: 'lists no brokers', fix: 'give at least one host:port' }],
    };
  }
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const problem = checkEntry(entry);
    if (problem !== undefined) problems.push({ index, ...problem });
    else if (seen.has(entry.toLowerCase())) {
      problems.push({ index, problem: `"${entry}" is listed twice`, fix: 'remove the duplicate' });
    }
    seen.add(entry.toLowerCase());
  });
  return { servers: entries, problems };
}
