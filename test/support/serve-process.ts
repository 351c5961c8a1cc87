// Runs the real `kafka-forwarder serve --config FILE` (src/cli/main.ts, as the bin does) in a child
// process and waits until it listens. Tests signal it (SIGTERM, SIGKILL) and search what it wrote,
// so the CLI's own shutdown path, deadline and exit code are what they exercise.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const CLI_ENTRY = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServeProcess {
  readonly pid: number;
  /** The ingest port. */
  readonly port: number;
  /** The admin listener's port: /metrics, /healthz, /readyz. */
  readonly adminPort: number;
  readonly process: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code or signal once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

export interface ServeOptions {
  readonly env?: NodeJS.ProcessEnv;
  /**
   * How to start it: the CLI entry on this Node (default), or `npm start` in the repository, the
   * command the README documents (the config then comes through KAFKA_FORWARDER_CONFIG).
   */
  readonly via?: 'cli' | 'npm-start';
  /** An executable to run as the command instead (e.g. an installed package's bin), with the same arguments. */
  readonly command?: string;
  /** Node flags for the CLI process (e.g. the server's V8 flags, --cpu-prof); not with npm-start. */
  readonly nodeArgs?: readonly string[];
  /** Shell commands run before exec'ing node, e.g. `trap '' XFSZ; ulimit -f 4096` (cli only). */
  readonly shellPrefix?: string;
  /** Also wait until /readyz answers 200 (ready, or degraded): the spool is open and ingest takes batches. */
  readonly waitForReady?: boolean;
  readonly startTimeoutMs?: number;
}

/** Starts `serve`; resolves once its "listening" log line names the ports (the config may say port 0). */
export async function startServe(configPath: string, options: ServeOptions = {}): Promise<ServeProcess> {
  const child =
    options.via === 'npm-start'
      ? spawn('npm', ['start', '--silent'], {
          cwd: REPO_ROOT,
          env: { ...process.env, ...options.env, KAFKA_FORWARDER_CONFIG: configPath },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : options.command !== undefined
        ? spawn(options.command, ['serve', '--config', configPath, ...logLevelArgs(configPath)], {
            env: { ...process.env, ...options.env },
            stdio: ['ignore', 'pipe', 'pipe'],
          })
        : spawnCli(
            [...(options.nodeArgs ?? []), CLI_ENTRY, 'serve', '--config', configPath, ...logLevelArgs(configPath)],
            options,
          );
  const chunks: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => chunks.push(text));
  let port: number | undefined;
  let adminPort: number | undefined;
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      chunks.push(text);
      if (port !== undefined) return;
      const match = /"listening":"[^"]*:(\d+)","admin":"[^"]*:(\d+)"/.exec(chunks.join(''));
      if (match === null) return;
      port = Number(match[1]);
      resolve((adminPort = Number(match[2])));
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`serve exited (${code ?? signal}) before listening:\n${chunks.join('').slice(-4000)}`)),
    );
    setTimeout(
      () => reject(new Error(`serve did not listen in time:\n${chunks.join('').slice(-4000)}`)),
      options.startTimeoutMs ?? 30_000,
    ).unref();
  });
  try {
    const admin = await listening;
    if (options.waitForReady === true) await waitForReadyz(admin, options.startTimeoutMs ?? 30_000, chunks);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    pid: child.pid ?? 0,
    port: port ?? 0,
    adminPort: adminPort ?? 0,
    process: child,
    output: () => chunks.join(''),
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

async function waitForReadyz(adminPort: number, timeoutMs: number, chunks: readonly string[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`serve never became ready:\n${chunks.join('').slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The port comes from the "listening" line, an info line: a config that logs only warnings and
 * worse is run at info, so that the port (a config may say 0) can be read.
 */
function logLevelArgs(configPath: string): string[] {
  const level = (parse(readFileSync(configPath, 'utf8')) as { log_level?: string } | null)?.log_level ?? 'info';
  return ['warn', 'error', 'fatal', 'silent'].includes(level) ? ['--log-level', 'info'] : [];
}

function spawnCli(args: string[], options: ServeOptions) {
  const spawnOptions = {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[],
  };
  if (options.shellPrefix === undefined) return spawn(process.execPath, args, spawnOptions);
  // exec: the shell is replaced by node, so signals and the exit status are the server's own.
  return spawn('/bin/sh', ['-c', `${options.shellPrefix}; exec "$0" "$@"`, process.execPath, ...args], spawnOptions);
}

/** The spool's recovery report, from the "spool opened…" log line (info, or warn after an unclean shutdown). */
export async function spoolRecovery(served: ServeProcess, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const line of served.output().split('\n')) {
      if (!line.includes('"msg":"spool opened') || !line.includes('"recovery"')) continue;
      return (JSON.parse(line) as { recovery: Record<string, unknown> }).recovery;
    }
    if (Date.now() > deadline) throw new Error(`no "spool opened" line:\n${served.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
