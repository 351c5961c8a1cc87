// The forwarder of the end-to-end tests is the real `kafka-forwarder serve` (test/support/serve-process.ts),
// so kill -9, SIGTERM and shutdown tests exercise the CLI's own shutdown path. spawnForwarder resolves once
// the server is ready (its spool is open).
import { startServe, type ServeOptions, type ServeProcess } from '../../support/serve-process.ts';

export type ForwarderChild = ServeProcess;

export function spawnForwarder(configPath: string, options: ServeOptions = {}): Promise<ForwarderChild> {
  return startServe(configPath, { waitForReady: true, ...options });
}

/** Kills the child (SIGKILL) if it still runs and waits for it; for `after` hooks. */
export async function killForwarder(child: ForwarderChild | undefined): Promise<void> {
  if (child === undefined) return;
  child.kill('SIGKILL');
  await child.exited;
}
