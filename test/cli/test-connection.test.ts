// `test-connection` against the real test cluster: passes over SASL_SSL (SCRAM) and mTLS, and each
// misconfiguration fails at the stage that owns it, with the hint that fixes it and no secret printed.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cli, writeConfig, type CliRun, type OutputYaml } from './support.ts';

let cluster: KafkaCluster;
let topic: string;

before(async () => {
  cluster = await getTestKafkaCluster(1);
  topic = uniqueTopicName('cli-test-connection');
  await cluster.createTopic(topic, { partitions: 3 });
});

function scram(overrides: Partial<OutputYaml> = {}): OutputYaml {
  return {
    bootstrap: cluster.bootstrap('SASL_SSL'),
    topic,
    mechanism: 'SCRAM-SHA-512',
    username: cluster.users.scramSha512.username,
    password: cluster.users.scramSha512.password,
    caFile: cluster.caPemPath,
    ...overrides,
  };
}

async function testConnection(output: OutputYaml, ...flags: string[]): Promise<CliRun> {
  const { dir } = await tempDir('test-connection');
  const config = await writeConfig(dir, output);
  const result = await cli(['test-connection', 'events', '--config', config, '--timeout', '5000', ...flags], {
    TEST_API_SECRET: 'unused',
  });
  // Whatever the outcome, the password never appears.
  assert.ok(!result.stdout.includes(cluster.users.scramSha512.password), 'the password was printed');
  return result;
}

/** The line of a stage, e.g. stageLine(run, 3) → "[3/6] TLS      FAIL  …". */
function stageLine(result: CliRun, stage: number): string {
  const line = result.stdout.split('\n').find((candidate) => candidate.startsWith(`[${stage}/6]`));
  assert.ok(line !== undefined, `no line for stage ${stage} in:\n${result.stdout}`);
  return line;
}

function assertFailedAt(result: CliRun, stage: number): void {
  assert.equal(result.code, 1, result.stdout);
  assert.match(stageLine(result, stage), /\bFAIL\b/);
  for (let earlier = 1; earlier < stage; earlier++) assert.match(stageLine(result, earlier), /\b(PASS|WARN|SKIP)\b/);
  assert.ok(!result.stdout.includes(`[${stage + 1}/6]`), 'stages after the failure ran');
  assert.match(result.stdout, new RegExp(`FAILED at stage ${stage}`));
}

void describe('test-connection against a real broker', () => {
  void it('checks every topic topic_by_event_type routes to, after the output’s own', async () => {
    const routed = uniqueTopicName('cli-test-connection-routed');
    await cluster.createTopic(routed, { partitions: 1 });
    const missing = uniqueTopicName('cli-test-connection-missing');
    for (const [target, ok] of [
      [routed, true],
      [missing, false],
    ] as const) {
      const { dir } = await tempDir('test-connection-routes');
      const config = await writeConfig(dir, scram());
      const text = (await readFile(config, 'utf8')).replace(
        `    topic: ${topic}\n`,
        `    topic: ${topic}\n    topic_by_event_type:\n      screen_view: ${target}\n`,
      );
      assert.match(text, /topic_by_event_type/);
      await writeFile(config, text);
      const result = await cli(['test-connection', 'events', '--config', config, '--timeout', '5000'], {
        TEST_API_SECRET: 'unused',
      });
      assert.match(result.stdout, new RegExp(`Routed topic "${target}" \\(topic_by_event_type: screen_view\\)`));
      if (ok) {
        assert.equal(result.code, 0, result.stdout);
        assert.match(result.stdout, new RegExp(`write to "${topic}", "${routed}"`));
      } else {
        assert.equal(result.code, 1, result.stdout);
        assert.match(result.stdout, /FAILED at stage 6/);
      }
    }
  });

  void it('passes every stage over SASL_SSL with SCRAM-SHA-512', async () => {
    const result = await testConnection(scram());
    assert.equal(result.code, 0, result.stdout);
    for (let stage = 1; stage <= 6; stage++) assert.match(stageLine(result, stage), /\bPASS\b/);
    assert.match(stageLine(result, 3), /CN=localhost/);
    assert.match(stageLine(result, 4), /authenticated as "scram512_user" with SCRAM-SHA-512/);
    assert.match(stageLine(result, 5), /1 broker\(s\)/);
    assert.match(stageLine(result, 6), /3 partition\(s\)/);
    assert.match(stageLine(result, 6), /min\.insync\.replicas=1/);
    assert.match(result.stdout, /partition 2: leader 1, replicas \[1\], in-sync \[1\]/);
  });

  void it('passes over mTLS, with SASL skipped and the client certificate named', async () => {
    const result = await testConnection({
      bootstrap: cluster.bootstrap('MTLS'),
      topic,
      caFile: cluster.caPemPath,
      clientCertFile: cluster.clientCertPemPath,
      clientKeyFile: cluster.clientKeyPemPath,
    });
    assert.equal(result.code, 0, result.stdout);
    assert.match(stageLine(result, 4), /SKIP .*client certificate/);
    assert.match(result.stdout, /presenting client certificate "CN=kafka-forwarder-client"/);
  });

  void it('writes one test record with --write-test', async () => {
    const result = await testConnection(scram(), '--write-test');
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /test record written to partition \d+ at offset \d+/);
  });

  void it('fails at DNS for an unknown host', async () => {
    const result = await testConnection(scram({ bootstrap: 'no-such-broker.invalid:9093' }));
    assertFailedAt(result, 1);
    assert.match(stageLine(result, 1), /cannot resolve no-such-broker\.invalid/);
    assert.match(result.stdout, /fix: check the spelling of bootstrap_servers/);
  });

  void it('fails at TCP for a closed port', async () => {
    const result = await testConnection(scram({ bootstrap: '127.0.0.1:1' }));
    assertFailedAt(result, 2);
    assert.match(result.stdout, /connection refused: nothing listens on that port/);
    assert.match(result.stdout, /fix: check the port in bootstrap_servers/);
  });

  void it('fails at TLS for an untrusted CA, naming the issuer and the CA it trusts', async () => {
    const result = await testConnection(scram({ caFile: cluster.untrustedCaPemPath }));
    assertFailedAt(result, 3);
    assert.match(stageLine(result, 3), /issued by "CN=kafka-forwarder test CA"/);
    assert.match(stageLine(result, 3), /ca_file \("CN=kafka-forwarder untrusted test CA"\) does not trust/);
    assert.match(result.stdout, /fix: ca_file holds a different CA: .*"CN=kafka-forwarder test CA"/);
  });

  void it('fails at TLS when the host name is not in the certificate, listing the names it has', async () => {
    const result = await testConnection(
      scram({ bootstrap: cluster.bootstrap('WRONGHOST'), username: undefined, password: undefined }),
    );
    assertFailedAt(result, 3);
    assert.match(stageLine(result, 3), /certificate names DNS:wrong-host\.invalid, not 127\.0\.0\.1/);
    assert.match(result.stdout, /fix: connect with a name it lists \(e\.g\. wrong-host\.invalid:\d+\)/);
  });

  void it('fails at TLS for a PLAINTEXT port, saying it does not speak TLS', async () => {
    const result = await testConnection(scram({ bootstrap: cluster.bootstrap('PLAINTEXT') }));
    assertFailedAt(result, 3);
    assert.match(result.stdout, /SSL or SASL_SSL listener/);
  });

  void it('fails at TLS when the listener wants a client certificate and none is set', async () => {
    const result = await testConnection({ bootstrap: cluster.bootstrap('MTLS'), topic, caFile: cluster.caPemPath });
    assertFailedAt(result, 3);
    assert.match(stageLine(result, 3), /requires a client certificate/);
    assert.match(result.stdout, /fix: set client_cert_file and client_key_file/);
  });

  void it('fails at SASL for a wrong password, pointing at username/password/mechanism', async () => {
    const result = await testConnection(scram({ password: 'not-the-password' }));
    assertFailedAt(result, 4);
    assert.match(stageLine(result, 4), /rejected user "scram512_user" with SCRAM-SHA-512/);
    assert.match(result.stdout, /fix: check username\/password\/mechanism/);
    assert.ok(!result.stdout.includes('not-the-password'));
  });

  void it('fails at the topic stage for a missing topic, suggesting the near name', async () => {
    const result = await testConnection(scram({ topic: `${topic}x` }));
    assertFailedAt(result, 6);
    assert.match(stageLine(result, 6), /does not exist/);
    assert.match(result.stdout, new RegExp(`did you mean "${topic}"`));
  });

  void it('fails at the topic stage when min.insync.replicas cannot be met', async () => {
    const strict = uniqueTopicName('cli-min-isr');
    await cluster.createTopic(strict, { partitions: 1, configs: { 'min.insync.replicas': '2' } });
    const result = await testConnection(scram({ topic: strict }));
    assertFailedAt(result, 6);
    assert.match(stageLine(result, 6), /replication factor 1 is below min\.insync\.replicas=2/);
  });

  void it('tests the intake of the Kafka spool by its setting path, spool.kafka', async () => {
    const { dir } = await tempDir('test-connection-intake');
    const config = await writeConfig(dir, scram());
    const intake = scram();
    const text = (await readFile(config, 'utf8')).replace(
      /^spool:\n(  .*\n)+/m,
      [
        'spool:',
        '  kind: kafka',
        '  kafka:',
        `    bootstrap_servers: "${intake.bootstrap}"`,
        `    topic: ${topic}`,
        `    authentication_method: ${intake.mechanism}`,
        `    username: ${intake.username}`,
        `    password: "${intake.password}"`,
        `    ca_file: ${intake.caFile}`,
        '    replication_factor: 1',
        '',
      ].join('\n'),
    );
    await writeFile(config, text);
    const result = await cli(['test-connection', 'spool.kafka', '-c', config, '--timeout', '5000'], {
      TEST_API_SECRET: 'x',
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^Testing the intake \(spool\.kafka\): topic/m);
    assert.match(result.stdout, /OK: the intake \(spool\.kafka\) can reach Kafka/);
    assert.ok(!result.stdout.includes(cluster.users.scramSha512.password), 'the password was printed');
    // With an intake and an output, which one to test must be said.
    const unnamed = await cli(['test-connection', '-c', config], { TEST_API_SECRET: 'x' });
    assert.equal(unnamed.code, 2);
    assert.match(unnamed.stderr, /events, spool\.kafka/);
  });

  void it('exits 2 naming the outputs when the output does not exist', async () => {
    const { dir } = await tempDir('test-connection-none');
    const config = await writeConfig(dir, scram());
    const result = await cli(['test-connection', 'nope', '-c', config], { TEST_API_SECRET: 'x' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no output "nope" .*outputs: events/);
  });
});
