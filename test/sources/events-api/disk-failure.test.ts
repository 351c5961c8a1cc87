// When the disk fails under the spool, the Events API answers 503 and never 202 for a batch it could not
// store. The failure is real: the forwarder runs as a child process under a file-size limit
// (`ulimit -f`, with SIGXFSZ ignored), so the spool's writes fail with EFBIG once its files reach it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { parseJson } from '../../../src/format/lossless-json.ts';

import { post, readAll, smallBatch, tempSpoolDir } from './support/forwarder.ts';
import type { Answer } from './support/forwarder.ts';
import { startChildForwarder } from './support/forwarder-process.ts';
import { openTestSpool } from '../../support/spool.ts';

void describe('Events API: disk failure', () => {
  void it('answers 503 SPOOL_IO while writes fail, and stores exactly the batches it answered 202', async () => {
    const spoolDir = tempSpoolDir();
    const server = await startChildForwarder({ spoolDir, shellPrefix: "trap '' XFSZ; ulimit -f 2048" });
    const accepted: string[] = [];
    const refusedMarkers: string[] = [];
    let refused: Answer | undefined;
    try {
      for (let i = 0; i < 200 && refused === undefined; i++) {
        const batches = Array.from({ length: 20 }, (_, j) =>
          smallBatch(`disk-${i}-${j}`, { user_attributes: { pad: 'x'.repeat(3000) } }),
        );
        const answer = await post(server.url, '/v2/bulkevents', batches);
        const markers = batches.map((batch) => batch.source_request_id as string);
        if (answer.status === 202) accepted.push(...markers);
        else {
          refused = answer;
          refusedMarkers.push(...markers);
        }
      }
      assert.ok(refused, 'the file-size limit was never reached');
      assert.equal(refused.status, 503);
      assert.deepEqual(refused.error, {
        code: 'SERVICE_UNAVAILABLE',
        message: 'Spool I/O failed: disk I/O error; retry after 2 s.',
        reason: 'SPOOL_IO',
      });
      assert.equal(refused.headers.get('retry-after'), '2', 'a 503 for a disk fault says when to retry');
      const ready = await fetch(`${server.adminUrl}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { status: 'not ready', reason: 'the spool is not writable' });
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }

    // Reopen the spool without the limit: every 202 is there once, and no batch of the 503 is.
    const spool = await openTestSpool({ dir: spoolDir, maxBytes: 1024 ** 3 });
    try {
      const stored = (await readAll(spool)).map(
        (record) => (parseJson(record.payload) as { source_request_id: string }).source_request_id,
      );
      assert.ok(accepted.length > 0);
      assert.deepEqual(stored, accepted);
      assert.equal(
        stored.some((marker) => refusedMarkers.includes(marker)),
        false,
      );
    } finally {
      await spool.close();
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });
});
