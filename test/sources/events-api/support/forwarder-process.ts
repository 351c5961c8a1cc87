// Runs the real `kafka-forwarder serve` (test/support/serve-process.ts) on a test config, optionally
// under a shell prefix (e.g. a ulimit), for tests that kill or limit it.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { spoolRecovery, startServe } from '../../../support/serve-process.ts';
import { rawTestConfig } from './forwarder.ts';
import type { ConfigOverrides } from './forwarder.ts';

export interface ChildForwarder {
  readonly child: ChildProcess;
  readonly url: string;
  /** The admin listener: /metrics, /healthz, /readyz. */
  readonly adminUrl: string;
  readonly recovery: Record<string, unknown>;
  /** Resolves with the exit code or signal once the process has ended. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
}

export interface ChildOptions extends ConfigOverrides {
  /** Shell commands run before exec'ing node, e.g. `trap '' XFSZ; ulimit -f 4096`. */
  readonly shellPrefix?: string;
}

export async function startChildForwarder(options: ChildOptions): Promise<ChildForwarder> {
  // JSON is YAML: the real CLI reads the same document.
  const configFile = join(options.spoolDir, '..', `${basename(options.spoolDir)}.config.yaml`);
  writeFileSync(configFile, JSON.stringify(rawTestConfig(options)));
  const served = await startServe(configFile, { shellPrefix: options.shellPrefix });
  const recovery = await spoolRecovery(served);
  return {
    child: served.process,
    url: `http://127.0.0.1:${served.port}`,
    adminUrl: `http://127.0.0.1:${served.adminPort}`,
    recovery,
    exited: served.exited.then(({ code, signal }) => signal ?? code),
  };
}
