// Loading the configuration for a command: on failure, print every problem (never a secret: the
// loader's messages leave secret values out) and give the exit code for a configuration error.
import { ConfigInvalidError, configPath, loadConfig, loadConfigWithoutSecrets } from '../config/index.ts';
import type { ForwarderConfig, OutputConfig, UnavailableSecret } from '../config/index.ts';
import { isForwarderError } from '../errors.ts';
import { EXIT_USAGE, stringValue, type ParsedArgs } from './args.ts';
import { eprintln, type CliIo } from './io.ts';

export interface LoadedConfig {
  readonly config: ForwarderConfig;
  readonly path: string;
  /** With `secrets: 'when-available'`: the secrets that are not available here. */
  readonly unavailableSecrets: readonly UnavailableSecret[];
}

export interface CliConfigNeeds {
  /**
   * 'all' (serve, test-connection, send-sample): every secret must resolve. 'intake' (spool
   * status, dlq): only those of spool.kafka, and only in cluster mode, where the command connects
   * to the intake cluster. 'none' (check): missing secrets are listed, not refused.
   */
  readonly secrets?: 'all' | 'intake' | 'none';
}

/** The configuration, or the exit code after the problems were printed to stderr. */
export async function loadCliConfig(
  args: ParsedArgs,
  io: CliIo,
  needs: CliConfigNeeds = {},
): Promise<LoadedConfig | number> {
  const options = { path: stringValue(args, 'config'), env: io.env };
  const path = configPath(options);
  try {
    if ((needs.secrets ?? 'all') === 'all') return { config: await loadConfig(options), path, unavailableSecrets: [] };
    const { config, unavailableSecrets } = await loadConfigWithoutSecrets(options);
    const needed =
      needs.secrets === 'intake' && config.spool.kind === 'kafka'
        ? unavailableSecrets.filter(({ setting }) => setting.startsWith('spool.kafka.'))
        : [];
    if (needed.length > 0) {
      eprintln(io, `kafka-forwarder: this command connects to the intake cluster (spool.kind: kafka) and needs:`);
      for (const { setting, why } of needed) eprintln(io, `  - ${setting}: ${why}`);
      return EXIT_USAGE;
    }
    return { config, path, unavailableSecrets };
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
export function describeSecurity(
  output: Pick<OutputConfig, 'username' | 'authenticationMethod' | 'clientCertPem'>,
): string {
  if (output.username !== undefined) return `SASL_SSL ${output.authenticationMethod} as "${output.username}"`;
  return output.clientCertPem !== undefined ? 'SSL with a client certificate (mTLS)' : 'SSL (no client authentication)';
}
