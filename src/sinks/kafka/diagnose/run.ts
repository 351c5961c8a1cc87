// A staged diagnosis of one Kafka output: each stage tests one layer (DNS, TCP, TLS, SASL,
// metadata, topic) and says what it found, so that the first failing stage names the layer at
// fault and the fix. Stages run in order and stop at the first failure, because every later layer
// depends on the earlier ones.
//
// Nothing here prints a secret: passwords and private keys are only handed to the TLS stack and
// the Kafka client.
import { DiagnosisContext } from './context.ts';
import { dnsStage } from './dns.ts';
import { metadataStage } from './metadata.ts';
import { saslStage } from './sasl.ts';
import { tcpStage } from './tcp.ts';
import { tlsStage } from './tls.ts';
import { topicStage } from './topic.ts';
import type { DiagnoseOptions, Diagnosis, StageResult } from './types.ts';

const STAGE_ORDER: readonly ((context: DiagnosisContext) => Promise<StageResult>)[] = [
  dnsStage,
  tcpStage,
  tlsStage,
  saslStage,
  metadataStage,
  topicStage,
];

/** Runs the stages in order, stopping at the first failure. */
export async function diagnoseKafkaOutput(options: DiagnoseOptions): Promise<Diagnosis> {
  const stages: StageResult[] = [];
  const context = new DiagnosisContext(options);
  try {
    for (const stage of STAGE_ORDER) {
      const result = await stage(context);
      stages.push(result);
      options.onStage?.(result);
      if (result.status === 'fail') return { ok: false, stages, failed: result.stage };
    }
    return { ok: true, stages };
  } finally {
    await context.close();
  }
}
