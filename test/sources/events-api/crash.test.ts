// kill -9 mid-load: the forwarder runs as a child process, eight clients post to it concurrently
// (single batches and bulk requests), the child is SIGKILLed while requests are in flight, and is
// restarted on the same spool. Every batch answered 202 must then be in the spool exactly once;
// batches whose request died with the process may or may not be there, but never twice.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { parseJson } from '../../../src/format/lossless-json.ts';

import { post, readAll, smallBatch, tempSpoolDir } from './support/forwarder.ts';
import { startChildForwarder } from './support/forwarder-process.ts';
import { openTestSpool } from '../../support/spool.ts';

const CLIENTS = 8;
const KILL_AFTER_ACCEPTED = 3000;
/** Bounds the load even if the kill never happens (the test then fails). */
const MAX_REQUESTS_PER_CLIENT = 2000;

void describe('Events API: kill -9 under load', () => {
  void it('after a restart, every batch answered 202 is in the spool exactly once', async (t) => {
    const spoolDir = tempSpoolDir();
    const first = await startChildForwarder({ spoolDir });
    const accepted = new Set<string>();
    const unanswered = new Set<string>();
    let rejected = 0;
    let killed = false;

    const kill = (): void => {
      if (killed) return;
      killed = true;
      first.child.kill('SIGKILL');
    };

    const client = async (id: number): Promise<void> => {
      for (let n = 0; n < MAX_REQUESTS_PER_CLIENT && !killed; n++) {
        const bulk = n % 2 === 1;
        const count = bulk ? 1 + (n % 7) : 1;
        const batches = Array.from({ length: count }, (_, i) =>
          smallBatch(`crash-${id}-${n}-${i}`, { user_attributes: { client: id, request: n } }),
        );
        const markers = batches.map((batch) => batch.source_request_id as string);
        try {
          const answer = await post(first.url, bulk ? '/v2/bulkevents' : '/v2/events', bulk ? batches : batches[0]);
          if (answer.status === 202) for (const marker of markers) accepted.add(marker);
          else rejected++;
        } catch {
          // The connection died with the process: the batches may or may not have been stored.
          for (const marker of markers) unanswered.add(marker);
        }
        if (accepted.size >= KILL_AFTER_ACCEPTED) kill();
      }
    };

    await Promise.all(Array.from({ length: CLIENTS }, (_, id) => client(id)));
    assert.ok(killed, 'the load ended before the kill');
    assert.equal(await first.exited, 'SIGKILL');
    assert.equal(rejected, 0);

    // Restart on the same spool: the forwarder recovers, and dedup keys survived the crash.
    const second = await startChildForwarder({ spoolDir });
    try {
      assert.equal(second.recovery.cleanShutdown, false);
      const again = [...accepted]
        .slice(0, 5)
        .map((marker) => smallBatch(marker, { user_attributes: { resent: true } }));
      assert.equal((await post(second.url, '/v2/bulkevents', again)).status, 202);
      t.diagnostic(`recovery: ${JSON.stringify(second.recovery)}`);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    }

    const spool = await openTestSpool({ dir: spoolDir, maxBytes: 1024 ** 3 });
    try {
      const stored = (await readAll(spool)).map((record) => {
        const batch = parseJson(record.payload) as {
          source_request_id: string;
          user_attributes: Record<string, unknown>;
        };
        assert.equal(batch.user_attributes.resent, undefined, 'a resent duplicate was stored');
        return batch.source_request_id;
      });
      const counts = new Map<string, number>();
      for (const marker of stored) counts.set(marker, (counts.get(marker) ?? 0) + 1);
      const twice = [...counts].filter(([, count]) => count > 1);
      const missing = [...accepted].filter((marker) => !counts.has(marker));
      const unexpected = [...counts.keys()].filter((marker) => !accepted.has(marker) && !unanswered.has(marker));
      const inFlightStored = [...unanswered].filter((marker) => counts.has(marker)).length;
      t.diagnostic(
        `accepted (202) ${accepted.size}, in flight at the kill ${unanswered.size} (stored ${inFlightStored}), ` +
          `stored ${stored.length}, missing ${missing.length}, duplicated ${twice.length}`,
      );
      assert.deepEqual(missing, []);
      assert.deepEqual(twice, []);
      assert.deepEqual(unexpected, []);
      assert.equal(stored.length, accepted.size + inFlightStored);
    } finally {
      await spool.close();
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });
});
