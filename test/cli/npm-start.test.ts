// The README's way to run the server, `npm start`, must stop when its supervisor (systemd, a
// container runtime, Kubernetes) signals the pid it started: npm's own. SIGTERM to npm reaches the
// server (the script execs node, and npm forwards the signal to its child), which shuts down
// gracefully: every batch answered 202 reaches Kafka, and no process is left behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { getTestKafkaCluster, uniqueTopicName } from '../support/kafka.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { writeE2eConfig } from '../e2e/support/config.ts';
import { LoadGenerator } from '../e2e/support/load.ts';
import { httpGet } from '../e2e/support/metrics.ts';
import { credentials, newRunId, tempDir, waitUntil } from '../e2e/support/scenario.ts';
import { verifyDelivery } from '../e2e/support/verify.ts';

let served: ServeProcess | undefined;
/** The server's own pid(s), so that a server npm failed to stop is not left running. */
let servers: number[] = [];
let temp: Awaited<ReturnType<typeof tempDir>> | undefined;

after(async () => {
  served?.kill('SIGKILL');
  for (const pid of servers) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  await temp?.remove();
});

/** The pids of processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('SIGTERM to the `npm start` pid stops the server cleanly and loses nothing', { timeout: 120_000 }, async (t) => {
  const cluster = await getTestKafkaCluster(1);
  const topic = uniqueTopicName('npm-start');
  await cluster.createTopic(topic, { partitions: 3 });
  temp = await tempDir('npm-start');
  const auth = credentials();
  const configPath = await writeE2eConfig({
    dir: temp.dir,
    cluster,
    security: 'SCRAM-SHA-512',
    topic,
    ...auth,
    logLevel: 'info',
  });
  served = await startServe(configPath, { via: 'npm-start' });
  const { port, adminPort } = served;
  await waitUntil('ready', async () => (await httpGet(adminPort, '/readyz')).status === 200, 30_000);
  servers = childrenOf(served.pid);
  assert.equal(servers.length, 1, 'npm runs the server as its one child (the script execs node)');

  const runId = newRunId();
  const load = new LoadGenerator({
    port,
    ...auth,
    runId,
    users: 10,
    concurrency: 2,
    eventsPerBatch: 3,
    maxEvents: 600,
  });
  const result = await load.start().finished();
  assert.equal(result.acceptedEvents, 600);

  served.kill('SIGTERM');
  const exit = await served.exited;
  t.diagnostic(`npm start exited with ${exit.code ?? exit.signal}`);
  assert.equal(exit.code, 0, `npm start exits 0:\n${served.output().slice(-2000)}`);
  assert.match(served.output(), /"msg":"shutting down"/, 'the server itself received the signal');
  assert.match(served.output(), /"msg":"stopped"/);
  await waitUntil('the server process is gone', () => !isRunning(servers[0]), 10_000);

  const report = await verifyDelivery(cluster, { topic, runId, accepted: result.accepted, timeoutMs: 30_000 });
  assert.deepEqual(report.missing, [], 'every batch answered 202 reached Kafka');
});
