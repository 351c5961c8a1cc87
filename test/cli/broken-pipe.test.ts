// `kafka-forwarder check … | head -3`: when the reader of stdout goes away (EPIPE), the command ends
// quietly with the status a shell reports for a process a broken pipe ended (128 + SIGPIPE = 141),
// not with an unhandled 'error' event and its stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/temp-dir.ts';
import { writeConfig } from './support.ts';

const ENTRY_POINTS = {
  'src/cli/main.ts': fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url)),
  'bin/kafka-forwarder.js': fileURLToPath(new URL('../../bin/kafka-forwarder.js', import.meta.url)),
};

/** Runs the CLI with stdout on a pipe whose reader is closed before the CLI writes anything. */
async function runWithClosedStdout(
  entry: string,
  args: string[],
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const child = spawn(process.execPath, [entry, ...args], {
    env: { ...process.env, TEST_API_SECRET: 'broken-pipe-secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The reader closes at once, like `head` that has its lines: every write the CLI makes gets EPIPE.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  );
  clearTimeout(timer);
  return { code, signal, stderr };
}

for (const [name, entry] of Object.entries(ENTRY_POINTS)) {
  test(`${name} check --print into a closed pipe: exit 141, nothing on stderr`, async () => {
    const temp = await tempDir('broken-pipe');
    try {
      const config = await writeConfig(temp.dir, { bootstrap: 'b:9093', topic: 't' });
      const result = await runWithClosedStdout(entry, ['check', '--config', config, '--print']);
      assert.equal(result.stderr, '', 'no stack, no message');
      assert.deepEqual([result.code, result.signal], [141, null]);
    } finally {
      await temp.remove();
    }
  });
}

test('help into a closed pipe ends quietly too', async () => {
  const result = await runWithClosedStdout(ENTRY_POINTS['src/cli/main.ts'], ['--help']);
  assert.equal(result.stderr, '');
  assert.equal(result.code, 141);
});
