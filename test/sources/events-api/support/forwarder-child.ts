// Runs the forwarder as its own process, for tests that must kill it (kill -9) or limit it (ulimit).
// argv[2] is a JSON file holding the snake_case config document. Prints one line once listening:
//   READY {"port":…,"recovery":{…}}
// and closes gracefully on SIGTERM.
import { readFileSync } from 'node:fs';
import { buildConfig } from '../../../../src/config/index.ts';
import { startForwarder } from '../../../../src/main.ts';
import { silentLogger } from '../../../../src/telemetry/logger.ts';

const config = await buildConfig(JSON.parse(readFileSync(process.argv[2], 'utf8')), { source: process.argv[2] });
const forwarder = await startForwarder(config, { logger: silentLogger() });
const { lastSeq, ...recovery } = forwarder.spool.recovery;
process.stdout.write(
  `READY ${JSON.stringify({ port: forwarder.address.port, recovery: { ...recovery, lastSeq: String(lastSeq) } })}\n`,
);
process.once('SIGTERM', () => {
  void forwarder.close().then(() => process.exit(0));
});
