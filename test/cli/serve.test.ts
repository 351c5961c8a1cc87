// `serve` as a real process: starts, takes batches that `send-sample` sends through the mParticle
// SDK, stops gracefully on SIGTERM with exit 0; and exits 2 on an invalid configuration.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { before, describe, it } from 'node:test';
import { getTestKafkaCluster, readRecords, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';
import { SUPPORTED_EVENT_TYPES } from '../../src/format/batch.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cli, writeConfig } from './support.ts';

const main = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const API_SECRET = 'serve-test-secret';

let cluster: KafkaCluster;
let topic: string;

before(async () => {
  cluster = await getTestKafkaCluster(1);
  topic = uniqueTopicName('cli-serve');
  await cluster.createTopic(topic, { partitions: 3 });
});

void describe('serve and send-sample', () => {
  void it('serves, accepts SDK batches of every type, forwards them, and exits 0 on SIGTERM', async () => {
    const { dir } = await tempDir('serve');
    const config = await writeConfig(
      dir,
      {
        bootstrap: cluster.bootstrap('SASL_SSL'),
        topic,
        mechanism: 'SCRAM-SHA-512',
        username: cluster.users.scramSha512.username,
        password: cluster.users.scramSha512.password,
        caFile: cluster.caPemPath,
      },
      [
        '    settings:',
        '      send_as_batch: false',
        '      include_user_attribute_change_events: true',
        '      include_user_identity_change_events: true',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [main, 'serve', '--config', config, '--log-level', 'info'], {
      env: { ...process.env, TEST_API_SECRET: API_SECRET },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    const logLines: string[] = [];
    let port: number | undefined;
    const lines = createInterface({ input: child.stdout });
    for await (const line of lines) {
      logLines.push(line);
      const address = (JSON.parse(line) as { address?: string }).address;
      if (address !== undefined) {
        port = Number(address.split(':').at(-1));
        break;
      }
    }
    lines.on('line', (line) => logLines.push(line));
    assert.ok(port !== undefined && port > 0, logLines.join('\n'));
    try {
      const url = `http://127.0.0.1:${port}`;
      const sent = await cli([
        'send-sample',
        '--url',
        url,
        '--key',
        'test-key',
        '--secret',
        API_SECRET,
        '--count',
        '2',
      ]);
      assert.equal(sent.code, 0, sent.stdout);
      assert.match(sent.stdout, /POST \/v2\/events → 202 accepted/);
      assert.match(sent.stdout, /All accepted: 2 batch\(es\), 34 events\./);
      assert.ok(!sent.stdout.includes(API_SECRET), 'the API secret was printed');
      for (const type of SUPPORTED_EVENT_TYPES) assert.ok(sent.stdout.includes(type), type);

      const rejected = await cli(['send-sample', '--url', url, '--key', 'test-key', '--secret', 'wrong', '-n', '1']);
      assert.equal(rejected.code, 1);
      assert.match(rejected.stdout, /→ 403/);

      const bulk = await cli([
        'send-sample',
        '--url',
        url,
        '--key',
        'test-key',
        '--secret',
        API_SECRET,
        '-n',
        '2',
        '--bulk',
      ]);
      assert.equal(bulk.code, 0, bulk.stdout);
      assert.match(bulk.stdout, /POST \/v2\/bulkevents \(2 batches\) → 202/);

      // Send as Batch off: one record per event, every one of the 17 types.
      const records = await readRecords(cluster, topic, 68, { timeoutMs: 30_000 });
      const types = new Set(records.map((record) => /"event_type":"(\w+)"/.exec(record.value)?.[1]));
      assert.deepEqual([...types].sort(), [...SUPPORTED_EVENT_TYPES].sort());
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, logLines.join('\n'));
    assert.ok(
      logLines.some((line) => line.includes('"msg":"stopped"')),
      logLines.join('\n'),
    );
  });

  void it('exits 2 and lists the problems when the configuration is invalid', async () => {
    const { dir } = await tempDir('serve-bad');
    const config = await writeConfig(dir, { bootstrap: 'http://broker', topic: 'events' });
    const child = spawn(process.execPath, [main, 'serve', '--config', config], {
      env: { ...process.env, TEST_API_SECRET: 'x' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /outputs\[0\]\.bootstrap_servers/);
  });
});
