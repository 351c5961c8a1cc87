// Secrets never appear in anything the forwarder emits. With debug logging a whole SASL_SSL run,
// and with trace logging (the Kafka client's diagnostics too) a whole mTLS run (start, ingest, forward to Kafka, error answers, /metrics, shutdown) and a
// run with a wrong Kafka password (the loud failure path) are captured — stdout, stderr, /metrics
// and every HTTP answer — and searched for the SASL password, the API secret (also as the Basic
// auth header carries it) and the client private key (its PEM body lines too).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { getTestKafkaCluster, uniqueTopicName, type TestSecurity } from '../support/kafka.ts';
import { killForwarder, spawnForwarder, type ForwarderChild } from './support/child.ts';
import { writeE2eConfig } from './support/config.ts';
import { basicAuth, buildBatch, LoadGenerator } from './support/load.ts';
import { httpGet, waitForMetric } from './support/metrics.ts';
import { credentials, newRunId, tempDir } from './support/scenario.ts';
import { verifyDelivery } from './support/verify.ts';

const children: ForwarderChild[] = [];
const temps: Awaited<ReturnType<typeof tempDir>>[] = [];

after(async () => {
  for (const child of children) await killForwarder(child);
  for (const temp of temps) await temp.remove();
});

/** Every form in which a secret could leak: the value itself, and for PEM keys each body line. */
function secretForms(secrets: Record<string, string>): [string, string][] {
  const forms: [string, string][] = [];
  for (const [name, value] of Object.entries(secrets)) {
    forms.push([name, value]);
    if (value.includes('PRIVATE KEY')) {
      for (const line of value.split('\n')) {
        if (line.length >= 16 && !line.startsWith('-----')) forms.push([`${name} (a PEM line)`, line.trim()]);
      }
    }
  }
  return forms;
}

function assertNoSecrets(where: string, text: string, secrets: Record<string, string>): void {
  for (const [name, form] of secretForms(secrets)) {
    assert.ok(!text.includes(form), `${where} contains the ${name}`);
  }
  assert.doesNotMatch(text, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, `${where} contains a PEM private key`);
}

interface RunOptions {
  readonly security: TestSecurity;
  /** A wrong SASL password: the output fails authentication and pauses. */
  readonly wrongPassword?: string;
  readonly logLevel?: 'debug' | 'trace';
}

async function runCaptured(
  options: RunOptions,
): Promise<{ captured: string; secrets: Record<string, string>; delivered: number }> {
  const cluster = await getTestKafkaCluster();
  const temp = await tempDir('redaction');
  temps.push(temp);
  const topic = uniqueTopicName('redaction');
  await cluster.createTopic(topic, { partitions: 1 });
  const { apiKey, apiSecret } = credentials();
  const configPath = await writeE2eConfig({
    dir: temp.dir,
    cluster,
    security: options.security,
    topic,
    apiKey,
    apiSecret,
    logLevel: options.logLevel ?? 'debug',
    output: options.wrongPassword === undefined ? {} : { password: options.wrongPassword },
  });
  const secrets: Record<string, string> = {
    'API secret': apiSecret,
    'Basic auth header': basicAuth(apiKey, apiSecret).slice('Basic '.length),
    'SCRAM-SHA-256 password': cluster.users.scramSha256.password,
    'SCRAM-SHA-512 password': cluster.users.scramSha512.password,
    'PLAIN password': cluster.users.plain.password,
    'client private key': readFileSync(cluster.clientKeyPemPath, 'utf8'),
  };
  if (options.wrongPassword !== undefined) secrets['wrong SASL password'] = options.wrongPassword;

  const child = await spawnForwarder(configPath);
  children.push(child);
  const answers: string[] = [];
  const runId = newRunId();
  const load = new LoadGenerator({
    port: child.port,
    apiKey,
    apiSecret,
    runId,
    users: 5,
    concurrency: 1,
    eventsPerBatch: 3,
    maxEvents: 60,
  });
  const result = await load.start().finished();

  // Error answers: a wrong secret, an unknown key, malformed JSON, an invalid batch; and a filtered batch.
  const body = JSON.stringify(buildBatch({ mpid: '1', runId, seqs: [1] }));
  for (const [auth, payload] of [
    [basicAuth(apiKey, `${apiSecret}-wrong`), body],
    [basicAuth('no-such-key', apiSecret), body],
    [basicAuth(apiKey, apiSecret), '{"events": ['],
    [basicAuth(apiKey, apiSecret), JSON.stringify({ events: [{ event_type: 'custom_event' }] })],
    // Accepted, and its one event filtered out (an unsupported type): the filter's debug line.
    [
      basicAuth(apiKey, apiSecret),
      JSON.stringify({
        ...buildBatch({ mpid: '2', runId, seqs: [] }),
        events: [{ event_type: 'pre_attribution', data: {} }],
      }),
    ],
  ] as const) {
    answers.push(await errorAnswer(child.port, auth, payload));
  }

  let delivered = 0;
  if (options.wrongPassword === undefined) {
    const report = await verifyDelivery(cluster, {
      topic,
      runId,
      accepted: result.accepted,
      timeoutMs: 30_000,
      quietMs: 300,
    });
    assert.deepEqual(report.missing, [], `the ${options.security} run forwarded everything`);
    delivered = report.events;
  } else {
    // Wait for the authentication failure to be reported (the output pauses).
    await waitForMetric(child.adminPort, 'kafka_forwarder_output_state', (value) => value === 1, {
      labels: { state: 'paused' },
      timeoutMs: 20_000,
    });
  }
  answers.push((await httpGet(child.adminPort, '/metrics')).body);
  answers.push((await httpGet(child.adminPort, '/readyz')).body);
  child.kill('SIGTERM');
  await child.exited;
  return { captured: `${child.output()}\n${answers.join('\n')}`, secrets, delivered };
}

async function errorAnswer(port: number, auth: string, body: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/v2/events`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body,
  });
  return `${response.status} ${await response.text()}`;
}

for (const [security, logLevel] of [
  ['SCRAM-SHA-512', 'debug'],
  ['MTLS', 'trace'],
] as const) {
  test(
    `${logLevel} logs of a whole ${security} run hold no password, API secret or private key`,
    { timeout: 120_000 },
    async (t) => {
      const { captured, secrets, delivered } = await runCaptured({ security, logLevel });
      t.diagnostic(`captured ${captured.length} characters of output; ${delivered} events delivered`);
      // The capture is real: the forwarder's own debug lines, from every step, are in it.
      for (const message of [
        'configuration loaded',
        'Kafka connection open',
        'Kafka metadata refreshed',
        'produced',
        'events filtered out',
      ])
        assert.match(captured, new RegExp(`"level":"debug".*"msg":"${message}"`), `debug: ${message}`);
      assert.match(captured, /"level":"info".*"msg":"Kafka output checked/, 'the start-up check');
      assert.match(captured, /"level":"info".*"reason":"AUTH_INVALID".*"msg":"request rejected"/, 'rejections');
      if (logLevel === 'trace')
        assert.match(captured, /"level":"trace".*"msg":"Kafka client diagnostic"/, 'the client’s own diagnostics');
      assertNoSecrets(`${security} run output`, captured, secrets);
    },
  );
}

test('a Kafka authentication failure is reported without the password', { timeout: 120_000 }, async (t) => {
  const wrongPassword = `wrong-${newRunId()}-password`;
  const { captured, secrets } = await runCaptured({ security: 'SCRAM-SHA-256', wrongPassword });
  t.diagnostic(`captured ${captured.length} characters of output`);
  assert.match(captured, /SASL|authenticat/i, 'the failure was reported');
  assertNoSecrets('failed-authentication run output', captured, secrets);
});
