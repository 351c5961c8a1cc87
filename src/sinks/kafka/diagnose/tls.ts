// Stage 3: a TLS handshake with each reachable server, with the trust settings the Kafka client
// uses, and an ApiVersions request answered over it (see tls-probe.ts).
import { describeClientCertificate, describePeer, describeTrust, formatName } from './certificates.ts';
import type { DiagnosisContext } from './context.ts';
import { probeTls } from './tls-probe.ts';
import type { Finding, StageResult } from './types.ts';

export async function tlsStage(context: DiagnosisContext): Promise<StageResult> {
  const trust = describeTrust(context.options.security.caPem);
  const client = describeClientCertificate(context.options.security.clientCertPem);
  const probes = await Promise.all(
    context.usable.map((server) => probeTls(server, context.options.security, context.timeoutMs)),
  );
  const details: string[] = [`trusting ${trust}`];
  if (client !== undefined) details.push(`presenting client certificate ${client}`);
  let failure: Finding | undefined;
  context.usable.forEach((server, i) => {
    const probe = probes[i];
    if (probe.failure === undefined) {
      details.push(`${server.text}: ${probe.protocol}, ${describePeer(probe.chain)}; Kafka answered ApiVersions`);
    } else {
      if (probe.chain.length > 0) details.push(`${server.text}: presented ${describePeer(probe.chain)}`);
      details.push(`${server.text}: ${probe.failure.summary}`);
      failure ??= probe.failure;
    }
  });
  if (failure !== undefined)
    return { stage: 'tls', status: 'fail', summary: failure.summary, details, fix: failure.fix };
  const leaf = probes[0].chain[0];
  return {
    stage: 'tls',
    status: 'pass',
    summary: `${probes[0].protocol}; certificate ${formatName(leaf.subject)} verified (issuer ${formatName(leaf.issuer)}, host name matches)`,
    details,
  };
}
