// `check` and the command-line surface: help everywhere, exit codes, every problem listed, no secret printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
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
    const config = await writeConfig(dir, { bootstrap: 'b:9093', topic: 't' });
    const result = await cli(['check', '-c', config], {});
    assert.equal(result.code, 2);
    assert.match(result.stderr, /TEST_API_SECRET/);
  });
});
