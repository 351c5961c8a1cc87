// The configuration module's public face: load a config, its types, defaults and secrets list.

export {
  loadConfig,
  loadConfigWithoutSecrets,
  parseConfig,
  buildConfig,
  configPath,
  CONFIG_PATH_ENV,
  DEFAULT_CONFIG_PATH,
} from './load.ts';
export type { LoadConfigOptions, BuildConfigOptions, OfflineConfig } from './load.ts';
export type { UnavailableSecret } from './offline-secrets.ts';
export {
  configSchema,
  defaultConnectionSettings,
  defaultOutputSettings,
  defaultServerConfig,
  defaultAdminConfig,
  defaultSpoolConfig,
  defaultLogLevel,
} from './schema.ts';
export { redactConfig, secretConfigPaths, secretSettingPaths, REDACTED } from './secrets.ts';
export { ConfigInvalidError } from './problems.ts';
export type { ConfigProblem } from './problems.ts';
export { parseBootstrapServers } from './bootstrap-servers.ts';
export type * from './types.ts';
export type { Compression, ConnectionConfig, ConnectionSettings, ForwarderConfig, OutputConfig } from './types.ts';
export { levenshtein } from './did-you-mean.ts';
export { closest } from './did-you-mean.ts';
