// No broker outlives a test run: the runner is killed (SIGKILL, which it cannot handle, and
// SIGINT, which it handles) while a test holds the shared cluster, and every broker JVM must go.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../../tools/kafka/paths.ts';
import { isAlive, signal, waitForExit } from '../../../tools/kafka/processes.ts';

const fixture = path.join(repoRoot, 'test', 'tools', 'kafka', 'fixtures', 'holds-kafka.ts');
const workDir = mkdtempSync(path.join(os.tmpdir(), 'no-orphans-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

/** Waits for the fixture's report; fails at once, with the runner's output, if the runner ends first. */
async function waitForReport(
  file: string,
  timeoutMs: number,
  runnerEnded: () => boolean,
  logFile: string,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file) || readFileSync(file, 'utf8') === '') {
    if (runnerEnded() || Date.now() > deadline) {
      const output = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
      throw new Error(`no report from the fixture (runner ${runnerEnded() ? 'ended' : 'still running'}):\n${output}`);
    }
    await sleep(200);
  }
  return readFileSync(file, 'utf8');
}

for (const killSignal of ['SIGKILL', 'SIGINT'] as const) {
  void test(`a test run stopped with ${killSignal} leaves no Java process behind`, async () => {
    const report = path.join(workDir, `${killSignal}.json`);
    const env: NodeJS.ProcessEnv = { ...process.env, NO_ORPHANS_REPORT: report };
    // The run under test must start its own cluster, not reuse the one of this run.
    delete env.KAFKA_FORWARDER_TEST_CLUSTER;
    delete env.KAFKA_FORWARDER_TEST_CLUSTER3;
    delete env.NODE_TEST_CONTEXT;
    const logFile = path.join(workDir, `${killSignal}.log`);
    const log = openSync(logFile, 'w');
    const runner = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'run-tests.ts'), fixture], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    let ended = false;
    const runnerExit = new Promise<number | null>((resolve) =>
      runner.on('exit', (code) => {
        ended = true;
        resolve(code);
      }),
    );
    let testPid: number | undefined;
    try {
      const { javaPids, testPid: pid } = JSON.parse(await waitForReport(report, 180_000, () => ended, logFile)) as {
        javaPids: number[];
        testPid: number;
      };
      testPid = pid;
      assert.equal(javaPids.length, 1);
      assert.ok(javaPids.every(isAlive), 'the broker runs while the test holds it');

      runner.kill(killSignal);
      const code = await runnerExit;
      if (killSignal === 'SIGINT') assert.equal(code, 130);
      for (const javaPid of javaPids) {
        assert.ok(await waitForExit(javaPid, 30_000), `broker JVM ${javaPid} still running after ${killSignal}`);
      }
    } finally {
      runner.kill('SIGKILL');
      if (testPid !== undefined) signal(testPid, 'SIGKILL');
    }
  });
}
