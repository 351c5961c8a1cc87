// Loads kafka-forwarder.yaml: read, parse YAML, substitute `${ENV_VAR}` references, validate
// against the schema (filling in defaults), read `*_file` settings, check the relations between
// settings, and only then, if nothing at all was wrong, map to the typed `ForwarderConfig`.
// Every problem found on the way is collected and reported together in one CONFIG_INVALID.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ForwarderError } from '../errors.ts';
import { parseBootstrapServers } from './bootstrap-servers.ts';
import { substituteEnv } from './env.ts';
import { ConfigInvalidError, ProblemList } from './problems.ts';
import { snakeToCamel } from './schema.ts';
import { concernsUnavailable, stubUnavailableSecrets, type UnavailableSecret } from './offline-secrets.ts';
import { resolveSecretFiles } from './secret-files.ts';
import { checkSemantics } from './semantic.ts';
import type { ForwarderConfig } from './types.ts';
import { validateAgainstSchema } from './validate.ts';

/** The environment variable naming the configuration file when `--config` is not given. */
export const CONFIG_PATH_ENV = 'KAFKA_FORWARDER_CONFIG';
/** The configuration file used when neither `--config` nor KAFKA_FORWARDER_CONFIG is given. */
export const DEFAULT_CONFIG_PATH = 'kafka-forwarder.yaml';

export interface LoadConfigOptions {
  /** From `--config`; wins over KAFKA_FORWARDER_CONFIG. */
  readonly path?: string;
  /** The environment `${ENV_VAR}` references (and KAFKA_FORWARDER_CONFIG) are read from. */
  readonly env: NodeJS.ProcessEnv;
}

export interface BuildConfigOptions {
  /** The environment `${ENV_VAR}` references are read from; none when omitted. */
  readonly env?: NodeJS.ProcessEnv;
  /** Directory relative `*_file` paths start from; the working directory when omitted. */
  readonly baseDir?: string;
  /** How errors name the configuration, e.g. its file path; "memory" when omitted. */
  readonly source?: string;
  /**
   * 'required' (the default): every secret must resolve. 'when-available', for commands that use
   * none: an unset secret `${VAR}` or an unreadable secret `*_file` becomes a placeholder and is
   * listed in `unavailableSecrets` instead of being a problem (see offline-secrets.ts).
   */
  readonly secrets?: 'required' | 'when-available';
}

/** A configuration loaded with `secrets: 'when-available'`, and the secrets it could not see. */
export interface OfflineConfig {
  readonly config: ForwarderConfig;
  readonly unavailableSecrets: readonly UnavailableSecret[];
}

/** The configuration file to load: `--config`, else KAFKA_FORWARDER_CONFIG, else ./kafka-forwarder.yaml. */
export function configPath(options: LoadConfigOptions): string {
  const chosen = options.path ?? options.env[CONFIG_PATH_ENV];
  return resolve(chosen === undefined || chosen === '' ? DEFAULT_CONFIG_PATH : chosen);
}

/** Reads, validates and types the configuration file. Throws CONFIG_NOT_FOUND, CONFIG_UNREADABLE or CONFIG_INVALID. */
export async function loadConfig(options: LoadConfigOptions): Promise<ForwarderConfig> {
  return (await loadFile(options, 'required')).config;
}

/** loadConfig for commands that use no secret: the ones missing here are listed, not refused. */
export async function loadConfigWithoutSecrets(options: LoadConfigOptions): Promise<OfflineConfig> {
  return await loadFile(options, 'when-available');
}

async function loadFile(
  options: LoadConfigOptions,
  secrets: NonNullable<BuildConfigOptions['secrets']>,
): Promise<OfflineConfig> {
  const path = configPath(options);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ForwarderError('CONFIG_NOT_FOUND', { path }, { cause: error });
    throw new ForwarderError('CONFIG_UNREADABLE', { path, reason: code ?? String(error) }, { cause: error });
  }
  return await parseAndBuild(text, { env: options.env, baseDir: dirname(path), source: path, secrets });
}

/** Validates and types configuration YAML text. Throws CONFIG_INVALID. */
export async function parseConfig(text: string, options: BuildConfigOptions = {}): Promise<ForwarderConfig> {
  return (await parseAndBuild(text, options)).config;
}

async function parseAndBuild(text: string, options: BuildConfigOptions): Promise<OfflineConfig> {
  const source = options.source ?? 'memory';
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    const problems = new ProblemList();
    for (const error of document.errors) {
      // The yaml package appends the offending lines to its messages; they may hold secrets.
      const reason = error.message.split(' at line ')[0];
      const where =
        error.linePos === undefined ? '' : ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}`;
      problems.add('', `is not valid YAML${where}: ${reason}`, 'fix the YAML syntax there');
    }
    throw new ConfigInvalidError(source, problems.items);
  }
  return build(document.toJS(), options);
}

/**
 * Validates and types an already parsed configuration (snake_case keys, as in the YAML file);
 * for tests and embedders. `raw` is not modified. Throws CONFIG_INVALID.
 */
export async function buildConfig(raw: unknown, options: BuildConfigOptions = {}): Promise<ForwarderConfig> {
  return (await build(raw, options)).config;
}

async function build(raw: unknown, options: BuildConfigOptions): Promise<OfflineConfig> {
  const source = options.source ?? 'memory';
  const problems = new ProblemList();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.add(
      '',
      raw === null || raw === undefined ? 'is empty' : 'is not a mapping of settings',
      'start from examples/kafka-forwarder.yaml',
    );
    throw new ConfigInvalidError(source, problems.items);
  }
  const origins = new Map<string, string>();
  const env = options.env ?? {};
  const baseDir = options.baseDir ?? process.cwd();
  let unavailable: UnavailableSecret[] = [];
  if (options.secrets === 'when-available') {
    const stubbed = stubUnavailableSecrets(raw, env, baseDir);
    raw = stubbed.document;
    unavailable = stubbed.unavailable;
  }
  const document = substituteEnv(raw, env, problems, origins);
  validateAgainstSchema(document, problems);
  await resolveSecretFiles(document, baseDir, problems, origins);
  checkSemantics(document, problems, origins);
  const real = problems.items.filter((problem) => !concernsUnavailable(problem.path, unavailable));
  if (real.length > 0) throw new ConfigInvalidError(source, real);
  return { config: toForwarderConfig(document), unavailableSecrets: unavailable };
}

function camelize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelize);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [snakeToCamel(key), camelize(inner)]));
  }
  return value;
}

/** The validated snake_case document as the typed config; bootstrap_servers becomes a list. */
function toForwarderConfig(document: unknown): ForwarderConfig {
  const config = camelize(document) as ForwarderConfig;
  const outputsAsWritten = (document as { outputs: { topic_by_event_type?: Record<string, string> }[] }).outputs;
  config.outputs.forEach((output, index) => {
    output.bootstrapServers = parseBootstrapServers(output.bootstrapServers).servers;
    // Its keys are event types, not setting names: kept as written.
    const routes = outputsAsWritten[index].topic_by_event_type;
    if (routes !== undefined) output.topicByEventType = { ...routes };
  });
  const intake = config.spool.kafka;
  if (intake !== undefined) intake.bootstrapServers = parseBootstrapServers(intake.bootstrapServers).servers;
  return config;
}
