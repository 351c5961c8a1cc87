// Starts support/forwarder-child.ts as a child process with the project's Node 24, optionally under a
// shell prefix (e.g. a ulimit), and waits for its READY line.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { rawTestConfig } from './forwarder.ts';
import type { ConfigOverrides } from './forwarder.ts';

// The Node running this test (the one the project pins), wherever the clone lives.
export const NODE = process.execPath;
const CHILD = new URL('./forwarder-child.ts', import.meta.url).pathname;

export interface ChildForwarder {
  readonly child: ChildProcess;
  readonly url: string;
  readonly recovery: Record<string, unknown>;
  /** Resolves with the exit code or signal once the process has ended. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
}

export interface ChildOptions extends ConfigOverrides {
  /** Shell commands run before exec'ing node, e.g. `trap '' XFSZ; ulimit -f 4096`. */
  readonly shellPrefix?: string;
}

export async function startChildForwarder(options: ChildOptions): Promise<ChildForwarder> {
  const configFile = join(options.spoolDir, '..', `${options.spoolDir.split('/').pop()}.config.json`);
  writeFileSync(configFile, JSON.stringify(rawTestConfig(options)));
  const child =
    options.shellPrefix === undefined
      ? spawn(NODE, [CHILD, configFile], { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('/bin/sh', ['-c', `${options.shellPrefix}; exec "$0" "$@"`, NODE, CHILD, configFile], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise<{ port: number; recovery: Record<string, unknown> }>((resolve, reject) => {
    lines.once('line', (line) => {
      if (line.startsWith('READY '))
        resolve(JSON.parse(line.slice(6)) as { port: number; recovery: Record<string, unknown> });
      else reject(new Error(`unexpected output from the forwarder child: ${line}`));
    });
    void exited.then((how) => reject(new Error(`the forwarder child exited before it was ready (${how})`)));
  });
  return { child, url: `http://127.0.0.1:${ready.port}`, recovery: ready.recovery, exited };
}
