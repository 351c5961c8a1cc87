// Stage 1: every bootstrap server's name resolves, as the Kafka client will resolve it.
import type { DiagnosisContext } from './context.ts';
import { dnsErrorText, resolveHost } from './network.ts';
import type { StageResult } from './types.ts';

export async function dnsStage(context: DiagnosisContext): Promise<StageResult> {
  const results = await Promise.all(context.servers.map((server) => resolveHost(server.host, context.timeoutMs)));
  const details = context.servers.map((server, i) => {
    const result = results[i];
    if (result.literal) return `${server.text}: an IP address, no lookup needed`;
    if (result.error !== undefined) return `${server.text}: ${dnsErrorText(server.host, result.error)}`;
    return `${server.text}: ${server.host} → ${result.addresses.join(', ')}`;
  });
  const failed = context.servers.filter((_, i) => results[i].error !== undefined);
  context.usable = context.servers.filter((_, i) => results[i].error === undefined);
  if (failed.length > 0) {
    return {
      stage: 'dns',
      status: 'fail',
      summary: `cannot resolve ${failed.map((server) => server.host).join(', ')}`,
      details,
      fix:
        'check the spelling of bootstrap_servers; if the name is private (VPC, VPN, Kubernetes), run this where that DNS ' +
        'is used, or use an address that resolves here',
    };
  }
  return {
    stage: 'dns',
    status: 'pass',
    summary: `${context.servers.length} bootstrap server(s) resolved`,
    details,
  };
}
