// The package as a user gets it: `npm pack`, installed into an empty folder with production
// dependencies only, then its `kafka-forwarder` command run from there (the built JavaScript, no
// TypeScript, no dev dependencies): --version, check, and serve against the real broker, with one
// batch posted and its record consumed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { consumeRecords } from '../support/forwarder.ts';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';
import { tempDir } from '../support/temp-dir.ts';
import { writeE2eConfig } from '../e2e/support/config.ts';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
};
/** The pinned Node first on PATH, so that the command's `#!/usr/bin/env node` finds it. */
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };

let cluster: KafkaCluster;
let app: string;
let command: string;
let served: ServeProcess | undefined;
let temp: Awaited<ReturnType<typeof tempDir>>;

before(async () => {
  temp = await tempDir('package');
  const packed = await run('npm', ['pack', '--silent', '--pack-destination', temp.dir], {
    cwd: REPO_ROOT,
    env,
    maxBuffer: 16 << 20,
  });
  const tarball = path.join(temp.dir, packed.stdout.trim().split('\n').pop() ?? '');
  app = path.join(temp.dir, 'app');
  // The Dockerfile's install step, so that the image holds what this file tests.
  await run('sh', [path.join(REPO_ROOT, 'deploy/container/install-package.sh'), tarball, app], {
    env,
    maxBuffer: 16 << 20,
  });
  command = path.join(app, 'node_modules', '.bin', 'kafka-forwarder');
  cluster = await getTestKafkaCluster(1);
});
after(async () => {
  served?.kill('SIGKILL');
  await served?.exited;
  await temp.remove();
});

test('the package holds the built JavaScript and what it documents, not the sources or the tests', () => {
  const installed = path.join(app, 'node_modules', 'kafka-forwarder');
  for (const file of ['dist/cli/main.js', 'dist/main.js', 'dist/main.d.ts', 'bin/kafka-forwarder.js', 'README.md'])
    assert.ok(existsSync(path.join(installed, file)), `${file} is in the package`);
  for (const folder of ['src', 'test', 'tools', 'bench', 'scripts'])
    assert.ok(!existsSync(path.join(installed, folder)), `${folder}/ is not in the package`);
  // Production dependencies only.
  for (const dev of ['typescript', 'eslint', 'prettier'])
    assert.ok(!existsSync(path.join(app, 'node_modules', dev)), `${dev} is not installed`);
});

test('kafka-forwarder --version from the installed package', async () => {
  const { stdout } = await run(command, ['--version'], { env });
  assert.equal(stdout.trim(), `kafka-forwarder ${manifest.version} (Node.js ${process.version})`);
});

test('check, then serve from the installed package: one batch posted reaches the topic', async () => {
  const topic = uniqueTopicName('package');
  await cluster.createTopic(topic, { partitions: 1 });
  const apiKey = 'package-key';
  const apiSecret = 'package-secret';
  const configPath = await writeE2eConfig({
    dir: app,
    cluster,
    security: 'SCRAM-SHA-512',
    topic,
    apiKey,
    apiSecret,
    logLevel: 'info',
  });
  const checked = await run(command, ['check', '--config', configPath], { env });
  assert.match(checked.stdout, /^OK: .* is valid\./m);

  served = await startServe(configPath, { command, env, waitForReady: true });
  const response = await fetch(`http://127.0.0.1:${served.port}/v2/events`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      environment: 'production',
      mpid: 42,
      events: [{ event_type: 'custom_event', data: { event_name: 'installed', custom_event_type: 'other' } }],
    }),
  });
  assert.equal(response.status, 202);
  const [record] = await consumeRecords(cluster, topic, 1);
  assert.equal(String(record.key), '42');
  assert.equal((record.value.events as { data: { event_name: string } }[])[0].data.event_name, 'installed');
  served.kill('SIGTERM');
  assert.deepEqual(await served.exited, { code: 0, signal: null });
  served = undefined;
});

test('an older Node than package.json’s engines is refused with the minimum named', async (t) => {
  // The machine's own node, when it is older than the minimum (as Debian's is).
  const system = '/usr/bin/node';
  const version = existsSync(system) ? (await run(system, ['--version'])).stdout.trim() : '';
  const [major, minor] = version.slice(1).split('.').map(Number);
  const minimum = /(\d+)\.(\d+)/.exec(manifest.engines.node)!.slice(1).map(Number);
  if (version === '' || major > minimum[0] || (major === minimum[0] && minor >= minimum[1])) {
    t.skip(`no Node older than ${manifest.engines.node} on this machine`);
    return;
  }
  const bin = path.join(app, 'node_modules', 'kafka-forwarder', 'bin', 'kafka-forwarder.js');
  const refused = await run(system, [bin, '--version']).then(
    () => assert.fail('an old Node ran the command'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, new RegExp(`needs Node.js ${minimum.join('\\.')}\\.\\d+ or later`));
});
