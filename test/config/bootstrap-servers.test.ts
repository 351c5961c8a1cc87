import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBootstrapServers } from '../../src/config/bootstrap-servers.ts';

void describe('parseBootstrapServers', () => {
  void it('splits mParticle’s comma-separated string and trims spaces', () => {
    assert.deepEqual(parseBootstrapServers('a.example.com:9093, b.example.com:9094 ,[::1]:9092'), {
      servers: ['a.example.com:9093', 'b.example.com:9094', '[::1]:9092'],
      problems: [],
    });
  });

  void it('accepts a YAML list', () => {
    assert.deepEqual(parseBootstrapServers(['a:1', 'b:65535']).servers, ['a:1', 'b:65535']);
  });

  void it('names each bad entry by its position', () => {
    const { problems } = parseBootstrapServers(
      'ok:9093,nohost,:9093,big:65536,zero:0,,SASL_SSL://x:9093,::1:9093,a:9093,bad host:1',
    );
    assert.deepEqual(
      problems.map((problem) => [problem.index, problem.problem]),
      [
        [1, '"nohost" has no port'],
        [2, '":9093" has no host'],
        [3, 'the port of "big:65536" is 65536, outside 1–65535'],
        [4, 'the port of "zero:0" is 0, outside 1–65535'],
        [5, 'is empty'],
        [6, '"SASL_SSL://x:9093" starts with SASL_SSL://'],
        [7, '"::1:9093" looks like an IPv6 address without brackets'],
        [9, '"bad host" in "bad host:1" is not a valid host name'],
      ],
    );
  });

  void it('reports duplicates and an empty list', () => {
    assert.deepEqual(
      parseBootstrapServers('a:1,A:1').problems.map((problem) => problem.index),
      [1],
    );
    assert.deepEqual(parseBootstrapServers('').problems, [
      { index: undefined, problem: 'lists no brokers', fix: 'give at least one host:port' },
    ]);
    assert.equal(parseBootstrapServers([]).problems.length, 1);
  });

  void it('reports entries of a YAML list in the loader with the list index', async () => {
    const { buildConfig } = await import('../../src/config/load.ts');
    await assert.rejects(
      buildConfig({
        inputs: [{ name: 'i', credentials: [{ api_key: 'k', api_secret: 's' }] }],
        outputs: [{ name: 'o', bootstrap_servers: ['a:9093', 'b'], topic: 't' }],
        connections: [{ name: 'c', input: 'i', output: 'o' }],
      }),
      /- outputs\[0\]\.bootstrap_servers\[1\]: "b" has no port; add the port, e.g\. b:9093/,
    );
  });
});
