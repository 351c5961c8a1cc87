// Loading the configuration for a command: on failure, print every problem (never a secret: the
// loader's messages leave secret values out) and give the exit code for a configuration error.
import { ConfigInvalidError, configPath, loadConfig } from '../config/index.ts';
import type { ForwarderConfig, OutputConfig } from '../config/index.ts';
import { isForwarderError } from '../errors.ts';
import { EXIT_USAGE, stringValue, type ParsedArgs } from './args.ts';
import { eprintln, type CliIo } from './io.ts';

export interface LoadedConfig {
  readonly config: ForwarderConfig;
  readonly path: string;
}

/** The configuration, or the exit code after the problems were printed to stderr. */
export async function loadCliConfig(args: ParsedArgs, io: CliIo): Promise<LoadedConfig | number> {
  const options = { path: stringValue(args, 'config'), env: io.env };
  const path = configPath(options);
  try {
    return { config: await loadConfig(options), path };
  } catch (error) {
    if (error instanceof ConfigInvalidError) {
      eprintln(io, `kafka-forwarder: ${path} has ${error.problems.length} problem(s):`);
      for (const problem of error.problems) {
        eprintln(io, `  - ${problem.path === '' ? '(file)' : problem.path}: ${problem.problem}`);
        eprintln(io, `      fix: ${problem.fix}`);
      }
      return EXIT_USAGE;
    }
    if (isForwarderError(error)) {
      eprintln(io, `kafka-forwarder: ${error.message}`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

/** SASL_SSL with the mechanism, SSL with a client certificate (mTLS), or SSL alone. */
export function describeSecurity(output: OutputConfig): string {
  if (output.username !== undefined) return `SASL_SSL ${output.authenticationMethod} as "${output.username}"`;
  return output.clientCertPem !== undefined ? 'SSL with a client certificate (mTLS)' : 'SSL (no client authentication)';
}
