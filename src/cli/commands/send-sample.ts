// `send-sample`: sends realistic batches covering every supported event type to a running server
// through the official mParticle SDK, and prints what it sent and what the server answered.
import { configPath } from '../../config/index.ts';
import { existsSync } from 'node:fs';
import {
  configOption,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  integerValue,
  stringValue,
  type CommandDefinition,
} from '../index.ts';
import { loadCliConfig } from '../index.ts';
import { eprintln, println } from '../index.ts';
import type { ForwarderConfig } from '../../config/index.ts';
import { buildSampleBatches } from '../index.ts';
import { sendBatch, sendBulk, type SendOutcome, type SendTarget } from '../index.ts';

export const sendSampleCommand: CommandDefinition = {
  path: ['send-sample'],
  summary: 'Send sample batches of all 16 supported event types (17 event_type values) to a running server.',
  usage: '[--url URL] [--key KEY --secret SECRET] [--count N] [--bulk] [--config FILE]',
  description:
    'Each batch is one user session built with the official mParticle Node SDK. Without --url, --key and --secret ' +
    'they are taken from the configuration (server address, first credential of the first input); the secret is never printed.',
  options: {
    ...configOption.options,
    url: { type: 'string' },
    key: { type: 'string' },
    secret: { type: 'string' },
    count: { type: 'string', short: 'n' },
    bulk: { type: 'boolean' },
  },
  optionHelp: [
    { flag: '--url URL', help: 'server base URL (default: from the config, else http://127.0.0.1:8080)' },
    { flag: '--key KEY', help: 'API key (default: from the config, else $MP_API_KEY)' },
    { flag: '--secret SECRET', help: 'API secret (default: from the config, else $MP_API_SECRET)' },
    { flag: '-n, --count N', help: 'number of batches (default 3)' },
    { flag: '--bulk', help: 'send them in one POST /v2/bulkevents instead of one POST /v2/events each' },
    configOption.help,
  ],
  positionals: [0, 0],
  async run(args, io) {
    const count = integerValue(args, 'count', 3);
    let url = stringValue(args, 'url');
    let apiKey = stringValue(args, 'key');
    let apiSecret = stringValue(args, 'secret');
    const needConfig = url === undefined || apiKey === undefined || apiSecret === undefined;
    const explicitConfig = stringValue(args, 'config') !== undefined || (io.env.KAFKA_FORWARDER_CONFIG ?? '') !== '';
    let config: ForwarderConfig | undefined;
    if (needConfig && (explicitConfig || existsSync(configPath({ env: io.env })))) {
      const loaded = await loadCliConfig(args, io);
      if (typeof loaded === 'number') return loaded;
      config = loaded.config;
      const { server, inputs } = loaded.config;
      const host = ['0.0.0.0', '::'].includes(server.host) ? '127.0.0.1' : server.host;
      url ??= `${server.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
      const credential = inputs[0]?.credentials[0];
      apiKey ??= credential?.apiKey;
      apiSecret ??= credential?.apiSecret;
    }
    url ??= 'http://127.0.0.1:8080';
    apiKey ??= io.env.MP_API_KEY;
    apiSecret ??= io.env.MP_API_SECRET;
    if (apiKey === undefined || apiSecret === undefined) {
      eprintln(io, 'kafka-forwarder: give --key and --secret (or MP_API_KEY/MP_API_SECRET, or a config with an input)');
      return EXIT_USAGE;
    }
    const target: SendTarget = { url, apiKey, apiSecret };
    const samples = buildSampleBatches(count);
    println(io, `Sending ${count} batch(es) to ${url} as API key ${apiKey} with the mParticle Node SDK:`);
    let failures = 0;
    const report = (label: string, result: SendOutcome): void => {
      const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
      if (!ok) failures++;
      println(
        io,
        `  ${label} → ${result.status ?? 'no answer'}${ok ? ' accepted' : ''} (${result.ms} ms)${result.error !== undefined ? `: ${result.error}` : ''}`,
      );
    };
    for (const [index, sample] of samples.entries()) {
      println(
        io,
        `  batch ${index + 1}/${count}: mpid ${sample.mpid}, ${sample.eventTypes.length} events: ${sample.eventTypes.join(', ')}`,
      );
      if (args.values.bulk !== true) report(`POST /v2/events`, await sendBatch(target, sample));
    }
    if (args.values.bulk === true) {
      for (let start = 0; start < samples.length; start += 100) {
        const chunk = samples.slice(start, start + 100);
        report(`POST /v2/bulkevents (${chunk.length} batches)`, await sendBulk(target, chunk));
      }
    }
    const events = samples.reduce((sum, sample) => sum + sample.eventTypes.length, 0);
    if (failures > 0) {
      println(io, `${failures} request(s) were not accepted.`);
      return EXIT_FAILED;
    }
    println(io, `All accepted: ${count} batch(es), ${events} events.`);
    for (const line of whenRecordsAppear(config, apiKey)) println(io, line);
    return EXIT_OK;
  },
};

function duration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/**
 * When the records of what was just sent will be in Kafka, per connection of the input that took
 * them: with Send as Batch (mParticle's default) a device's events wait for its window to close,
 * and a user trying the forwarder out would otherwise see nothing for ten minutes.
 */
export function whenRecordsAppear(config: ForwarderConfig | undefined, apiKey: string, now = new Date()): string[] {
  const input = config?.inputs.find((candidate) => candidate.credentials.some((c) => c.apiKey === apiKey));
  const connections = config?.connections.filter((connection) => connection.input === input?.name) ?? [];
  if (config === undefined || connections.length === 0) {
    return [
      'Records appear in Kafka at once with send_as_batch: false; with Send as Batch on (the default) each',
      "device's events wait until its window closes (batch_window_ms, 10 minutes by default).",
    ];
  }
  return connections.map((connection) => {
    const { settings } = connection;
    const output = config.outputs.find((candidate) => candidate.name === connection.output);
    const where = `topic ${output?.topic ?? '?'} (connection ${connection.name})`;
    if (settings.waitForCompleteBatch) {
      return (
        `${where}: Wait for Complete Batch is on, so the records appear when each session ends or has been ` +
        `quiet for session_timeout_ms (${duration(settings.sessionTimeoutMs)}). To see records at once while ` +
        'trying it out, set wait_for_complete_batch: false and send_as_batch: false on the connection.'
      );
    }
    if (settings.sendAsBatch) {
      const at = new Date(now.getTime() + settings.batchWindowMs).toISOString().slice(11, 19);
      return (
        `${where}: Send as Batch is on, so each device's events are held for batch_window_ms ` +
        `(${duration(settings.batchWindowMs)}) and its records appear around ${at} UTC. To see records at ` +
        'once while trying it out, set send_as_batch: false on the connection (one record per event), or a ' +
        'shorter batch_window_ms.'
      );
    }
    return `${where}: one record per event, in Kafka within moments.`;
  });
}
