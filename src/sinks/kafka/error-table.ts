// Classifies what the Kafka client throws into what the forwarder should do about it:
//   retryable      the cluster is (temporarily) unreachable or busy: back off and try again
//   configuration  nothing will work until a person changes a setting: pause the output and say what
//   per-record     this record can never be written: set it aside and go on with the others
//
// Classification looks only at structured facts — the library's error classes and codes, Kafka
// protocol error names, Node's TLS/socket error codes — never at message text, which changes
// between versions. The client nests errors (MultipleErrors → NetworkError → cause), so the whole
// tree is searched; rules are tried in table order, so configuration problems win over the
// connection resets they often cause.
import {
  normalizeKafkaError,
  AuthenticationError,
  GenericError,
  NetworkError,
  TimeoutError,
  UnsupportedApiError,
  UnsupportedCompressionError,
  UnsupportedError,
  UserError,
} from './kafka-client.ts';

export type KafkaErrorKind = 'retryable' | 'configuration' | 'per-record';

export interface KafkaErrorClassification {
  kind: KafkaErrorKind;
  /** Stable name of the rule that matched, e.g. 'SASL_AUTHENTICATION_FAILED'. */
  code: string;
  /** What went wrong, for people. Never contains secrets. */
  reason: string;
  /** What to change or check. */
  fix: string;
  /** The fact that matched: 'kafka:<PROTOCOL_ERROR>', 'node:<code>', 'client:<class or code>'. */
  matched: string;
  /**
   * The producer's idempotence state is gone (Kafka's protocol requires a new producer id or epoch):
   * the only case where the sink replaces its producer. Anything else is retried on the same one, so
   * that the broker can recognise a resend and not write it twice.
   */
  freshProducer: boolean;
}

type ErrorClass = abstract new (...args: never[]) => Error;

export interface KafkaErrorRule {
  kind: KafkaErrorKind;
  code: string;
  reason: string;
  fix: string;
  /** Kafka protocol error names (ProtocolError.apiId). */
  protocol?: readonly string[];
  /** Node.js error codes (TLS verification, OpenSSL alerts, sockets). */
  node?: readonly string[];
  /** Error classes of the client library. */
  classes?: readonly ErrorClass[];
  /** Only match when the matching error's `cause` carries one of these Node codes. */
  causeNode?: readonly string[];
  /** Only match when the matching error says it may be retried (the client's `canRetry`). */
  retriable?: true;
  /** See KafkaErrorClassification.freshProducer. */
  freshProducer?: boolean;
}

export const kafkaErrorTable: readonly KafkaErrorRule[] = [
  // --- TLS: the client does not trust the broker ---
  {
    kind: 'configuration',
    code: 'TLS_UNTRUSTED_CERTIFICATE',
    reason: 'the broker certificate is not signed by a CA this output trusts',
    fix: 'set ca_file to the CA that signed the broker certificate',
    node: [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'UNABLE_TO_GET_ISSUER_CERT',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'CERT_UNTRUSTED',
      'CERT_SIGNATURE_FAILURE',
      'CERT_CHAIN_TOO_LONG',
      'INVALID_CA',
      'CERT_REJECTED',
    ],
  },
  {
    kind: 'configuration',
    code: 'TLS_HOSTNAME_MISMATCH',
    reason: 'the broker certificate does not cover the host name or IP address the output connects to',
    fix: 'use a bootstrap server name listed in the broker certificate (its subject alternative names), or reissue the certificate for this name',
    node: ['ERR_TLS_CERT_ALTNAME_INVALID'],
  },
  {
    kind: 'configuration',
    code: 'TLS_CERTIFICATE_EXPIRED',
    reason: 'a certificate in the broker chain is expired or not yet valid',
    fix: 'renew the broker certificate, or check this machine’s clock',
    node: ['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CRL_HAS_EXPIRED'],
  },
  // --- TLS: the broker does not accept the client ---
  {
    kind: 'configuration',
    code: 'TLS_CLIENT_CERTIFICATE_REJECTED',
    reason: 'the broker requires a client certificate it trusts (mutual TLS) and did not accept ours',
    fix: 'set client_cert_file and client_key_file to a certificate signed by a CA the broker trusts',
    // OpenSSL 3 names the SSLv3-era alerts "SSL/TLS_ALERT_…"; older builds "SSLV3_ALERT_…".
    node: [
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      'ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN',
      'ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_EXPIRED',
      'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
    ],
  },
  {
    kind: 'configuration',
    code: 'TLS_CLIENT_KEY_INVALID',
    reason: 'the client certificate or key cannot be used',
    fix: 'check that client_key_file is the unencrypted PEM private key of client_cert_file',
    node: ['ERR_OSSL_X509_KEY_VALUES_MISMATCH', 'ERR_OSSL_PEM_NO_START_LINE', 'ERR_OSSL_UNSUPPORTED'],
  },
  {
    kind: 'configuration',
    code: 'TLS_NOT_A_TLS_LISTENER',
    reason: 'the port answered, but not with TLS: it is not a TLS listener',
    fix: 'check that bootstrap_servers points at the broker’s SSL or SASL_SSL listener (a PLAINTEXT listener cannot be used)',
    node: ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG'],
  },
  {
    // The client turns "socket reset before the TLS handshake finished" into a UserError.
    kind: 'configuration',
    code: 'TLS_NOT_A_TLS_LISTENER',
    reason: 'the connection was closed during the TLS handshake; the port may not be a TLS listener',
    fix: 'check that bootstrap_servers points at the broker’s SSL or SASL_SSL listener (a PLAINTEXT listener cannot be used)',
    classes: [UserError],
    causeNode: ['ECONNRESET'],
  },
  {
    kind: 'configuration',
    code: 'TLS_HANDSHAKE_FAILED',
    reason:
      'the broker ended the TLS handshake: no TLS version or cipher in common, or it requires a client certificate',
    fix: 'enable TLS 1.2 or 1.3 on the broker listener (ssl.enabled.protocols); if it requires mutual TLS, set client_cert_file and client_key_file',
    node: [
      'ERR_SSL_UNSUPPORTED_PROTOCOL',
      'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
      'ERR_SSL_NO_SHARED_CIPHER',
      'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
      'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE',
      'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    ],
  },
  // --- SASL ---
  {
    kind: 'configuration',
    code: 'SASL_AUTHENTICATION_FAILED',
    reason: 'the broker rejected the SASL credentials',
    fix: 'check username/password and mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512) against the broker’s users',
    protocol: ['SASL_AUTHENTICATION_FAILED'],
  },
  {
    kind: 'configuration',
    code: 'SASL_MECHANISM_UNSUPPORTED',
    reason: 'the broker listener does not enable this SASL mechanism',
    fix: 'set mechanism to one the listener enables (sasl.enabled.mechanisms on the broker)',
    protocol: ['UNSUPPORTED_SASL_MECHANISM'],
  },
  {
    kind: 'configuration',
    code: 'SASL_NOT_EXPECTED',
    reason: 'the broker listener did not expect SASL authentication',
    fix: 'use the broker’s SASL_SSL listener, or remove username/password to connect with SSL only',
    protocol: ['ILLEGAL_SASL_STATE'],
  },
  {
    kind: 'configuration',
    code: 'SASL_AUTHENTICATION_FAILED',
    reason: 'SASL authentication failed',
    fix: 'check username/password and mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512) against the broker’s users',
    classes: [AuthenticationError],
  },
  // --- Authorisation and topics ---
  {
    kind: 'configuration',
    code: 'NOT_AUTHORIZED',
    reason: 'the user is not allowed to write to this topic or cluster',
    fix: 'grant the user WRITE and DESCRIBE on the topic (and IDEMPOTENT_WRITE on the cluster for brokers before Kafka 3.0)',
    protocol: [
      'TOPIC_AUTHORIZATION_FAILED',
      'CLUSTER_AUTHORIZATION_FAILED',
      'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
      'GROUP_AUTHORIZATION_FAILED',
    ],
  },
  {
    kind: 'configuration',
    code: 'UNKNOWN_TOPIC',
    reason: 'the topic does not exist on this cluster',
    fix: 'create the topic, or fix the topic name in the output',
    protocol: ['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID'],
  },
  {
    kind: 'configuration',
    code: 'INVALID_TOPIC',
    reason: 'the topic name is not valid',
    fix: 'use a topic name of letters, digits, ".", "_" and "-" (at most 249 characters)',
    protocol: ['INVALID_TOPIC_EXCEPTION'],
  },
  {
    kind: 'configuration',
    code: 'BROKER_INCOMPATIBLE',
    reason: 'the broker does not support what the output asks for',
    fix: 'check the broker version (Kafka 3.5 or later) and the output’s compression and acks settings',
    protocol: [
      'UNSUPPORTED_VERSION',
      'UNSUPPORTED_FOR_MESSAGE_FORMAT',
      'UNSUPPORTED_COMPRESSION_TYPE',
      'INVALID_REQUIRED_ACKS',
      'SECURITY_DISABLED',
      'POLICY_VIOLATION',
    ],
    classes: [UnsupportedApiError, UnsupportedCompressionError, UnsupportedError],
  },
  // --- One record is the problem ---
  {
    kind: 'per-record',
    code: 'RECORD_TOO_LARGE',
    reason: 'the record is larger than the topic or broker accepts',
    fix: 'raise max.message.bytes on the topic (and message.max.bytes on the broker), or send smaller batches',
    protocol: ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'],
  },
  {
    kind: 'per-record',
    code: 'RECORD_INVALID',
    reason: 'the broker rejected the record as invalid',
    fix: 'check the topic’s settings (for example compaction needs a key, timestamps must be within limits)',
    protocol: ['CORRUPT_MESSAGE', 'INVALID_RECORD', 'INVALID_TIMESTAMP'],
  },
  // --- Transient ---
  {
    kind: 'retryable',
    code: 'CLUSTER_BUSY',
    reason: 'the cluster is moving leaders, short of in-sync replicas or otherwise busy',
    fix: 'nothing to change if it passes; otherwise check broker health and min.insync.replicas',
    protocol: [
      'NOT_LEADER_OR_FOLLOWER',
      'LEADER_NOT_AVAILABLE',
      'REQUEST_TIMED_OUT',
      'BROKER_NOT_AVAILABLE',
      'REPLICA_NOT_AVAILABLE',
      'NETWORK_EXCEPTION',
      'NOT_ENOUGH_REPLICAS',
      'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
      'KAFKA_STORAGE_ERROR',
      'FENCED_LEADER_EPOCH',
      'UNKNOWN_LEADER_EPOCH',
      'OFFSET_NOT_AVAILABLE',
      'COORDINATOR_LOAD_IN_PROGRESS',
      'COORDINATOR_NOT_AVAILABLE',
      'NOT_COORDINATOR',
      'NOT_CONTROLLER',
      'THROTTLING_QUOTA_EXCEEDED',
      'CONCURRENT_TRANSACTIONS',
      'UNKNOWN_SERVER_ERROR',
    ],
  },
  {
    kind: 'retryable',
    code: 'PRODUCER_STATE_LOST',
    reason: 'the broker lost or fenced this producer’s idempotence state',
    fix: 'nothing to change: the producer is recreated and the records resent',
    freshProducer: true,
    protocol: [
      'OUT_OF_ORDER_SEQUENCE_NUMBER',
      'UNKNOWN_PRODUCER_ID',
      'INVALID_PRODUCER_EPOCH',
      'PRODUCER_FENCED',
      'INVALID_PRODUCER_ID_MAPPING',
    ],
  },
  {
    kind: 'retryable',
    code: 'BROKER_UNREACHABLE',
    reason: 'cannot connect to the broker',
    fix: 'check that the broker is up and bootstrap_servers (host and port) is right and reachable from here',
    node: [
      'ECONNREFUSED',
      'ECONNRESET',
      'ECONNABORTED',
      'EPIPE',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'EHOSTDOWN',
      'ENOTFOUND',
      'EAI_AGAIN',
    ],
  },
  {
    kind: 'retryable',
    code: 'TIMEOUT',
    reason: 'the broker did not answer in time',
    fix: 'nothing to change if it passes; otherwise check broker load and the network',
    classes: [TimeoutError],
  },
  {
    // The client's NetworkError with no socket code beneath it: "Connection closed" when a
    // connection ends under a request or before it was ready (a broker restarting, a load balancer's
    // idle timeout). Only the retriable ones: "Client is closed" (canRetry false) is our own
    // shutdown, not the broker. Last, so that anything more specific found around it wins.
    kind: 'retryable',
    code: 'BROKER_UNREACHABLE',
    reason: 'the connection to the broker closed',
    fix: 'nothing to change if it passes; otherwise check that the broker is up and reachable from here',
    classes: [NetworkError],
    retriable: true,
  },
];

const fallback: Omit<KafkaErrorClassification, 'matched'> = {
  freshProducer: false,
  kind: 'retryable',
  code: 'UNCLASSIFIED',
  reason: 'unexpected error from the Kafka client',
  fix: 'retrying; if it persists, check the broker logs',
};

interface ErrorFacts {
  error: Error;
  protocol?: string;
  node?: string;
}

/** Every error in the tree (the error, its causes, aggregated errors), with its structured facts. */
function collect(root: unknown): ErrorFacts[] {
  const found: ErrorFacts[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (!(value instanceof Error) || seen.has(value) || depth > 10) return;
    seen.add(value);
    const record = value as Error & { code?: unknown; apiId?: unknown };
    const facts: ErrorFacts = { error: value };
    if (typeof record.apiId === 'string') facts.protocol = record.apiId;
    if (typeof record.code === 'string' && !GenericError.isGenericError(value)) facts.node = record.code;
    found.push(facts);
    if (value instanceof AggregateError) for (const inner of value.errors) visit(inner, depth + 1);
    visit(value.cause, depth + 1);
  };
  visit(root, 0);
  return found;
}

function matches(rule: KafkaErrorRule, facts: ErrorFacts): string | undefined {
  if (facts.protocol !== undefined && rule.protocol?.includes(facts.protocol)) return `kafka:${facts.protocol}`;
  if (facts.node !== undefined && rule.node?.includes(facts.node)) return `node:${facts.node}`;
  const errorClass = rule.classes?.find((candidate) => facts.error instanceof candidate);
  if (errorClass !== undefined) {
    if (rule.causeNode !== undefined) {
      const cause = facts.error.cause as { code?: unknown } | undefined;
      if (typeof cause?.code !== 'string' || !rule.causeNode.includes(cause.code)) return undefined;
    }
    if (rule.retriable === true && (facts.error as { canRetry?: unknown }).canRetry !== true) return undefined;
    return `client:${errorClass.name}`;
  }
  return undefined;
}

/**
 * Classifies an error from the Kafka client. `related` are errors seen around it that may carry the
 * real cause, typically `lastConnectionError(client)` when the error itself only says the connection
 * closed.
 */
export function classifyKafkaError(error: unknown, related: readonly unknown[] = []): KafkaErrorClassification {
  const tree = [error, ...related].map(normalizeKafkaError).flatMap(collect);
  for (const rule of kafkaErrorTable) {
    for (const facts of tree) {
      const matched = matches(rule, facts);
      if (matched !== undefined) {
        return {
          kind: rule.kind,
          code: rule.code,
          reason: rule.reason,
          fix: rule.fix,
          matched,
          freshProducer: rule.freshProducer === true,
        };
      }
    }
  }
  const first = tree.find((facts) => facts.protocol !== undefined || facts.node !== undefined);
  const matched = first?.protocol !== undefined ? `kafka:${first.protocol}` : first?.node ? `node:${first.node}` : '';
  return { ...fallback, matched };
}
