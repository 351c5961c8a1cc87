// `serve` and errors nobody handled: an uncaught exception or an unhandled rejection after start
// writes one fatal line naming it and exits 1 (for the supervisor to restart), instead of Node's
// bare stack trace on stderr. The error is injected by test/fixtures/fail-after-start.ts through
// `node --import`; no broker is needed, as the output only retries meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/temp-dir.ts';
import { writeConfig } from './support.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/fail-after-start.ts', import.meta.url));

for (const kind of ['uncaughtException', 'unhandledRejection'] as const) {
  test(`serve: an ${kind} logs a fatal line and exits 1`, async () => {
    const temp = await tempDir('fatal');
    try {
      const config = await writeConfig(temp.dir, { bootstrap: '127.0.0.1:1', topic: 'fatal-test' });
      const child = spawn(process.execPath, ['--import', FIXTURE, CLI, 'serve', '--config', config], {
        env: { ...process.env, TEST_API_SECRET: 'fatal-secret', FAIL_AFTER_START: kind },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
      child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(timer);
      assert.equal(code, 1, `exit code\n${stdout}${stderr}`);
      const lines = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: string; msg: string; kind?: string; err?: { message: string } });
      assert.ok(
        lines.some((line) => line.msg.startsWith('listening')),
        'it had started',
      );
      const fatal = lines.filter((line) => line.level === 'fatal');
      assert.equal(fatal.length, 1, stdout);
      assert.equal(fatal[0].kind, kind);
      assert.match(fatal[0].err?.message ?? '', /^injected /);
      assert.doesNotMatch(stdout + stderr, /fatal-secret/, 'no secret in the output');
    } finally {
      await temp.remove();
    }
  });
}
