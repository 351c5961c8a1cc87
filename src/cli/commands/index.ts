// The public face of cli/commands/: what other folders of src/ may import from it.
export { checkCommand } from './check.ts';
export { dlqListCommand, dlqReplayCommand, dlqShowCommand } from './dlq.ts';
export { sendSampleCommand } from './send-sample.ts';
export { serveCommand } from './serve.ts';
export { spoolStatusCommand } from './spool-status.ts';
export { testConnectionCommand } from './test-connection.ts';
