// kill -9 at an arbitrary instant under concurrent load: every append the child saw resolve must be in
// the reopened spool exactly once, intact, with the seq and batch id it was acknowledged with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expectedPayload } from './crash-payload.ts';
import { openTestSpool } from '../support/spool.ts';

// The Node running this test (the one the project pins), wherever the clone lives.
const NODE = process.execPath;
const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

interface Acked {
  seq: bigint;
  batchId: bigint;
}

/** Runs the child until it has acknowledged `acks` records (plus a random few), then SIGKILLs it. */
function runAndKill(dir: string, firstN: number, acks: number, acked: Map<number, Acked>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CHILD, dir, String(firstN)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killAfter = acks + Math.floor(Math.random() * 200);
    let seen = 0;
    let pending = '';
    let openLine = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!; // an incomplete last line was not fully acknowledged; ignore it
      for (const line of lines) {
        const [kind, n, seq, batchId] = line.split(' ');
        if (kind === 'OPEN') openLine = line;
        if (kind !== 'ACK') continue;
        acked.set(Number(n), { seq: BigInt(seq), batchId: BigInt(batchId) });
        if (++seen === killAfter) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(openLine);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

void test('every acknowledged append survives kill -9 exactly once and intact, across two crashes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-crash-'));
  try {
    const acked = new Map<number, Acked>();
    const firstOpen = await runAndKill(dir, 0, 400, acked);
    assert.match(firstOpen, /^OPEN 0 true$/);
    const secondOpen = await runAndKill(dir, 1_000_000, 400, acked);
    assert.match(secondOpen, /^OPEN \d+ false$/, 'the second child recovered after an unclean shutdown');
    assert.ok(acked.size >= 800);

    const spool = await openTestSpool({ dir, maxBytes: 1024 ** 3 });
    try {
      assert.equal(spool.recovery.cleanShutdown, false);
      // k2 never acknowledges, so every record ever stored must still be pending for it.
      const stored = new Map<number, { seq: bigint; batchId: bigint }>();
      const batchIds = new Set<bigint>();
      let after: bigint | null = null;
      for (;;) {
        const records = await spool.read('k2', after, 500);
        if (records.length === 0) break;
        after = records[records.length - 1].seq;
        for (const record of records) {
          const { n } = JSON.parse(record.payload.toString()) as { n: number };
          assert.ok(!stored.has(n), `record ${n} is stored once`);
          assert.deepEqual(record.payload, expectedPayload(n), `record ${n} is intact`);
          assert.ok(!batchIds.has(record.batchId), `batch id ${record.batchId} is unique`);
          batchIds.add(record.batchId);
          stored.set(n, { seq: record.seq, batchId: record.batchId });
        }
      }
      for (const [n, ack] of acked) {
        assert.deepEqual(stored.get(n), ack, `acknowledged record ${n} is present with its seq and batch id`);
      }
      assert.equal(spool.recovery.backlog.k2, stored.size);
    } finally {
      await spool.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
