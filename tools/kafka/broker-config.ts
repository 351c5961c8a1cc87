// Renders server.properties for one combined (broker + controller) KRaft node of a test cluster.
// Tuned to start fast on a 2-core machine and to fail over quickly in fault tests.
import type { TlsMaterial } from './certs.ts';

/** The listeners every node opens, each on its own port on 127.0.0.1. */
export const LISTENERS = ['PLAINTEXT', 'SSL', 'MTLS', 'SASL_SSL', 'WRONGHOST', 'CONTROLLER'] as const;
export type ListenerName = (typeof LISTENERS)[number];
/** Listeners a client may bootstrap from (the controller listener is internal). */
export type ClientListenerName = Exclude<ListenerName, 'CONTROLLER'>;

export interface Credentials {
  username: string;
  password: string;
}

export interface ClusterUsers {
  plain: Credentials;
  scramSha256: Credentials;
  scramSha512: Credentials;
}

export interface NodeConfigInput {
  nodeId: number;
  clusterSize: number;
  dataDir: string;
  ports: Record<ListenerName, number>;
  /** Controller quorum: node id → controller port. */
  voters: { id: number; port: number }[];
  tls: TlsMaterial;
  users: ClusterUsers;
}

const SECURITY_PROTOCOL: Record<ListenerName, string> = {
  PLAINTEXT: 'PLAINTEXT',
  SSL: 'SSL',
  MTLS: 'SSL',
  SASL_SSL: 'SASL_SSL',
  WRONGHOST: 'SSL',
  CONTROLLER: 'PLAINTEXT',
};

/** Java properties escaping for values (backslashes and the characters that start comments/keys). */
function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function jaasQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function renderNodeConfig(input: NodeConfigInput): string {
  const { ports, tls, users } = input;
  const replication = input.clusterSize >= 3 ? 3 : 1;
  const minIsr = input.clusterSize >= 3 ? 2 : 1;
  const listenerUrl = (name: ListenerName): string => `${name}://127.0.0.1:${ports[name]}`;
  const clientListeners = LISTENERS.filter((name) => name !== 'CONTROLLER');
  const plainJaas =
    'org.apache.kafka.common.security.plain.PlainLoginModule required ' +
    `user_${users.plain.username}=${jaasQuote(users.plain.password)};`;
  const scramJaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';

  const properties: [string, string | number][] = [
    ['process.roles', 'broker,controller'],
    ['node.id', input.nodeId],
    ['controller.quorum.voters', input.voters.map((voter) => `${voter.id}@127.0.0.1:${voter.port}`).join(',')],
    ['controller.listener.names', 'CONTROLLER'],
    ['listeners', LISTENERS.map(listenerUrl).join(',')],
    ['advertised.listeners', clientListeners.map(listenerUrl).join(',')],
    ['listener.security.protocol.map', LISTENERS.map((name) => `${name}:${SECURITY_PROTOCOL[name]}`).join(',')],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['log.dirs', input.dataDir],

    // TLS: PEM stores read directly by Kafka; the CA also verifies mTLS client certificates.
    ['ssl.keystore.type', 'PEM'],
    ['ssl.keystore.location', tls.brokerKeystorePath],
    ['ssl.truststore.type', 'PEM'],
    ['ssl.truststore.location', tls.caPemPath],
    ['ssl.client.auth', 'none'],
    ['listener.name.mtls.ssl.client.auth', 'required'],
    ['listener.name.wronghost.ssl.keystore.type', 'PEM'],
    ['listener.name.wronghost.ssl.keystore.location', tls.wrongHostKeystorePath],

    // SASL on the SASL_SSL listener: PLAIN users live in the JAAS line, SCRAM users in the
    // cluster metadata (created by `kafka-storage format --add-scram`).
    ['sasl.enabled.mechanisms', 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512'],
    ['listener.name.sasl_ssl.sasl.enabled.mechanisms', 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512'],
    ['listener.name.sasl_ssl.plain.sasl.jaas.config', plainJaas],
    ['listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config', scramJaas],
    ['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config', scramJaas],

    // Topics: explicit creation only, so a wrong topic name surfaces as an error, as in production.
    ['auto.create.topics.enable', 'false'],
    ['num.partitions', 1],
    ['default.replication.factor', replication],
    ['min.insync.replicas', minIsr],
    ['offsets.topic.replication.factor', replication],
    ['offsets.topic.num.partitions', 5],
    ['transaction.state.log.replication.factor', replication],
    ['transaction.state.log.min.isr', minIsr],
    ['transaction.state.log.num.partitions', 5],
    ['share.coordinator.state.topic.replication.factor', replication],
    ['share.coordinator.state.topic.min.isr', minIsr],
    ['group.initial.rebalance.delay.ms', 0],

    // Few threads: two cores are shared by several JVMs and the tests.
    ['num.network.threads', 2],
    ['num.io.threads', 2],
    ['background.threads', 2],
    ['num.replica.fetchers', 1],
    ['num.recovery.threads.per.data.dir', 1],
    ['log.cleaner.threads', 1],
    ['log.cleaner.dedupe.buffer.size', 8 * 1024 * 1024],

    // Quick failure detection so fault tests (killed broker, leader change) settle in seconds.
    ['controller.quorum.election.timeout.ms', 1000],
    ['controller.quorum.fetch.timeout.ms', 2000],
    ['broker.heartbeat.interval.ms', 500],
    ['broker.session.timeout.ms', 4000],
    ['replica.lag.time.max.ms', 10000],
    ['controlled.shutdown.enable', 'true'],
    ['log.initial.task.delay.ms', 0],
  ];
  return (
    `# Generated by tools/kafka for a throwaway test cluster (node ${input.nodeId}).\n` +
    properties.map(([key, value]) => `${key}=${escapeValue(String(value))}`).join('\n') +
    '\n'
  );
}
