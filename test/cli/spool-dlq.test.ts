// `spool status` and `dlq list|show|replay` on a spool populated here with the spool's own API, while
// no server runs; and what they say when a running forwarder holds the spool.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type Spool } from '../../src/spool/index.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cli, writeConfig } from './support.ts';
import { openTestSpool } from '../support/spool.ts';

const ENV = { TEST_API_SECRET: 'x' };

function openConfiguredSpool(dir: string): Promise<Spool> {
  return openTestSpool({ dir: path.join(dir, 'spool'), maxBytes: 10 * 1024 * 1024 });
}

/** 5 records for web-to-events, 3 of them dead-lettered; 1 for a connection no longer configured. */
async function populate(dir: string): Promise<void> {
  const spool = await openConfiguredSpool(dir);
  try {
    const payload = (n: number): Buffer =>
      Buffer.from(
        JSON.stringify({ mpid: 'MPID', events: [{ event_type: 'custom_event', data: { n } }] }).replace(
          '"MPID"',
          '-7636538281262557000',
        ),
      );
    const stored = await spool.append(
      [1, 2, 3, 4, 5].map((n) => ({ payload: payload(n), destinations: ['web-to-events'] })),
    );
    await spool.append([{ payload: payload(6), destinations: ['old-connection'] }]);
    const seqs = stored.map((result) => (result.status === 'stored' ? result.seq : -1n));
    for (const seq of seqs.slice(0, 3)) {
      await spool.deadLetter('web-to-events', seq, 'Kafka output events rejected a record: MESSAGE_TOO_LARGE');
    }
  } finally {
    await spool.close();
  }
}

async function setUp(name: string): Promise<{ dir: string; config: string }> {
  const { dir } = await tempDir(name);
  const config = await writeConfig(dir, { bootstrap: 'broker:9093', topic: 'events' });
  await populate(dir);
  return { dir, config };
}

void describe('spool status', () => {
  void it('shows records, bytes, the oldest age, backlog per connection and output, and dead letters', async () => {
    const { config } = await setUp('spool-status');
    const result = await cli(['spool', 'status', '-c', config], ENV);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /records: +3\n/);
    assert.match(result.stdout, /bytes: +[\d.]+ (B|KiB) of 10 MiB/);
    assert.match(result.stdout, /oldest: +\d+ (ms|s)/);
    assert.match(result.stdout, /dead letters: 3 /);
    assert.match(result.stdout, /web-to-events +events +2 +3/);
    assert.match(result.stdout, /old-connection +\(not in the configuration\) +1 +0/);
    assert.match(result.stdout, /backlog per output: .*events 2/);
  });

  void it('says there is no spool yet instead of creating one', async () => {
    const { dir } = await tempDir('spool-none');
    const config = await writeConfig(dir, { bootstrap: 'broker:9093', topic: 'events' });
    const result = await cli(['spool', 'status', '-c', config], ENV);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /No spool at .* yet/);
  });

  void it('says so when a running forwarder holds the spool', async () => {
    const { dir, config } = await setUp('spool-busy');
    const holder = await openConfiguredSpool(dir);
    try {
      const status = await cli(['spool', 'status', '-c', config], ENV);
      assert.match(status.stdout, /held by a running forwarder/);
      const replay = await cli(['dlq', 'replay', '--all', '-c', config], ENV);
      assert.equal(replay.code, 1);
      assert.match(replay.stderr, /held by a running forwarder .*stop the server first/);
    } finally {
      await holder.close();
    }
  });
});

void describe('dlq', () => {
  void it('list shows each dead letter with its connection, batch id and reason', async () => {
    const { config } = await setUp('dlq-list');
    const result = await cli(['dlq', 'list', '-c', config], ENV);
    assert.equal(result.code, 0, result.stderr);
    const rows = result.stdout.trimEnd().split('\n');
    assert.match(rows[0], /^id +connection +batch id +dead since +size +reason$/);
    assert.equal(rows.length, 4);
    for (const row of rows.slice(1)) assert.match(row, /^\d+ +web-to-events +\d+ +\S+Z +\d+ B +.*MESSAGE_TOO_LARGE$/);
  });

  void it('show prints the reason and the payload pretty-printed, 64-bit MPIDs exact', async () => {
    const { config } = await setUp('dlq-show');
    const id = (await cli(['dlq', 'list', '-c', config], ENV)).stdout.split('\n')[1].split(' ')[0];
    const result = await cli(['dlq', 'show', id, '-c', config], ENV);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /reason: +Kafka output events rejected a record: MESSAGE_TOO_LARGE/);
    assert.match(result.stdout, /\n {6}"mpid": -7636538281262557000,\n/);
    assert.match(result.stdout, /"event_type": "custom_event"/);
    assert.equal((await cli(['dlq', 'show', '999', '-c', config], ENV)).code, 1);
  });

  void it('replay <id> moves one dead letter back to its connection backlog', async () => {
    const { dir, config } = await setUp('dlq-replay-one');
    const id = (await cli(['dlq', 'list', '-c', config], ENV)).stdout.split('\n')[1].split(' ')[0];
    const result = await cli(['dlq', 'replay', id, '-c', config], ENV);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Replayed 1 dead letter/);
    const spool = await openConfiguredSpool(dir);
    try {
      assert.equal(spool.stats().deadLetters, 2);
      assert.equal(spool.stats().backlog['web-to-events'], 3);
    } finally {
      await spool.close();
    }
  });

  void it('replay --all shows progress as plain lines when not a terminal and empties the store', async () => {
    const { dir, config } = await setUp('dlq-replay-all');
    const result = await cli(['dlq', 'replay', '--all', '-c', config], ENV);
    assert.equal(result.code, 0, result.stderr);
    const progress = result.stdout.split('\n').filter((line) => line.startsWith('replaying ['));
    assert.ok(progress.length >= 2, result.stdout);
    assert.match(progress.at(-1) ?? '', /\[#{30}\] 3\/3 100%$/);
    assert.ok(!result.stdout.includes('\r'), 'no terminal redraws in plain output');
    const spool = await openConfiguredSpool(dir);
    try {
      assert.equal(spool.stats().deadLetters, 0);
      assert.equal(spool.stats().backlog['web-to-events'], 5);
    } finally {
      await spool.close();
    }
  });

  void it('replay needs an id or --all', async () => {
    const { config } = await setUp('dlq-replay-usage');
    assert.equal((await cli(['dlq', 'replay', '-c', config], ENV)).code, 2);
  });
});
