// npm run bench:ingest — throughput and latency of the Events API with fsync'd group commit.
//
// Starts the real forwarder (bench/lib/ingest-server.ts) as a child process with a fresh spool, then
// drives it from a second process (bench/lib/ingest-load.ts) with realistic batches of 10 events
// (about 3 KB each), phase by phase, and prints for each: batches/s, events/s, p50/p99 latency and
// the server's peak RSS (VmHWM). Targets on a 2-core machine: ≥ 5,000 batches/s accepted, p99 ≤ 25 ms
// at 2,500 batches/s, RSS ≤ 250 MB. Everything targets 127.0.0.1 and stops by itself.
//
//   npm run bench:ingest                     # all phases, ~10 s each
//   BENCH_SECONDS=3 npm run bench:ingest     # shorter phases
//   BENCH_MODES=ingest-only npm run bench:ingest   # full, ingest-only or both (default)
//   BENCH_SERVER_NODE_OPTIONS=--cpu-prof npm run bench:ingest   # profile the server (.cpuprofile in cwd)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const NODE = process.execPath;
const here = (file: string): string => new URL(file, import.meta.url).pathname;

interface Phase {
  readonly name: string;
  readonly mode: 'closed' | 'open';
  /** Concurrency (closed) or batches per second (open). */
  readonly level: number;
  readonly perRequest: number;
}

const PHASES: Phase[] = [
  {
    name: 'max throughput, POST /v2/events (1 batch per request), 64 concurrent',
    mode: 'closed',
    level: 64,
    perRequest: 1,
  },
  {
    name: 'max throughput, POST /v2/bulkevents (10 batches per request), 16 concurrent',
    mode: 'closed',
    level: 16,
    perRequest: 10,
  },
  { name: 'fixed rate 2,500 batches/s, POST /v2/events', mode: 'open', level: 2500, perRequest: 1 },
  {
    name: 'fixed rate 2,500 batches/s, POST /v2/bulkevents (10 batches per request)',
    mode: 'open',
    level: 2500,
    perRequest: 10,
  },
];

interface LoadResult {
  elapsedMs: number;
  requestsAccepted: number;
  batchesAccepted: number;
  eventsAccepted: number;
  avgBatchBytes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statuses: Record<string, number>;
  skipped: number;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}

async function startServer(spoolDir: string, mode: 'full' | 'ingest-only') {
  const configFile = join(spoolDir, '..', `bench-ingest-${mode}.config.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      log_level: 'silent',
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      spool: { path: spoolDir, max_bytes: 8 * 1024 ** 3 },
      inputs: [{ name: 'bench', credentials: [{ api_key: 'bench-key', api_secret: 'bench-secret' }] }],
      // Nothing listens on port 1: every accepted batch stays in the spool, as when Kafka is down.
      outputs: [{ name: 'nowhere', bootstrap_servers: '127.0.0.1:1', topic: 'events' }],
      connections: [{ name: 'bench-to-nowhere', input: 'bench', output: 'nowhere' }],
    }),
  );
  const nodeOptions = process.env.BENCH_SERVER_NODE_OPTIONS;
  const child = spawn(
    NODE,
    [
      ...SERVER_NODE_FLAGS,
      ...(nodeOptions ? nodeOptions.split(' ') : []),
      here('./lib/ingest-server.ts'),
      configFile,
      mode,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      if (line.startsWith('READY ')) resolve(Number(line.slice(6)));
      else reject(new Error(`unexpected server output: ${line}`));
    });
    void exited.then(() => reject(new Error('the server exited before it was ready')));
  });
  return { child, port, exited };
}

function runLoad(port: number, phase: Phase): Promise<LoadResult> {
  const args = [
    here('./lib/ingest-load.ts'),
    String(port),
    phase.mode,
    String(phase.level),
    String(SECONDS),
    String(phase.perRequest),
  ];
  const child = spawn(NODE, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => (output += text));
  // The load generator stops by itself after SECONDS; this only guards against a hang.
  const guard = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 30) * 1000);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      clearTimeout(guard);
      if (code === 0) resolve(JSON.parse(output) as LoadResult);
      else reject(new Error(`the load generator exited with ${code}`));
    });
  });
}

const fmt = (n: number | null, digits = 0): string =>
  n === null || !Number.isFinite(n)
    ? 'n/a'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const MODES = (process.env.BENCH_MODES ?? 'full,ingest-only').split(',') as ('full' | 'ingest-only')[];
const workDir = mkdtempSync(join(tmpdir(), 'kf-bench-ingest-'));
try {
  for (const mode of MODES) {
    // A fresh server and spool per mode, so that neither inherits the other's backlog or memory.
    const server = await startServer(join(workDir, `spool-${mode}`), mode);
    console.log(
      `\n=== ${mode === 'full' ? 'full forwarder (src/main.ts: ingest + connection runner reading the spool; Kafka unreachable)' : 'ingest only (spool + ingest handler + HTTP server, no connection runner)'}` +
        ` — server pid ${server.child.pid}, ${SECONDS} s per phase`,
    );
    try {
      for (const phase of PHASES) {
        const result = await runLoad(server.port, phase);
        const seconds = result.elapsedMs / 1000;
        console.log(`\n${phase.name}`);
        console.log(
          `  batches/s ${fmt(result.batchesAccepted / seconds)}   events/s ${fmt(result.eventsAccepted / seconds)}   ` +
            `requests/s ${fmt(result.requestsAccepted / seconds)}   (batch ≈ ${fmt(result.avgBatchBytes)} bytes)`,
        );
        console.log(
          `  latency p50 ${fmt(result.p50Ms, 2)} ms   p99 ${fmt(result.p99Ms, 2)} ms   max ${fmt(result.maxMs, 2)} ms`,
        );
        console.log(
          `  statuses ${JSON.stringify(result.statuses)}${result.skipped > 0 ? `   not sent (1,024 already in flight) ${result.skipped}` : ''}   ` +
            `server peak RSS so far ${fmt(peakRssMb(server.child.pid!), 1)} MB`,
        );
      }
      console.log(`\nserver peak RSS (VmHWM) ${fmt(peakRssMb(server.child.pid!), 1)} MB`);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
