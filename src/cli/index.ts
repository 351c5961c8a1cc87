// The public face of cli/: what other folders of src/ may import from it.
export { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, configOption, integerValue, stringValue } from './args.ts';
export type { CommandDefinition, ParsedArgs } from './args.ts';
export { describeSecurity, loadCliConfig } from './config.ts';
export { eprintln, formatBytes, formatDuration, formatTable, isInteractive, println } from './io.ts';
export type { CliIo } from './io.ts';
export { prettyJson } from './pretty-json.ts';
export { createProgressBar } from './progress-bar.ts';
export { buildSampleBatches } from './sample-batches.ts';
export { sendBatch, sendBulk } from './send-batches.ts';
export type { SendOutcome, SendTarget } from './send-batches.ts';
export { busyMessage, openSpoolForCli } from './spool-access.ts';
