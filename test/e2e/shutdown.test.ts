// Graceful shutdown under load: SIGTERM the forwarder process and check, in order, that
// readiness fails, new requests get 503, the request in flight finishes (202), the process exits
// within its configured deadline even with a client stalled mid-request, and that nothing it
// accepted is lost: what was not yet in Kafka is delivered after a restart on the same spool.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { getTestKafkaCluster, uniqueTopicName } from '../support/kafka.ts';
import { killForwarder, spawnForwarder, type ForwarderChild } from './support/child.ts';
import { writeE2eConfig } from './support/config.ts';
import { basicAuth, buildBatch, LoadGenerator } from './support/load.ts';
import { canConnect, openRawRequest } from './support/raw-http.ts';
import { credentials, newRunId, sleep, tempDir, waitUntil } from './support/scenario.ts';
import { describeReport, verifyDelivery } from './support/verify.ts';

const SHUTDOWN_TIMEOUT_MS = 5_000;
// Beyond the deadline, only process exit itself: signal delivery, closing the spool's database.
const EXIT_ALLOWANCE_MS = 1_500;

const children: ForwarderChild[] = [];
let temp: Awaited<ReturnType<typeof tempDir>> | undefined;

after(async () => {
  for (const child of children) await killForwarder(child);
  await temp?.remove();
});

test(
  'SIGTERM under load: not ready, 503 for new requests, in-flight finishes, exit by the deadline, nothing lost',
  { timeout: 180_000 },
  async (t) => {
    const cluster = await getTestKafkaCluster();
    temp = await tempDir('shutdown');
    const topic = uniqueTopicName('shutdown');
    await cluster.createTopic(topic, { partitions: 3 });
    const { apiKey, apiSecret } = credentials();
    const configPath = await writeE2eConfig({
      dir: temp.dir,
      cluster,
      security: 'SCRAM-SHA-256',
      topic,
      apiKey,
      apiSecret,
      shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
    });
    const first = await spawnForwarder(configPath);
    children.push(first);
    const runId = newRunId();
    const load = new LoadGenerator({
      port: first.port,
      apiKey,
      apiSecret,
      runId,
      users: 20,
      concurrency: 2,
      eventsPerBatch: 5,
      pauseMs: 10,
      maxEvents: 40_000,
    }).start();
    await sleep(3_000);

    // Requests begun before the signal: each has sent some bytes, so the server counts it as active.
    const inFlightMpid = '9001';
    const inFlightBody = JSON.stringify(buildBatch({ mpid: inFlightMpid, runId, seqs: [1, 2, 3] }));
    const headers = (path: string, length: number): string =>
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${basicAuth(apiKey, apiSecret)}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    const inFlight = await openRawRequest(
      first.port,
      headers('/v2/events', Buffer.byteLength(inFlightBody)) + inFlightBody.slice(0, 40),
    );
    const stalledBody = JSON.stringify(buildBatch({ mpid: '9002', runId, seqs: [1] }));
    const stalled = await openRawRequest(
      first.port,
      headers('/v2/events', Buffer.byteLength(stalledBody)) + stalledBody.slice(0, 10),
    );
    const readiness = await openRawRequest(first.adminPort, 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const newRequest = await openRawRequest(first.port, 'POST /v2/events HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await sleep(200);

    const signalledAt = Date.now();
    first.kill('SIGTERM');
    // The listening socket closes as shutdown begins; from then on the server is closing.
    await waitUntil('the server stops taking connections', async () => !(await canConnect(first.port)), 5_000);

    readiness.write('\r\n');
    const ready = await readiness.answer;
    assert.equal(ready.status, 503, `readiness fails during shutdown:\n${ready.text}`);
    assert.match(ready.text, /shutting down/);

    newRequest.write(
      `Authorization: ${basicAuth(apiKey, apiSecret)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(inFlightBody)}\r\n\r\n${inFlightBody}`,
    );
    const refused = await newRequest.answer;
    assert.equal(refused.status, 503, `a request begun after SIGTERM gets 503:\n${refused.text}`);

    inFlight.write(inFlightBody.slice(40));
    const finished = await inFlight.answer;
    assert.equal(finished.status, 202, `the request in flight at SIGTERM finishes:\n${finished.text}`);

    const exit = await first.exited;
    const shutdownMs = Date.now() - signalledAt;
    const result = await load.stop();
    stalled.destroy();
    t.diagnostic(`exited ${JSON.stringify(exit)} ${shutdownMs} ms after SIGTERM (deadline ${SHUTDOWN_TIMEOUT_MS} ms)`);
    assert.equal(exit.code, 0, 'a graceful shutdown exits 0');
    assert.ok(
      shutdownMs <= SHUTDOWN_TIMEOUT_MS + EXIT_ALLOWANCE_MS,
      `exits within the deadline although a client stalls mid-request (took ${shutdownMs} ms)`,
    );

    const accepted = new Map(result.accepted);
    accepted.set(inFlightMpid, [1, 2, 3]);
    const acceptedEvents = result.acceptedEvents + 3;
    const beforeRestart = await verifyDelivery(cluster, { topic, runId, accepted, timeoutMs: 5_000, quietMs: 500 });
    t.diagnostic(
      `in Kafka before the restart: ${acceptedEvents - beforeRestart.missing.length} of ${acceptedEvents} accepted events`,
    );

    const second = await spawnForwarder(configPath);
    children.push(second);
    const report = await verifyDelivery(cluster, { topic, runId, accepted, timeoutMs: 60_000 });
    t.diagnostic(describeReport('graceful shutdown + restart', acceptedEvents, report));
    t.diagnostic(`answers during the run: ${JSON.stringify(result.statusCounts)}`);
    assert.deepEqual(report.missing, [], 'every accepted event arrives, after the restart at the latest');
    second.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);
  },
);
