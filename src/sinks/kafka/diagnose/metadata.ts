// Stage 5: the brokers the cluster reports, each checked at the address it advertises: after the
// first request the client talks to those addresses, not to bootstrap_servers, and a broker that
// advertises an internal name is the classic "connects, then hangs".
import type { DiagnosisContext } from './context.ts';
import { dnsErrorText, resolveHost, tcpConnect, tcpErrorText } from './network.ts';
import { probeTls } from './tls-probe.ts';
import type { Finding, HostPort, StageResult } from './types.ts';

export async function metadataStage(context: DiagnosisContext): Promise<StageResult> {
  const metadata = context.clusterMetadata;
  if (metadata === undefined) throw new Error('metadata stage before the SASL stage');
  const brokers = [...metadata.brokers.entries()].sort(([a], [b]) => a - b);
  if (brokers.length === 0) {
    return {
      stage: 'metadata',
      status: 'fail',
      summary: 'the cluster reported no brokers',
      details: [],
      fix: 'check that the brokers have registered with the controller (broker logs)',
    };
  }
  // After the first request the client talks to the addresses the brokers advertise, not to
  // bootstrap_servers; a broker advertising an internal name is the classic "connects, then hangs".
  const advertised = brokers.map(([, broker]) => ({
    host: broker.host,
    port: broker.port,
    text: broker.host.includes(':') ? `[${broker.host}]:${broker.port}` : `${broker.host}:${broker.port}`,
  }));
  const checks = await Promise.all(advertised.map((server) => checkAdvertised(context, server)));
  const details = brokers.map(([id, broker], i) => {
    const tags = [
      id === metadata.controllerId ? 'controller' : undefined,
      broker.rack !== null && broker.rack !== undefined ? `rack ${broker.rack}` : undefined,
    ].filter((tag) => tag !== undefined);
    const check = checks[i];
    const verdict = check === undefined ? 'reachable, TLS verified' : check.summary;
    return `broker ${id} at ${advertised[i].text}${tags.length > 0 ? ` (${tags.join(', ')})` : ''}: ${verdict}`;
  });
  const failures = checks.filter((check) => check !== undefined);
  const summary = `cluster ${metadata.id}: ${brokers.length} broker(s) [${brokers.map(([id]) => id).join(', ')}], controller ${metadata.controllerId}`;
  if (failures.length === checks.length) {
    return {
      stage: 'metadata',
      status: 'fail',
      summary: `${summary}; no broker is reachable at the address it advertises`,
      details,
      fix: failures[0].fix,
    };
  }
  if (failures.length > 0) {
    return {
      stage: 'metadata',
      status: 'warn',
      summary: `${summary}; ${failures.length} broker(s) unreachable at their advertised address`,
      details,
      fix: failures[0].fix,
    };
  }
  return { stage: 'metadata', status: 'pass', summary, details };
}

/** Whether a broker is reachable, with TLS verified, at the address it advertises. */
async function checkAdvertised(context: DiagnosisContext, server: HostPort): Promise<Finding | undefined> {
  const advertisedFix =
    'the brokers advertise this address (advertised.listeners) and clients must reach it: fix advertised.listeners ' +
    'for the listener you use, or the DNS/network between here and the brokers';
  const resolved = await resolveHost(server.host, context.timeoutMs);
  if (resolved.error !== undefined) return { summary: dnsErrorText(server.host, resolved.error), fix: advertisedFix };
  const connected = await tcpConnect(server, context.timeoutMs);
  if (connected.error !== undefined) {
    return { summary: tcpErrorText(connected.error, context.timeoutMs), fix: advertisedFix };
  }
  const probe = await probeTls(server, context.options.security, context.timeoutMs);
  return probe.failure;
}
