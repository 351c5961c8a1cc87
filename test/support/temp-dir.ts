// Temporary directories for tests: each named kf-<prefix>-XXXXXX under the OS temp dir, and
// removed by its own remove().
import { mkdtempSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface TempDir {
  readonly dir: string;
  remove(): Promise<void>;
}

function tempDirAt(dir: string): TempDir {
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function tempDir(prefix: string): Promise<TempDir> {
  return tempDirAt(await mkdtemp(path.join(os.tmpdir(), `kf-${prefix}-`)));
}

/** For setup code that cannot await. */
export function tempDirSync(prefix: string): TempDir {
  return tempDirAt(mkdtempSync(path.join(os.tmpdir(), `kf-${prefix}-`)));
}
