// Stage 4: the first Kafka request (cluster metadata), which authenticates: the SASL mechanism and
// credentials, or the client certificate, or neither (SSL alone).
import { classifyKafkaError, type KafkaErrorClassification } from '../error-table.ts';
import { lastConnectionError } from '../kafka-client.ts';
import type { DiagnosisContext } from './context.ts';
import type { StageResult } from './types.ts';

export async function saslStage(context: DiagnosisContext): Promise<StageResult> {
  const { username, mechanism } = context.options.security;
  const admin = context.admin();
  try {
    context.clusterMetadata = await admin.metadata({ topics: [], forceUpdate: true });
  } catch (error) {
    const why = classifyKafkaError(error, [lastConnectionError(admin)]);
    return saslFailure(why, username, mechanism, context.options.security.clientCertPem !== undefined);
  }
  if (username === undefined) {
    return {
      stage: 'sasl',
      status: 'skip',
      summary:
        context.options.security.clientCertPem === undefined
          ? 'no username set: SSL without SASL (the broker accepted the connection without authentication)'
          : 'no username set: authenticated by the client certificate (mutual TLS)',
      details: [],
    };
  }
  return {
    stage: 'sasl',
    status: 'pass',
    summary: `authenticated as "${username}" with ${mechanism}`,
    details: [],
  };
}

function saslFailure(
  why: KafkaErrorClassification,
  username: string | undefined,
  mechanism: string,
  hasClientCert: boolean,
): StageResult {
  if (why.code === 'SASL_AUTHENTICATION_FAILED') {
    return {
      stage: 'sasl',
      status: 'fail',
      summary: `the broker rejected user "${username ?? ''}" with ${mechanism} (${why.matched})`,
      details: [],
      fix: 'check username/password/mechanism: the user must exist on the cluster for this mechanism (SCRAM users per SHA variant, PLAIN users in the JAAS config)',
    };
  }
  if (why.code === 'SASL_MECHANISM_UNSUPPORTED') {
    return {
      stage: 'sasl',
      status: 'fail',
      summary: `the listener does not enable ${mechanism} (${why.matched})`,
      details: [],
      fix: 'set authentication_method to a mechanism the listener enables (sasl.enabled.mechanisms), or use the listener that has it',
    };
  }
  if (why.code === 'SASL_NOT_EXPECTED') {
    return {
      stage: 'sasl',
      status: 'fail',
      summary: 'the listener does not use SASL, but a username is set',
      details: [],
      fix: "use the broker's SASL_SSL listener, or remove username/password to connect with SSL only",
    };
  }
  if (
    username === undefined &&
    (why.code === 'BROKER_UNREACHABLE' || why.code === 'UNCLASSIFIED' || why.code === 'TIMEOUT')
  ) {
    return {
      stage: 'sasl',
      status: 'fail',
      summary: `the broker dropped the first request without SASL (${why.matched || why.code})`,
      details: [],
      fix: hasClientCert
        ? 'this listener probably expects SASL: set username, password and authentication_method'
        : 'this listener probably expects SASL (set username, password and authentication_method) or a client certificate (client_cert_file, client_key_file)',
    };
  }
  return {
    stage: 'sasl',
    status: 'fail',
    summary: `the first request failed: ${why.reason} (${why.matched || why.code})`,
    details: [],
    fix: why.fix,
  };
}
