// Python tools the tests use (mParticle's Python SDK, schemathesis), each installed from PyPI at a
// pinned version into its own virtual environment under .cache/ the first time a test needs it.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CACHE = fileURLToPath(new URL('../../.cache/', import.meta.url));

/** The venv's directory, with `requirement` (e.g. `mparticle==0.16.1`) installed in it. */
export function pythonVenv(name: string, requirement: string): string {
  const venv = path.join(CACHE, `${name}-${requirement.replace(/[^\w.-]+/g, '-')}`);
  const marker = path.join(venv, '.installed');
  if (!existsSync(marker)) {
    execFileSync('python3', ['-m', 'venv', '--clear', venv], { stdio: 'pipe' });
    execFileSync(
      path.join(venv, 'bin', 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', requirement],
      { stdio: 'pipe', timeout: 300_000 },
    );
    writeFileSync(marker, `${requirement}\n`);
  }
  return venv;
}
