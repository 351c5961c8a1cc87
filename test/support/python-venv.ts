// Python tools the tests use (mParticle's Python SDK, schemathesis), each installed from PyPI at a
// pinned version into its own virtual environment under .cache/ the first time it is needed.
//
// The test runner starts installing them in the background as the run begins (`--prepare`, below),
// so that the downloads overlap the Kafka tests instead of adding to the run; a test that needs a
// tool meanwhile waits for that install rather than starting a second one (a lock directory).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CACHE = fileURLToPath(new URL('../../.cache/', import.meta.url));

/** Every Python tool a test uses, pinned. */
export const PYTHON_TOOLS = {
  'python-sdk': 'mparticle==0.16.1',
  schemathesis: 'schemathesis==4.32.5',
} as const;

export type PythonTool = keyof typeof PYTHON_TOOLS;

/** Whether the process that holds the lock is gone (killed mid-install): the lock is then stale. */
function lockHolderGone(lock: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(path.join(lock, 'pid'), 'utf8'), 10);
  } catch {
    // Just made, its pid not written yet; or gone already.
    return false;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The venv's directory, with the tool's pinned requirement installed in it. */
export function pythonVenv(tool: PythonTool): string {
  const requirement = PYTHON_TOOLS[tool];
  const venv = path.join(CACHE, `${tool}-${requirement.replace(/[^\w.-]+/g, '-')}`);
  const marker = path.join(venv, '.installed');
  const lock = `${venv}.installing`;
  while (!existsSync(marker)) {
    try {
      mkdirSync(CACHE, { recursive: true });
      mkdirSync(lock);
    } catch {
      // Another process installs it: wait for it to finish, or take over if it died.
      if (lockHolderGone(lock)) rmSync(lock, { recursive: true, force: true });
      sleepSync(250);
      continue;
    }
    writeFileSync(path.join(lock, 'pid'), String(process.pid));
    try {
      if (!existsSync(marker)) {
        execFileSync('python3', ['-m', 'venv', '--clear', venv], { stdio: 'pipe' });
        execFileSync(
          path.join(venv, 'bin', 'python'),
          ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', requirement],
          { stdio: 'pipe', timeout: 300_000 },
        );
        writeFileSync(marker, `${requirement}\n`);
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return venv;
}

// `node test/support/python-venv.ts --prepare tool…`: installs them (the test runner's background job).
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--prepare') {
  for (const tool of process.argv.slice(3)) {
    if (tool in PYTHON_TOOLS) pythonVenv(tool as PythonTool);
  }
}
