// Child process for crash.test.ts: appends under concurrent load and prints one line per acknowledged
// record ("ACK <n> <seq> <batchId>") only after its append resolved, until the parent kills it with SIGKILL.

import { expectedPayload } from './crash-payload.ts';
import { openTestSpool } from '../support/spool.ts';

const [dir, firstArg] = process.argv.slice(2);
let next = Number(firstArg);
const spool = await openTestSpool({ dir, maxBytes: 1024 ** 3 });
process.stdout.write(`OPEN ${spool.recovery.records} ${spool.recovery.cleanShutdown}\n`);

async function appender(bulk: number): Promise<void> {
  for (;;) {
    const ns = Array.from({ length: bulk }, () => next++);
    const results = await spool.append(
      ns.map((n) => ({ payload: expectedPayload(n), destinations: ['k1', 'k2'], dedupKey: `crash:${n}` })),
    );
    results.forEach((result, index) => {
      if (result.status !== 'stored') throw new Error(`record ${ns[index]} was not stored`);
      process.stdout.write(`ACK ${ns[index]} ${result.seq} ${result.batchId}\n`);
    });
  }
}

// A consumer that acknowledges for k1 as it goes, so records are also trimmed while the process dies.
async function consumer(): Promise<void> {
  let after: bigint | null = null;
  for (;;) {
    const records = await spool.read('k1', after, 50);
    if (records.length > 0) {
      after = records[records.length - 1].seq;
      await spool.ack(
        'k1',
        records.map((record) => record.seq),
      );
    } else {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

await Promise.all([...Array.from({ length: 16 }, (_, i) => appender(1 + (i % 3))), consumer()]);
