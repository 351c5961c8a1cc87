// The published /openapi.json and the server agree: schemathesis (pinned, from PyPI) generates
// requests from our own schema, schema-valid and not, and checks every answer (--checks all): no
// schema-valid request may be rejected, and no response may break the schema. A fixed seed keeps
// the run repeatable; any failure it prints names the request to reproduce.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pythonVenv } from '../../support/python-venv.ts';
import { API_KEY, API_SECRET, startTestForwarder, type TestForwarder } from './support/forwarder.ts';

let server: TestForwarder;
before(async () => {
  server = await startTestForwarder({ spool: { max_bytes: 1024 * 1024 * 1024 } });
});
after(async () => {
  await server.close();
});

test('schemathesis finds no disagreement between /openapi.json and the server', { timeout: 600_000 }, async (t) => {
  const st = path.join(pythonVenv('schemathesis'), 'bin', 'st');
  const workDir = mkdtempSync(path.join(tmpdir(), 'kf-schemathesis-'));
  t.after(() => rmSync(workDir, { recursive: true, force: true }));
  // Asynchronously: the server under test runs in this process and must keep answering.
  const child = spawn(
    st,
    [
      'run',
      `${server.url}/openapi.json`,
      '--checks',
      'all',
      '--auth',
      `${API_KEY}:${API_SECRET}`,
      '--max-examples',
      '30',
      '--seed',
      '20261201',
      '--no-color',
    ],
    // Its caches (.schemathesis/, .hypothesis/) go to a temporary folder, not into the repository.
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: workDir },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), 540_000);
  const status = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearTimeout(timer);
  const run = { status, stdout, stderr };
  const output = `${run.stdout}${run.stderr}`;
  const summary = /Test cases:\s*\n\s*(.*)/.exec(output)?.[1] ?? '';
  t.diagnostic(`schemathesis: ${summary.trim()}`);
  assert.equal(run.status, 0, `schemathesis found problems:\n${output.slice(-6000)}`);
  assert.match(output, /No issues found/);
});
