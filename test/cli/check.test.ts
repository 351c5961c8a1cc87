// `check` and the command-line surface: help everywhere, exit codes, every problem listed, no secret printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { COMMANDS } from '../../src/cli/main.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cli, writeConfig } from './support.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const SECRET = 'pa55-W0rd-never-printed';
const API_SECRET = 'api-secret-never-printed';

void describe('kafka-forwarder command line', () => {
  for (const command of COMMANDS) {
    void it(`${command.path.join(' ')} --help prints its usage and options`, async () => {
      const result = await cli([...command.path, '--help']);
      assert.equal(result.code, 0);
      assert.match(result.stdout, new RegExp(`^Usage: kafka-forwarder ${command.path.join(' ')}`));
      assert.match(result.stdout, /-h, --help/);
    });
  }

  void it('--help lists every command', async () => {
    const result = await cli(['--help']);
    assert.equal(result.code, 0);
    for (const command of COMMANDS) assert.ok(result.stdout.includes(command.path.join(' ')), command.path.join(' '));
  });

  void it('an unknown command or option exits 2 with a message', async () => {
    assert.equal((await cli(['frobnicate'])).code, 2);
    const bad = await cli(['check', '--bogus']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bogus/);
  });

  void it('the bin launcher runs the TypeScript CLI and passes the exit code through', async () => {
    const bin = path.join(repoRoot, 'bin', 'kafka-forwarder.js');
    const help = await run(process.execPath, [bin, 'check', '--help']);
    assert.match(help.stdout, /Usage: kafka-forwarder check/);
    await assert.rejects(
      run(process.execPath, [bin, 'check', '--config', '/nonexistent/kf.yaml']),
      (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr, /No configuration file at \/nonexistent\/kf\.yaml/);
        return true;
      },
    );
  });
});

void describe('check', () => {
  void it('accepts a valid file: exit 0, OK with a summary, no secret in the output', async () => {
    const { dir } = await tempDir('check');
    const config = await writeConfig(dir, {
      bootstrap: 'broker-1.example.com:9093,broker-2.example.com:9093',
      topic: 'events',
      mechanism: 'SCRAM-SHA-512',
      username: 'forwarder',
      password: SECRET,
    });
    const result = await cli(['check', '--config', config, '--print'], { TEST_API_SECRET: API_SECRET });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^OK: .* is valid\./);
    assert.match(result.stdout, /SASL_SSL SCRAM-SHA-512 as "forwarder"/);
    assert.match(result.stdout, /password: "\[redacted\]"/);
    assert.ok(!result.stdout.includes(SECRET) && !result.stdout.includes(API_SECRET));
  });

  void it('finds the file through KAFKA_FORWARDER_CONFIG', async () => {
    const { dir } = await tempDir('check-env');
    const config = await writeConfig(dir, { bootstrap: 'b:9093', topic: 't' });
    const result = await cli(['check'], { KAFKA_FORWARDER_CONFIG: config, TEST_API_SECRET: 'x' });
    assert.equal(result.code, 0, result.stderr);
  });

  void it('lists every problem of an invalid file, each with its setting and fix, and exits 2 without secrets', async () => {
    const { dir } = await tempDir('check-bad');
    const file = path.join(dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'server:',
        '  port: 99999',
        'inputs:',
        '  - name: web',
        '    credentials:',
        '      - api_key: k',
        `        api_secret: ${API_SECRET}`,
        'outputs:',
        '  - name: events',
        '    bootstrap_servers: "kafka://broker:9093"',
        '    topic: events',
        '    username: forwarder',
        `    password: ${SECRET}`,
        '    compresion: gzip',
        'connections:',
        '  - name: c',
        '    input: web',
        '    output: nowhere',
        '',
      ].join('\n'),
    );
    const result = await cli(['check', '-c', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /server\.port/);
    assert.match(result.stderr, /outputs\[0\]\.bootstrap_servers/);
    assert.match(result.stderr, /compresion/);
    assert.match(result.stderr, /did you mean/i);
    assert.match(result.stderr, /connections\[0\]\.output/);
    const problems = result.stderr.split('\n').filter((line) => line.startsWith('  - '));
    assert.ok(problems.length >= 4, result.stderr);
    assert.equal(result.stderr.split('\n').filter((line) => line.trim().startsWith('fix:')).length, problems.length);
    assert.ok(!result.stderr.includes(SECRET) && !result.stderr.includes(API_SECRET));
    assert.equal(result.stdout, '');
  });

  void it('reports a missing environment variable by name', async () => {
    const { dir } = await tempDir('check-env-missing');
    const config = await writeConfig(dir, { bootstrap: '${BOOTSTRAP}', topic: 't' });
    const result = await cli(['check', '-c', config], { TEST_API_SECRET: 's' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /outputs\[0\]\.bootstrap_servers: refers to the environment variable BOOTSTRAP/);
  });

  void it('secrets missing where it runs are listed, not refused; serve and test-connection still refuse', async () => {
    const { dir } = await tempDir('check-no-secrets');
    const config = await writeConfig(
      dir,
      { bootstrap: 'b:9093', topic: 't', username: 'u', mechanism: 'SCRAM-SHA-512' },
      '',
    );
    const text = (await readFile(config, 'utf8')).replace(
      /^(\s+username: u)$/m,
      `$1\n    password_file: ${path.join(dir, 'no-such-password')}`,
    );
    await writeFile(config, text);
    const checked = await cli(['check', '-c', config], {});
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /^OK: /m);
    assert.match(checked.stdout, /not available here \(serve will need them\):/);
    assert.match(checked.stdout, /inputs\[0\]\.credentials\[0\]\.api_secret: TEST_API_SECRET is not set/);
    assert.match(checked.stdout, /outputs\[0\]\.password: the file .*no-such-password cannot be read here/);
    assert.doesNotMatch(checked.stdout, /placeholder/);
    // Local spool: spool status and dlq list open it without any secret.
    const status = await cli(['spool', 'status', '-c', config], {});
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /No spool at .* yet/);
    const letters = await cli(['dlq', 'list', '-c', config], {});
    assert.equal(letters.code, 0, letters.stderr);
    for (const command of [['serve'], ['test-connection', 'events']]) {
      const refused = await cli([...command, '-c', config], {});
      assert.equal(refused.code, 2, `${command[0]} needs the secrets`);
      assert.match(refused.stderr, /TEST_API_SECRET/);
    }
  });

  void it('in cluster mode, the summary describes the intake cluster, not a local spool path', async () => {
    const { dir } = await tempDir('check-intake-summary');
    const config = await writeConfig(dir, { bootstrap: 'b:9093', topic: 't' });
    const text = (await readFile(config, 'utf8')).replace(
      /^spool:\n(?:  .*\n)+/m,
      [
        'spool:',
        '  kind: kafka',
        '  kafka:',
        '    bootstrap_servers: "intake-1:9093,intake-2:9093"',
        '    topic: fwd-intake',
        '    group_id: fwd-group',
        '    state_topic: fwd-state',
        '    username: svc',
        '    authentication_method: SCRAM-SHA-256',
        `    password: ${SECRET}`,
        '',
      ].join('\n'),
    );
    await writeFile(config, text);
    const result = await cli(['check', '-c', config], { TEST_API_SECRET: API_SECRET });
    assert.equal(result.code, 0, result.stderr);
    const spoolLines = result.stdout.split('\n').filter((line) => /^\s+(spool|intake)/.test(line));
    assert.match(
      result.stdout,
      /spool: {3}kafka \(cluster mode\): intake topic "fwd-intake" on intake-1:9093,intake-2:9093/,
    );
    assert.match(result.stdout, /via SASL_SSL SCRAM-SHA-256 as "svc", trusting the system CAs/);
    assert.match(result.stdout, /consumer group "fwd-group"/);
    assert.match(result.stdout, /state topic "fwd-state"/);
    assert.match(result.stdout, /dead-letter topic "kafka-forwarder-dead-letters"/);
    assert.doesNotMatch(
      result.stdout,
      new RegExp(path.join(dir, 'spool')),
      `no local spool path: ${spoolLines.join('\n')}`,
    );
    assert.doesNotMatch(result.stdout, /var\/spool|new batches refused above/);
    assert.ok(!result.stdout.includes(SECRET) && !result.stdout.includes(API_SECRET));
  });

  void it('in cluster mode, spool status and dlq need the intake cluster’s secrets, and say which', async () => {
    const { dir } = await tempDir('check-intake-secrets');
    const config = await writeConfig(dir, { bootstrap: 'b:9093', topic: 't' });
    const text = (await readFile(config, 'utf8')).replace(
      /^spool:\n(?:  .*\n)+/m,
      'spool:\n  kind: kafka\n  kafka:\n    bootstrap_servers: "intake:9093"\n    username: svc\n    password: ${INTAKE_PASSWORD}\n',
    );
    assert.match(text, /kind: kafka/);
    await writeFile(config, text);
    const env = { TEST_API_SECRET: 's' };
    assert.equal((await cli(['check', '-c', config], env)).code, 0);
    for (const command of [
      ['spool', 'status'],
      ['dlq', 'list'],
    ]) {
      const refused = await cli([...command, '-c', config], env);
      assert.equal(refused.code, 2, `${command.join(' ')}: ${refused.stderr}`);
      assert.match(refused.stderr, /connects to the intake cluster/);
      assert.match(refused.stderr, /spool\.kafka\.password: INTAKE_PASSWORD is not set/);
    }
  });
});
