import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED, buildConfig, redactConfig, secretConfigPaths, secretSettingPaths } from '../../src/config/index.ts';
import { makeCertificate } from './pem-fixtures.ts';

void describe('secrets', () => {
  void it('lists the secret settings, in file and in config form', () => {
    assert.deepEqual([...secretSettingPaths].sort(), [
      'inputs[*].credentials[*].api_secret',
      'outputs[*].client_key_pem',
      'outputs[*].password',
      'server.tls.key_pem',
      'spool.kafka.client_key_pem',
      'spool.kafka.password',
    ]);
    assert.deepEqual([...secretConfigPaths].sort(), [
      'inputs[*].credentials[*].apiSecret',
      'outputs[*].clientKeyPem',
      'outputs[*].password',
      'server.tls.keyPem',
      'spool.kafka.clientKeyPem',
      'spool.kafka.password',
    ]);
  });

  void it('redactConfig replaces every secret and leaves the rest and the original alone', async () => {
    const client = makeCertificate('client');
    const config = await buildConfig({
      server: { tls: { cert_pem: client.certPem, key_pem: client.keyPem } },
      inputs: [
        {
          name: 'i',
          credentials: [
            { api_key: 'k1', api_secret: 'SECRET-A' },
            { api_key: 'k2', api_secret: 'SECRET-B' },
          ],
        },
      ],
      outputs: [
        { name: 'o', bootstrap_servers: 'b:9093', topic: 't', username: 'u', password: 'SECRET-C' },
        {
          name: 'tls-only',
          bootstrap_servers: 'b:9093',
          topic: 't',
          client_cert_pem: client.certPem,
          client_key_pem: client.keyPem,
        },
      ],
      connections: [
        { name: 'c', input: 'i', output: 'o' },
        { name: 'c2', input: 'i', output: 'tls-only' },
      ],
    });
    const redacted = redactConfig(config);
    const text = JSON.stringify(redacted);
    for (const secret of ['SECRET-A', 'SECRET-B', 'SECRET-C', 'PRIVATE KEY']) assert.ok(!text.includes(secret), secret);
    assert.equal(redacted.outputs[0].password, REDACTED);
    assert.equal(redacted.outputs[1].password, undefined, 'an unset secret stays unset');
    assert.equal(redacted.outputs[1].clientKeyPem, REDACTED);
    assert.equal(redacted.server.tls?.keyPem, REDACTED);
    assert.equal(redacted.inputs[0].credentials[1].apiKey, 'k2');
    assert.equal(redacted.outputs[1].clientCertPem, client.certPem);
    assert.equal(config.outputs[0].password, 'SECRET-C');
  });
});
