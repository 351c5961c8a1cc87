// Starts the forwarder as a child process (forwarder-child.ts) and keeps everything it writes,
// so tests can signal it (SIGKILL, SIGTERM) and search its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD_ENTRY = fileURLToPath(new URL('./forwarder-child.ts', import.meta.url));

export interface ForwarderChild {
  readonly pid: number;
  readonly port: number;
  readonly process: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code or signal once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Extra node flags, e.g. ['--cpu-prof']. */
  readonly nodeArgs?: string[];
  readonly startTimeoutMs?: number;
}

export async function spawnForwarder(configPath: string, options: SpawnOptions = {}): Promise<ForwarderChild> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CHILD_ENTRY, configPath], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let port: number | undefined;
  let pending = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => chunks.push(text));
  const started = new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      chunks.push(text);
      if (port !== undefined) return;
      pending += text;
      const match = /\{"forwarderPort":(\d+)\}/.exec(pending);
      if (match !== null) {
        port = Number(match[1]);
        pending = '';
        resolve(port);
      }
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`forwarder exited (${code ?? signal}) before listening:\n${chunks.join('').slice(-4000)}`)),
    );
    setTimeout(
      () => reject(new Error(`forwarder did not listen in time:\n${chunks.join('').slice(-4000)}`)),
      options.startTimeoutMs ?? 30_000,
    ).unref();
  });
  try {
    await started;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    pid: child.pid ?? 0,
    port: port ?? 0,
    process: child,
    output: () => chunks.join(''),
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Kills the child (SIGKILL) if it still runs and waits for it; for `after` hooks. */
export async function killForwarder(child: ForwarderChild | undefined): Promise<void> {
  if (child === undefined) return;
  child.kill('SIGKILL');
  await child.exited;
}
