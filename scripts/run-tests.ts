// npm run test:only [paths…] [--test-name-pattern=…] — runs node --test over test/**/*.test.ts
// (or the given files/folders) with the shared Kafka clusters started once for the whole run.
// npm run test:fast (--fast) — only the files that need no broker, JVM, Python package or Go
// toolchain: the edit–test loop, in well under two minutes.
//
// The clusters are started only when a selected test file uses test/support/kafka.ts (and the
// 3-broker one only when a file asks for it), their descriptor paths handed to the test processes
// in KAFKA_FORWARDER_TEST_CLUSTER / KAFKA_FORWARDER_TEST_CLUSTER3, and stopped at the end. No broker
// outlives the run: on SIGINT/SIGTERM/SIGHUP this script stops them, and if it is killed outright
// (SIGKILL) each broker's watchdog sees its owner gone and kills the broker.
import { spawn, type ChildProcess } from 'node:child_process';
import { globSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { startKafkaCluster, type KafkaCluster } from '../tools/kafka/cluster.ts';
import { ensureKafkaJars } from '../tools/kafka/jars.ts';
import { repoRoot } from '../tools/kafka/paths.ts';

const TEST_CLUSTER_ENV = { 1: 'KAFKA_FORWARDER_TEST_CLUSTER', 3: 'KAFKA_FORWARDER_TEST_CLUSTER3' } as const;
/** node --test options that take a value as the next argument. */
const OPTIONS_WITH_VALUE = new Set([
  '--test-name-pattern',
  '--test-skip-pattern',
  '--test-concurrency',
  '--test-reporter',
  '--test-reporter-destination',
  '--test-timeout',
  '--test-shard',
]);

/**
 * What puts a test file in the slow tier: it uses a Kafka cluster (shared or its own), installs
 * Python packages, or builds the deploy-file checkers with Go.
 */
const SLOW_TIER = [
  { why: 'Kafka', source: /support\/kafka\.ts|tools\/kafka\/cluster\.ts|holds-kafka\.ts/ },
  { why: 'Python packages', source: /python-venv\.ts/ },
  { why: 'deploy-file checkers', path: /(^|\/)test\/deploy\// },
] as const;

function isSlow(file: string, source: string): boolean {
  return SLOW_TIER.some((rule) =>
    'source' in rule ? rule.source.test(source) : rule.path.test(path.relative(repoRoot, file)),
  );
}

function parseArgs(argv: string[]): { nodeOptions: string[]; paths: string[]; fast: boolean } {
  const nodeOptions: string[] = [];
  const paths: string[] = [];
  let fast = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--fast') {
      fast = true;
    } else if (arg.startsWith('--')) {
      nodeOptions.push(arg);
      if (!arg.includes('=') && OPTIONS_WITH_VALUE.has(arg) && i + 1 < argv.length) nodeOptions.push(argv[++i]);
    } else {
      paths.push(arg);
    }
  }
  return { nodeOptions, paths, fast };
}

function testFiles(paths: string[]): string[] {
  const roots = paths.length > 0 ? paths : ['test'];
  const files = roots.flatMap((root) => {
    const absolute = path.resolve(root);
    if (statSync(absolute).isDirectory()) {
      return globSync('**/*.test.ts', { cwd: absolute }).map((file) => path.join(absolute, file));
    }
    return [absolute];
  });
  return [...new Set(files)].sort();
}

function log(message: string): void {
  console.log(`[run-tests] ${message}`);
}

const { nodeOptions, paths, fast } = parseArgs(process.argv.slice(2));
// Set when this runner is itself started from a test; a nested `node --test` would then report
// to a parent that is not listening instead of running the files.
delete process.env.NODE_TEST_CONTEXT;
process.chdir(repoRoot);
const allFiles = testFiles(paths);
const allSources = allFiles.map((file) => readFileSync(file, 'utf8'));
const selected = allFiles.map((_, i) => !fast || !isSlow(allFiles[i], allSources[i]));
const files = allFiles.filter((_, i) => selected[i]);
const sources = allSources.filter((_, i) => selected[i]);
if (fast)
  log(`fast tier: ${files.length} of ${allFiles.length} test files (no Kafka, Python or Go); npm test runs all`);
const needs1 = sources.some((source) => source.includes('support/kafka.ts'));
const needs3 = sources.some((source) => /getTestKafkaCluster\(\s*3\s*\)|KAFKA_FORWARDER_TEST_CLUSTER3/.test(source));

const clusters: KafkaCluster[] = [];
let child: ChildProcess | undefined;
let stopping: Promise<void> | undefined;

function stopClusters(): Promise<void> {
  stopping ??= Promise.all(
    clusters.map((cluster) => cluster.stop().catch(() => cluster.signalAllSync('SIGKILL'))),
  ).then(() => undefined);
  return stopping;
}

const SIGNAL_EXIT_CODES: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(name, () => {
    log(`${name}: stopping tests and Kafka…`);
    child?.kill('SIGTERM');
    void stopClusters().finally(() => process.exit(SIGNAL_EXIT_CODES[name]));
  });
}
// Last resort if something exits without going through stopClusters (the watchdogs also cover it).
process.on('exit', () => {
  for (const cluster of clusters) cluster.signalAllSync('SIGKILL');
});

async function startShared(brokers: 1 | 3): Promise<void> {
  const existing = process.env[TEST_CLUSTER_ENV[brokers]];
  if (existing !== undefined && existing !== '') {
    log(`using the ${brokers}-broker cluster of ${existing}`);
    return;
  }
  const started = Date.now();
  let cluster;
  // Once more after a broker dies at start: the two shared clusters start side by side, and a
  // port one of them was given (free when asked for) can be taken before its broker binds it.
  // The failed attempt's brokers are stopped; a second failure is real and ends the run.
  for (let attempt = 1; ; attempt++) {
    try {
      cluster = await startKafkaCluster({
        brokers,
        onProgress: (message) => log(`kafka${brokers}: ${message}`),
      });
      break;
    } catch (error) {
      if (attempt >= 2) throw error;
      log(
        `kafka${brokers}: start failed (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); trying once more`,
      );
    }
  }
  clusters.push(cluster);
  process.env[TEST_CLUSTER_ENV[brokers]] = cluster.descriptorPath;
  log(`${brokers}-broker Kafka ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * The Python tools the selected files use start installing now, in the background, so that their
 * downloads overlap the Kafka start and the tests before them (test/support/python-venv.ts).
 */
function preparePythonTools(): void {
  if (!sources.some((source) => source.includes('python-venv.ts'))) return;
  const prepare = spawn(process.execPath, ['test/support/python-venv.ts', '--prepare', 'python-sdk', 'schemathesis'], {
    stdio: 'ignore',
    detached: false,
  });
  prepare.on('error', () => undefined);
  prepare.unref();
}

let exitCode = 1;
try {
  preparePythonTools();
  if (files.length === 0) {
    log('no test files selected');
    exitCode = 0;
  } else {
    if (needs1 || needs3) {
      await ensureKafkaJars((message) => log(message));
      await Promise.all([needs1 ? startShared(1) : undefined, needs3 ? startShared(3) : undefined]);
    }
    exitCode = await new Promise<number>((resolve) => {
      child = spawn(process.execPath, ['--test', ...nodeOptions, ...files], { stdio: 'inherit', env: process.env });
      child.on('exit', (code, signal) => resolve(code ?? (signal !== null ? 1 : 0)));
    });
  }
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  exitCode = 1;
} finally {
  await stopClusters();
}
process.exit(exitCode);
