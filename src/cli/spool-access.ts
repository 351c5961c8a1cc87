// Opening the spool from a CLI command while the server is (normally) stopped. SQLite holds the
// spool under an exclusive lock while a forwarder runs, so when the server has it the command says
// so instead of failing obscurely; and a spool that does not exist yet is not created just to be
// reported empty.
import { existsSync } from 'node:fs';
import type { ForwarderConfig } from '../config/index.ts';
import { isForwarderError } from '../errors.ts';
import { openSpool, type Spool } from '../spool/index.ts';

export type SpoolAccess =
  { kind: 'open'; spool: Spool } | { kind: 'missing'; path: string } | { kind: 'busy'; path: string; reason: string };

export async function openSpoolForCli(config: ForwarderConfig): Promise<SpoolAccess> {
  const { path } = config.spool;
  if (!existsSync(path)) return { kind: 'missing', path };
  try {
    const spool = await openSpool({
      dir: path,
      maxBytes: config.spool.maxBytes,
      highWaterRatio: config.spool.highWaterRatio,
      minFreeDiskBytes: config.spool.minFreeDiskBytes,
      dedupWindowMs: config.spool.dedupWindowMs,
      // Looking must not record a clean shutdown: the next serve should still see a crash.
      inspectOnly: true,
    });
    return { kind: 'open', spool };
  } catch (error) {
    if (isForwarderError(error, 'SPOOL_UNAVAILABLE') && /in use by another process/.test(error.message)) {
      return { kind: 'busy', path, reason: error.message };
    }
    throw error;
  }
}

export function busyMessage(path: string): string {
  return `the spool at ${path} is held by a running forwarder (it keeps an exclusive lock); stop the server first`;
}
