// Shared scaffolding for the fault tests: a temp directory with a config, the forwarder child,
// the load generator, and the waits in between.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };
export { tempDir } from '../../support/temp-dir.ts';

export function newRunId(): string {
  return randomBytes(6).toString('hex');
}

export function credentials(): { apiKey: string; apiSecret: string } {
  return { apiKey: `key-${randomBytes(4).toString('hex')}`, apiSecret: `secret-${randomBytes(16).toString('hex')}` };
}

/** Waits until `condition` returns true, polling; throws with `what` after timeoutMs. */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}
