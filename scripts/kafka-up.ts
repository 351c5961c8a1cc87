// npm run kafka:up — starts a 1-broker Kafka for people (demo, manual testing) under var/kafka,
// detached: it keeps running after this command returns, until `npm run kafka:down`.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { attachKafkaCluster, startKafkaCluster, type KafkaCluster } from '../tools/kafka/cluster.ts';
import { devClusterDir } from '../tools/kafka/paths.ts';

const descriptorPath = path.join(devClusterDir, 'cluster.json');

function describe(cluster: KafkaCluster): string {
  const { users } = cluster;
  return [
    '',
    'Bootstrap servers by listener:',
    `  SSL        ${cluster.bootstrap('SSL')}   (TLS, server certificate only)`,
    `  MTLS       ${cluster.bootstrap('MTLS')}   (TLS, client certificate required)`,
    `  SASL_SSL   ${cluster.bootstrap('SASL_SSL')}   (TLS + PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)`,
    `  WRONGHOST  ${cluster.bootstrap('WRONGHOST')}   (TLS, certificate for wrong-host.invalid: fails host-name checks)`,
    `  PLAINTEXT  ${cluster.bootstrap('PLAINTEXT')}   (no TLS; for tools only, the forwarder never uses it)`,
    '',
    'Credentials (SASL_SSL):',
    `  PLAIN          ${users.plain.username} / ${users.plain.password}`,
    `  SCRAM-SHA-256  ${users.scramSha256.username} / ${users.scramSha256.password}`,
    `  SCRAM-SHA-512  ${users.scramSha512.username} / ${users.scramSha512.password}`,
    '',
    'TLS:',
    `  CA certificate      ${cluster.caPemPath}`,
    `  client certificate  ${cluster.clientCertPemPath}`,
    `  client key          ${cluster.clientKeyPemPath}`,
    '',
    `Descriptor: ${cluster.descriptorPath}`,
    `Broker logs: ${path.join(cluster.broker(1).dir, 'server.log')}`,
    'Stop it with: npm run kafka:down',
  ].join('\n');
}

try {
  if (existsSync(descriptorPath)) {
    const running = attachKafkaCluster(descriptorPath);
    if (running.runningBrokerIds().length > 0) {
      console.log('Kafka is already running (npm run kafka:down stops it).');
      console.log(describe(running));
      process.exit(0);
    }
  }
  const started = Date.now();
  const cluster = await startKafkaCluster({
    brokers: 1,
    dir: devClusterDir,
    ownerPid: 0,
    onProgress: (message) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`),
  });
  console.log(describe(cluster));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
