// The replay progress bar: redrawn in place on a terminal, plain lines at each tenth otherwise.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createProgressBar } from '../../src/cli/progress-bar.ts';

function sink(isTTY: boolean): { stream: Writable & { isTTY: boolean }; text: () => string } {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        text += chunk.toString();
        callback();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => text };
}

void describe('createProgressBar', () => {
  void it('redraws one line with carriage returns on a terminal', () => {
    const out = sink(true);
    const bar = createProgressBar({ stdout: out.stream, stderr: out.stream, env: {} }, 'replaying', 4);
    for (let i = 0; i < 4; i++) bar.tick();
    bar.done();
    const frames = out
      .text()
      .split('\r')
      .filter((frame) => frame !== '');
    assert.equal(frames.length, 5);
    assert.equal(frames[0], `replaying [${'-'.repeat(30)}] 0/4 0%`);
    assert.equal(frames[4], `replaying [${'#'.repeat(30)}] 4/4 100%\n`);
  });

  void it('writes whole lines, at most one per tenth, when not a terminal (or NO_COLOR is set)', () => {
    for (const [isTTY, env] of [
      [false, {}],
      [true, { NO_COLOR: '1' }],
    ] as const) {
      const out = sink(isTTY);
      const bar = createProgressBar({ stdout: out.stream, stderr: out.stream, env }, 'replaying', 1000);
      for (let i = 0; i < 1000; i++) bar.tick();
      bar.done();
      const lines = out.text().trimEnd().split('\n');
      assert.ok(!out.text().includes('\r'));
      assert.equal(lines.length, 11);
      assert.equal(lines.at(-1), `replaying [${'#'.repeat(30)}] 1000/1000 100%`);
    }
  });
});
