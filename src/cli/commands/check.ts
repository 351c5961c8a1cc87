// `check`: validate the configuration and print what it sets up, secrets redacted.
import { stringify } from 'yaml';
import { redactConfig } from '../../config/index.ts';
import type { ForwarderConfig } from '../../config/index.ts';
import { configOption, EXIT_OK, type CommandDefinition } from '../index.ts';
import { describeSecurity, loadCliConfig } from '../index.ts';
import { formatBytes, println, type CliIo } from '../index.ts';

export const checkCommand: CommandDefinition = {
  path: ['check'],
  summary: 'Validate the configuration file without starting anything.',
  usage: '[--config FILE] [--print]',
  description:
    'Prints OK and a summary (secrets redacted) when the file is valid; otherwise every problem, each with its setting ' +
    'and the fix, and exits with 2. Secrets that are not available where it runs (an unset ${VAR}, an unreadable ' +
    '*_file) are listed, not refused, so that the file can be checked without them.',
  options: { ...configOption.options, print: { type: 'boolean' } },
  optionHelp: [
    configOption.help,
    { flag: '--print', help: 'also print the whole effective configuration, secrets redacted' },
  ],
  positionals: [0, 0],
  async run(args, io) {
    const loaded = await loadCliConfig(args, io, { secrets: 'none' });
    if (typeof loaded === 'number') return loaded;
    println(io, `OK: ${loaded.path} is valid.`);
    printSummary(loaded.config, io);
    if (loaded.unavailableSecrets.length > 0) {
      // Valid as written: a CI job can check the file without the production secrets.
      println(io, `  not available here (serve will need them):`);
      for (const { setting, why } of loaded.unavailableSecrets) println(io, `    ${setting}: ${why}`);
    }
    if (args.values.print === true) {
      println(io);
      io.stdout.write(stringify(snakeCase(redactConfig(loaded.config))));
    }
    return EXIT_OK;
  },
};

function printSummary(config: ForwarderConfig, io: CliIo): void {
  const { server, spool } = config;
  println(
    io,
    `  server:  ${server.tls === undefined ? 'http' : 'https'}://${server.host}:${server.port}, log level ${config.logLevel}`,
  );
  if (spool.kind === 'kafka' && spool.kafka !== undefined) {
    // Cluster mode: no local spool; path, max_bytes and high_water_ratio are not used.
    const intake = spool.kafka;
    println(
      io,
      `  spool:   kafka (cluster mode): intake topic "${intake.topic}" on ${intake.bootstrapServers.join(',')} via ${describeSecurity(intake)}` +
        trusting(intake),
    );
    println(
      io,
      `           consumer group "${intake.groupId}", state topic "${intake.stateTopic}", dead-letter topic "${intake.deadLetterTopic}"` +
        ` (created when missing: ${intake.partitions} partitions, replication factor ${intake.replicationFactor})`,
    );
  } else {
    println(
      io,
      `  spool:   ${spool.path}, up to ${formatBytes(spool.maxBytes)} (new batches refused above ${Math.round(spool.highWaterRatio * 100)}%)`,
    );
  }
  for (const input of config.inputs) {
    println(io, `  input:   ${input.name} (${input.credentials.length} API key(s))`);
  }
  for (const output of config.outputs) {
    println(
      io,
      `  output:  ${output.name} → topic "${output.topic}" on ${output.bootstrapServers.join(',')} via ${describeSecurity(output)}` +
        trusting(output),
    );
  }
  for (const connection of config.connections) {
    const s = connection.settings;
    const mode = s.waitForCompleteBatch
      ? 'wait for complete batch'
      : s.sendAsBatch
        ? `send as batch (${Math.round(s.batchWindowMs / 1000)} s window)`
        : 'one record per event';
    println(io, `  connection: ${connection.name}: ${connection.input} → ${connection.output}, ${mode}`);
  }
}

function trusting(cluster: { caPem?: string }): string {
  return cluster.caPem !== undefined ? ', trusting ca_file' : ', trusting the system CAs';
}

/** The loaded (camelCase) configuration with the snake_case keys of the YAML file. */
function snakeCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCase);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
        snakeCase(inner),
      ]),
    );
  }
  return value;
}
