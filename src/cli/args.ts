// Command-line parsing on node:util parseArgs, with help text every command gets from its own
// definition: the usage line, a description and its options.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { closest } from '../config/index.ts';
import type { CliIo } from './io.ts';

export interface OptionHelp {
  /** As shown in help, e.g. '--config FILE'. */
  readonly flag: string;
  readonly help: string;
}

export interface CommandDefinition {
  /** Words that select it, e.g. ['dlq', 'list']. */
  readonly path: readonly string[];
  readonly summary: string;
  /** After the command words, e.g. '<output> [--config FILE]'. */
  readonly usage: string;
  readonly description?: string;
  readonly options: ParseArgsOptionsConfig;
  readonly optionHelp: readonly OptionHelp[];
  /** Positional arguments allowed: [min, max]. */
  readonly positionals: readonly [number, number];
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: readonly string[];
}

/** Exit codes: 0 done, 1 the operation failed, 2 bad usage or configuration. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const configOption = {
  options: { config: { type: 'string', short: 'c' } },
  help: {
    flag: '-c, --config FILE',
    help: 'configuration file (default: $KAFKA_FORWARDER_CONFIG, else ./kafka-forwarder.yaml)',
  },
} as const;

export const helpOption: OptionHelp = { flag: '-h, --help', help: 'show this help' };

export class UsageError extends Error {}

export function parseCommandArgs(command: CommandDefinition, argv: readonly string[]): ParsedArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usageErrorOf(error as Error & { code?: string }, command);
  }
  if (parsed.values.help === true) return 'help';
  const [min, max] = command.positionals;
  if (parsed.positionals.length < min) throw new UsageError(`missing argument: ${command.usage}`);
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** Our wording for parseArgs' errors: the option named, and what was meant when it looks like a typo. */
function usageErrorOf(error: Error & { code?: string }, command: CommandDefinition): UsageError {
  // parseArgs quotes the option: "Unknown option '--confg'. ...", "Option '-c, --config <value>' argument missing".
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const longNames = [...Object.keys(command.options), 'help'].map((name) => `--${name}`);
    const guess = quoted.startsWith('--') ? closest(quoted, longNames) : undefined;
    return new UsageError(`unknown option ${quoted}${guess === undefined ? '' : `; did you mean ${guess}?`}`);
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = quoted.replace(/ <value>$/, '');
    return new UsageError(/argument missing/.test(error.message) ? `${flag} needs a value` : `${flag} takes no value`);
  }
  return new UsageError(error.message);
}

export function commandHelp(command: CommandDefinition): string {
  const lines = [`Usage: kafka-forwarder ${command.path.join(' ')} ${command.usage}`.trimEnd(), '', command.summary];
  if (command.description !== undefined) lines.push('', command.description);
  const options = [...command.optionHelp, helpOption];
  const width = Math.max(...options.map((option) => option.flag.length));
  lines.push('', 'Options:', ...options.map((option) => `  ${option.flag.padEnd(width)}  ${option.help}`));
  return lines.join('\n');
}

export function stringValue(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function integerValue(args: ParsedArgs, name: string, fallback: number, min = 1): number {
  const text = stringValue(args, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, not "${text}"`);
  return value;
}
