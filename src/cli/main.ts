// The kafka-forwarder command line: picks the command from the first words of argv, parses its
// options with node:util parseArgs, and turns the outcome into an exit code (0 done, 1 failed,
// 2 bad usage or configuration). `node src/cli/main.ts <command>` or the kafka-forwarder bin.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  commandHelp,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  parseCommandArgs,
  UsageError,
  type CommandDefinition,
} from './args.ts';
import { checkCommand } from './commands/index.ts';
import { dlqListCommand, dlqReplayCommand, dlqShowCommand } from './commands/index.ts';
import { sendSampleCommand } from './commands/index.ts';
import { serveCommand } from './commands/index.ts';
import { spoolStatusCommand } from './commands/index.ts';
import { testConnectionCommand } from './commands/index.ts';
import { eprintln, println, processIo, type CliIo } from './io.ts';
import { BUILD_INFO } from '../telemetry/index.ts';
import { closest } from '../config/index.ts';

export const COMMANDS: readonly CommandDefinition[] = [
  serveCommand,
  checkCommand,
  testConnectionCommand,
  sendSampleCommand,
  spoolStatusCommand,
  dlqListCommand,
  dlqShowCommand,
  dlqReplayCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.path.join(' ').length));
  return [
    'Usage: kafka-forwarder <command> [options]',
    '',
    'A self-hosted, mParticle-compatible event forwarder: takes Events API batches over HTTP and forwards them to Kafka.',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.path.join(' ').padEnd(width)}  ${command.summary}`),
    '',
    'Run kafka-forwarder help <command> (or <command> --help) for the options of a command,',
    'and kafka-forwarder --version for the version.',
  ].join('\n');
}

/** Finds the command whose words start argv (the longest match), or undefined. */
function findCommand(argv: readonly string[]): CommandDefinition | undefined {
  return [...COMMANDS]
    .sort((a, b) => b.path.length - a.path.length)
    .find((command) => command.path.every((word, index) => argv[index] === word));
}

export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  if (argv[0] === 'help' && argv.length > 1) return runCli([...argv.slice(1), '--help'], io);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    println(io, overview());
    return argv.length === 0 ? EXIT_USAGE : EXIT_OK;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    println(io, `kafka-forwarder ${BUILD_INFO.version} (Node.js ${BUILD_INFO.node})`);
    return EXIT_OK;
  }
  const command = findCommand(argv);
  if (command === undefined) {
    const group = COMMANDS.filter((candidate) => candidate.path[0] === argv[0]);
    if (group.length > 0 && (argv[1] === undefined || argv[1] === '--help' || argv[1] === '-h')) {
      println(io, `Usage: kafka-forwarder ${argv[0]} <${group.map((c) => c.path[1]).join('|')}> [options]\n`);
      for (const member of group) println(io, `  ${member.path.join(' ').padEnd(14)}  ${member.summary}`);
      return argv[1] === undefined ? EXIT_USAGE : EXIT_OK;
    }
    const unknown = argv.slice(0, group.length > 0 ? 2 : 1).join(' ');
    const guess = closest(
      unknown,
      COMMANDS.map((candidate) => candidate.path.slice(0, group.length > 0 ? 2 : 1).join(' ')),
    );
    eprintln(
      io,
      `kafka-forwarder: unknown command "${unknown}"${guess === undefined ? '' : `; did you mean "${guess}"?`}\n`,
    );
    eprintln(io, overview());
    return EXIT_USAGE;
  }
  try {
    const parsed = parseCommandArgs(command, argv.slice(command.path.length));
    if (parsed === 'help') {
      println(io, commandHelp(command));
      return EXIT_OK;
    }
    return await command.run(parsed, io);
  } catch (error) {
    if (error instanceof UsageError) {
      eprintln(io, `kafka-forwarder ${command.path.join(' ')}: ${error.message}`);
      eprintln(io, `Run kafka-forwarder ${command.path.join(' ')} --help for usage.`);
      return EXIT_USAGE;
    }
    eprintln(io, `kafka-forwarder ${command.path.join(' ')}: ${(error as Error).message}`);
    return EXIT_FAILED;
  }
}

// Run when executed as `node src/cli/main.ts` (npm start); the bin launcher calls runCli itself.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await runCli(process.argv.slice(2));
}
