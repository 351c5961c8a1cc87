// `test-connection <output>`: the staged diagnosis of one output (src/sinks/kafka/diagnose.ts),
// one line per stage with PASS/WARN/FAIL/SKIP, the facts found under it and, where something is
// wrong, the fix. Exits 1 at the first failing stage.
import { diagnoseKafkaOutput, STAGES, type StageResult } from '../../sinks/kafka/index.ts';
import { configOption, EXIT_FAILED, EXIT_OK, EXIT_USAGE, integerValue, type CommandDefinition } from '../index.ts';
import { outputSecurity } from '../../sinks/kafka/index.ts';
import { describeSecurity, loadCliConfig } from '../index.ts';
import { eprintln, isInteractive, println, type CliIo } from '../index.ts';

/** How the intake of the Kafka spool is named on the command line: its setting path. */
const INTAKE_NAME = 'spool.kafka';

export const testConnectionCommand: CommandDefinition = {
  path: ['test-connection'],
  summary: 'Diagnose the connection of one output to Kafka, stage by stage.',
  usage: '[<output>] [--config FILE] [--timeout MS] [--write-test]',
  description:
    'Stages: 1 DNS of each bootstrap server; 2 TCP connect; 3 TLS handshake (certificate chain against ca_file or the ' +
    'system CAs, host name against CN/SAN); 4 SASL authentication; 5 metadata (brokers, and whether the addresses ' +
    'they advertise are reachable); 6 the topic (partitions, leaders, in-sync replicas against min.insync.replicas, ' +
    'a producer id). Stops and exits 1 at the first failure. <output> may be left out when the config has one output; ' +
    'name spool.kafka to test the intake of the Kafka spool (cluster mode).',
  options: { ...configOption.options, timeout: { type: 'string' }, 'write-test': { type: 'boolean' } },
  optionHelp: [
    configOption.help,
    { flag: '--timeout MS', help: 'limit for each connection and request (default: the output connect_timeout_ms)' },
    { flag: '--write-test', help: 'also produce one test record (key kafka-forwarder-test-connection) to the topic' },
  ],
  positionals: [0, 1],
  async run(args, io) {
    const loaded = await loadCliConfig(args, io);
    if (typeof loaded === 'number') return loaded;
    // The Kafka spool's intake is declared like an output and tested the same way, by its setting path.
    const intake = loaded.config.spool.kafka;
    const outputs = [
      ...loaded.config.outputs,
      ...(intake === undefined
        ? []
        : [{ ...intake, name: INTAKE_NAME, degradedAfterMs: 0, key: 'mpid' as const, headers: [] }]),
    ];
    const name = args.positionals[0];
    const output =
      name === undefined
        ? loaded.config.outputs.length === 1 && intake === undefined
          ? outputs[0]
          : undefined
        : outputs.find((o) => o.name === name);
    if (output === undefined) {
      eprintln(
        io,
        name === undefined
          ? `kafka-forwarder: name the output to test: ${outputs.map((o) => o.name).join(', ')}`
          : `kafka-forwarder: no output "${name}" in ${loaded.path}; outputs: ${outputs.map((o) => o.name).join(', ')}`,
      );
      return EXIT_USAGE;
    }
    const what = output.name === INTAKE_NAME ? 'the intake (spool.kafka)' : `output "${output.name}"`;
    println(
      io,
      `Testing ${what}: topic "${output.topic}" on ${output.bootstrapServers.join(',')} via ${describeSecurity(output)}`,
    );
    const diagnose = (topic: string) =>
      diagnoseKafkaOutput({
        security: outputSecurity(output),
        topic,
        clientId: `${output.clientId}-test-connection`,
        timeoutMs: integerValue(args, 'timeout', output.connectTimeoutMs),
        maxMessageBytes: output.maxMessageBytes,
        writeTest: args.values['write-test'] === true,
        onStage: (result) => printStage(result, io),
      });
    let diagnosis = await diagnose(output.topic);
    // Then each topic topic_by_event_type routes to, through the same stages.
    const routes = Object.entries(output.topicByEventType ?? {});
    const routed = [...new Set(routes.map(([, topic]) => topic))].filter((topic) => topic !== output.topic);
    for (const topic of routed) {
      if (!diagnosis.ok) break;
      const types = routes.filter(([, to]) => to === topic).map(([type]) => type);
      println(io);
      println(io, `Routed topic "${topic}" (topic_by_event_type: ${types.join(', ')}):`);
      diagnosis = await diagnose(topic);
    }
    println(io);
    if (diagnosis.ok) {
      const topics = [output.topic, ...routed].map((topic) => `"${topic}"`).join(', ');
      println(io, `OK: ${what} can reach Kafka and write to ${topics}.`);
      return EXIT_OK;
    }
    const failed = STAGES.find((stage) => stage.name === diagnosis.failed);
    println(
      io,
      `FAILED at stage ${failed === undefined ? '?' : STAGES.indexOf(failed) + 1} (${failed?.label ?? diagnosis.failed}).`,
    );
    return EXIT_FAILED;
  },
};

const COLORS: Record<StageResult['status'], string> = { pass: '32', warn: '33', fail: '31', skip: '90' };

function printStage(result: StageResult, io: CliIo): void {
  const index = STAGES.findIndex((stage) => stage.name === result.stage);
  const label = STAGES[index].label.padEnd(8);
  const word = result.status.toUpperCase().padEnd(4);
  const status = isInteractive(io) ? `\u001b[${COLORS[result.status]}m${word}\u001b[0m` : word;
  println(io, `[${index + 1}/${STAGES.length}] ${label} ${status}  ${result.summary}`);
  for (const detail of result.details) println(io, `                      ${detail}`);
  if (result.fix !== undefined) println(io, `                      fix: ${result.fix}`);
}
