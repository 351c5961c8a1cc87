// The ack batcher never drops an acknowledgement: a write the spool refuses (a full or failing disk)
// is retried until it succeeds, in order, and only a stop that cannot wait (abandon) gives up on it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AckBatcher } from '../../src/pipeline/connection-acks.ts';
import { ForwarderError } from '../../src/errors.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const logger = silentLogger();

/** A spool whose ack() fails the first `failures` calls with a disk fault, then records. */
function flakySpool(failures: number) {
  const calls: bigint[][] = [];
  const recorded: bigint[] = [];
  let left = failures;
  return {
    calls,
    recorded,
    ack(_destination: string, seqs: readonly bigint[]): Promise<void> {
      calls.push([...seqs]);
      if (left-- > 0)
        return Promise.reject(new ForwarderError('SPOOL_IO', { reason: 'database or disk is full', retryAfter: 2 }));
      recorded.push(...seqs);
      return Promise.resolve();
    },
  };
}

/** A batcher on the spool that reports each acknowledged receipt time into `acked`. */
function batcherOn(spool: ReturnType<typeof flakySpool>, acked: number[], retryMaxMs: number): AckBatcher {
  return new AckBatcher({
    destination: 'c',
    spool,
    logger,
    onAcked: (receivedAtMs) => acked.push(receivedAtMs),
    retryMinMs: 5,
    retryMaxMs,
  });
}

void test('a failed acknowledgement write is retried until the spool takes it, and later acks follow in order', async () => {
  const spool = flakySpool(3);
  const acked: number[] = [];
  const batcher = batcherOn(spool, acked, 20);
  batcher.add(1n, 100);
  batcher.add(2n, 200);
  await batcher.flush();
  batcher.add(3n, 300);
  await batcher.flush();
  assert.deepEqual(spool.recorded, [1n, 2n, 3n], 'every ack reached the spool, in order');
  assert.equal(spool.calls.length, 5, 'three failed attempts, then the first write and the second');
  assert.deepEqual(acked, [100, 200, 300], 'latency is observed only once the ack is durable');
  assert.equal(batcher.unwritten, 0);
});

void test('abandon() ends the retries of a write the spool keeps refusing, and reports how many acks were left', async () => {
  const spool = flakySpool(Number.POSITIVE_INFINITY);
  const acked: number[] = [];
  const batcher = batcherOn(spool, acked, 10);
  batcher.add(1n, 100);
  const flushed = batcher.flush();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(spool.calls.length >= 2, 'it kept retrying');
  assert.equal(batcher.unwritten, 1);
  assert.equal(batcher.abandon(), 1);
  await flushed;
  assert.deepEqual(acked, [], 'nothing is reported acknowledged that the spool did not record');
});
