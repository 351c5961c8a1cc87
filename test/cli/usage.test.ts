// The command line's own words: --version, help <command>, and errors that say what was meant.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cli } from './support.ts';

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

test('--version prints the package version and the Node.js version', async () => {
  for (const flag of ['--version', '-V']) {
    const run = await cli([flag]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout.trim(), `kafka-forwarder ${version} (Node.js ${process.version})`);
  }
});

test('help <command> prints that command’s help, as <command> --help does', async () => {
  const viaHelp = await cli(['help', 'dlq', 'list']);
  const viaFlag = await cli(['dlq', 'list', '--help']);
  assert.equal(viaHelp.code, 0);
  assert.match(viaHelp.stdout, /^Usage: kafka-forwarder dlq list /);
  assert.equal(viaHelp.stdout, viaFlag.stdout);
  const group = await cli(['help', 'dlq']);
  assert.equal(group.code, 0);
  assert.match(group.stdout, /Usage: kafka-forwarder dlq <list\|show\|replay>/);
});

test('an unknown command gets a "did you mean"', async () => {
  const run = await cli(['servve']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /unknown command "servve"; did you mean "serve"\?/);
  const sub = await cli(['dlq', 'lst']);
  assert.equal(sub.code, 2);
  assert.match(sub.stderr, /unknown command "dlq lst"; did you mean "dlq list"\?/);
  const far = await cli(['frobnicate']);
  assert.doesNotMatch(far.stderr, /did you mean/);
});

test('option errors are ours: the option named, what was meant, no parseArgs text', async () => {
  const typo = await cli(['check', '--confg', 'x.yaml']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^kafka-forwarder check: unknown option --confg; did you mean --config\?$/m);
  assert.doesNotMatch(typo.stderr, /positional argument starting with/);
  const missing = await cli(['check', '-c']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^kafka-forwarder check: -c, --config needs a value$/m);
  const extra = await cli(['check', '--help=yes']);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /--help takes no value/);
});
