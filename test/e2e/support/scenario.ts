// Shared scaffolding for the fault tests: a temp directory with a config, the forwarder child,
// the load generator, and the waits in between.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `kf-e2e-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

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
