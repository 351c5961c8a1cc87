// Stage 2: the resolved bootstrap servers accept TCP connections; the unreachable ones are left out
// of the later stages (a warning), and none reachable is a failure.
import type { DiagnosisContext } from './context.ts';
import { tcpConnect, tcpErrorText, tcpFix } from './network.ts';
import type { StageResult } from './types.ts';

export async function tcpStage(context: DiagnosisContext): Promise<StageResult> {
  const results = await Promise.all(context.usable.map((server) => tcpConnect(server, context.timeoutMs)));
  const details = context.usable.map((server, i) => {
    const result = results[i];
    return result.error === undefined
      ? `${server.text}: connected to ${result.remote} in ${result.ms} ms`
      : `${server.text}: ${tcpErrorText(result.error, context.timeoutMs)}`;
  });
  const reachable = context.usable.filter((_, i) => results[i].error === undefined);
  const unreachable = context.usable.filter((_, i) => results[i].error !== undefined);
  const firstError = results.find((result) => result.error !== undefined)?.error;
  context.usable = reachable;
  if (reachable.length === 0) {
    return {
      stage: 'tcp',
      status: 'fail',
      summary: `no bootstrap server accepts TCP connections`,
      details,
      fix: tcpFix(firstError, unreachable[0]),
    };
  }
  if (unreachable.length > 0) {
    return {
      stage: 'tcp',
      status: 'warn',
      summary: `${reachable.length} of ${context.usable.length + unreachable.length} bootstrap servers reachable; going on with those`,
      details,
      fix: tcpFix(firstError, unreachable[0]),
    };
  }
  return { stage: 'tcp', status: 'pass', summary: `${reachable.length} bootstrap server(s) reachable`, details };
}
