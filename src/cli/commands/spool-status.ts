// `spool status`: what the spool holds (records, bytes, the oldest age, backlog per connection and
// output, dead letters). The server holds the spool exclusively while it runs; then the same
// figures are read from its GET /metrics instead.
import type { ForwarderConfig } from '../../config/index.ts';
import { intakeConnectionOf } from '../../main.ts';
import { readIntakeStatus } from '../../spool/index.ts';
import type { IntakeStatus, SpoolStats } from '../../spool/index.ts';
import { configOption, EXIT_FAILED, EXIT_OK, type CommandDefinition } from '../index.ts';
import { loadCliConfig } from '../index.ts';
import { formatBytes, formatDuration, formatTable, println, type CliIo } from '../index.ts';
import { busyMessage, openSpoolForCli } from '../index.ts';

export const spoolStatusCommand: CommandDefinition = {
  path: ['spool', 'status'],
  summary: 'Show what the spool holds: records, bytes, oldest age, backlog per connection and output, dead letters.',
  usage: '[--config FILE]',
  description:
    'Opens the spool directly while the server is stopped. While the server runs it holds the spool, and the ' +
    "figures come from the server's GET /metrics instead.",
  options: { ...configOption.options },
  optionHelp: [configOption.help],
  positionals: [0, 0],
  async run(args, io) {
    const loaded = await loadCliConfig(args, io, { secrets: 'intake' });
    if (typeof loaded === 'number') return loaded;
    const { config } = loaded;
    if (config.spool.kind === 'kafka' && config.spool.kafka !== undefined) return printIntakeStatus(config, io);
    const access = await openSpoolForCli(config);
    if (access.kind === 'missing') {
      println(
        io,
        `No spool at ${access.path} yet: the server has not run with this configuration. Nothing is pending.`,
      );
      return EXIT_OK;
    }
    if (access.kind === 'busy') {
      println(io, `Note: ${busyMessage(access.path)}; reading its GET /metrics instead.`);
      return printFromMetrics(config, io);
    }
    try {
      printStats(access.spool.stats(), config, io);
    } finally {
      await access.spool.close();
    }
    return EXIT_OK;
  },
};

/**
 * Cluster mode: the intake topic's backlog, from Kafka alone (so it works with the instances
 * running): per partition, from the group's committed offset (the slowest connection's) to the
 * end; per connection, from the progress the partitions' owners commit for it, once a second.
 */
async function printIntakeStatus(config: ForwarderConfig, io: CliIo): Promise<number> {
  const intake = config.spool.kafka;
  if (intake === undefined) return EXIT_FAILED;
  let status: IntakeStatus;
  try {
    status = await readIntakeStatus(intakeConnectionOf(intake), {
      topic: intake.topic,
      groupId: intake.groupId,
      connections: config.connections.map((connection) => connection.name),
    });
  } catch (error) {
    println(io, `Cannot read the intake topic ${intake.topic}: ${(error as Error).message}.`);
    println(io, 'Check the connection with: kafka-forwarder test-connection spool.kafka');
    return EXIT_FAILED;
  }
  const { partitions } = status;
  const total = partitions.reduce((sum, partition) => sum + partition.backlog, 0);
  println(io, `Intake topic ${intake.topic} (group ${intake.groupId}): ${partitions.length} partition(s)`);
  println(io, `  backlog:      ${total} batch(es) not yet acknowledged by every connection`);
  println(io);
  const rows = partitions.map((partition) => [
    String(partition.partition),
    partition.committed === null ? '-' : String(partition.committed),
    String(partition.end),
    String(partition.backlog),
  ]);
  for (const line of formatTable(['partition', 'committed', 'end', 'backlog'], rows)) println(io, `  ${line}`);
  println(io);
  const rowsPerConnection = status.connections.map(({ connection, backlog, reported }) => [
    connection,
    outputOf(config, connection),
    reported ? String(backlog) : `≤ ${backlog}`,
  ]);
  for (const line of formatTable(['connection', 'output', 'backlog'], rowsPerConnection)) println(io, `  ${line}`);
  if (status.connections.some(({ reported }) => !reported))
    println(
      io,
      '  (≤: no instance has reported that connection’s progress yet; the figure is the slowest connection’s)',
    );
  return EXIT_OK;
}

function outputOf(config: ForwarderConfig, connection: string): string {
  const found = config.connections.find((candidate) => candidate.name === connection);
  return found === undefined ? '(not in the configuration)' : found.output;
}

function printStats(stats: SpoolStats, config: ForwarderConfig, io: CliIo): void {
  println(io, `Spool ${config.spool.path}: ${stats.state}`);
  println(io, `  records:      ${stats.records}`);
  println(
    io,
    `  bytes:        ${formatBytes(stats.bytes)} of ${formatBytes(stats.maxBytes)} (${((stats.bytes / stats.maxBytes) * 100).toFixed(1)}%; new batches refused above ${formatBytes(stats.highWaterBytes)})`,
  );
  println(io, `  oldest:       ${stats.records === 0 ? '-' : formatDuration(stats.oldestAgeMs)}`);
  println(io, `  dead letters: ${stats.deadLetters} (${formatBytes(stats.deadLetterBytes)})`);
  const connections = new Set([
    ...config.connections.map((connection) => connection.name),
    ...Object.keys(stats.backlog),
    ...Object.keys(stats.deadLettersByDestination),
  ]);
  const rows = [...connections]
    .sort()
    .map((connection) => [
      connection,
      outputOf(config, connection),
      String(stats.backlog[connection] ?? 0),
      String(stats.deadLettersByDestination[connection] ?? 0),
    ]);
  println(io);
  for (const line of formatTable(['connection', 'output', 'backlog', 'dead letters'], rows)) println(io, `  ${line}`);
  const perOutput = new Map<string, number>();
  for (const [connection, backlog] of Object.entries(stats.backlog)) {
    const output = config.connections.find((candidate) => candidate.name === connection)?.output;
    if (output === undefined) continue;
    perOutput.set(output, (perOutput.get(output) ?? 0) + backlog);
  }
  if (perOutput.size > 0) {
    println(io);
    println(io, `  backlog per output: ${[...perOutput].map(([output, count]) => `${output} ${count}`).join(', ')}`);
  }
}

/** The spool gauges of a running server, from its Prometheus text. */
async function printFromMetrics(config: ForwarderConfig, io: CliIo): Promise<number> {
  const host = ['0.0.0.0', '::', ''].includes(config.server.host) ? '127.0.0.1' : config.server.host;
  const url = `${config.server.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${config.server.port}/metrics`;
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    text = await response.text();
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  } catch (error) {
    println(io, `Cannot read ${url}: ${(error as Error).message}.`);
    return EXIT_FAILED;
  }
  const samples = text
    .split('\n')
    .filter((line) => /^kafka_forwarder_(spool_|dead_letters)/.test(line))
    .map((line) => line.trim());
  const value = (name: string): string => samples.find((line) => line.startsWith(`${name} `))?.split(' ')[1] ?? '?';
  println(io, `Spool ${config.spool.path} (from ${url}):`);
  println(io, `  records:      ${value('kafka_forwarder_spool_records')}`);
  const bytes = Number(value('kafka_forwarder_spool_bytes'));
  println(
    io,
    `  bytes:        ${Number.isFinite(bytes) ? formatBytes(bytes) : '?'} of ${formatBytes(config.spool.maxBytes)}`,
  );
  const age = Number(value('kafka_forwarder_spool_oldest_age_seconds'));
  println(io, `  oldest:       ${Number.isFinite(age) ? formatDuration(age * 1000) : '?'}`);
  println(io, `  dead letters: ${value('kafka_forwarder_dead_letters')}`);
  for (const line of samples.filter((sample) => sample.startsWith('kafka_forwarder_spool_backlog_records{'))) {
    const connection = /connection="([^"]*)"/.exec(line)?.[1] ?? '?';
    println(io, `  backlog ${connection} (→ ${outputOf(config, connection)}): ${line.split(' ').at(-1)}`);
  }
  return EXIT_OK;
}
