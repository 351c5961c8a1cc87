import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig, redactConfig } from '../../src/config/index.ts';

const examplePath = fileURLToPath(new URL('../../examples/kafka-forwarder.yaml', import.meta.url));

void describe('examples/kafka-forwarder.yaml', () => {
  void it('is a valid configuration once the variables it references are set', async () => {
    const text = await readFile(examplePath, 'utf8');
    const referenced = [...text.matchAll(/^[^#]*?\$\{([A-Za-z_][A-Za-z0-9_]*)\}/gm)].map((match) => match[1]);
    assert.deepEqual(
      new Set(referenced),
      new Set(['MP_API_KEY', 'MP_API_SECRET', 'KAFKA_BOOTSTRAP_SERVERS', 'KAFKA_USERNAME', 'KAFKA_PASSWORD']),
    );
    const env = {
      MP_API_KEY: 'us1-key',
      MP_API_SECRET: 'example-secret',
      KAFKA_BOOTSTRAP_SERVERS: 'broker-1.example.com:9093,broker-2.example.com:9093',
      KAFKA_USERNAME: 'mparticle',
      KAFKA_PASSWORD: 'example-password',
    };
    const config = await loadConfig({ path: examplePath, env });
    assert.deepEqual(config.outputs[0].bootstrapServers, ['broker-1.example.com:9093', 'broker-2.example.com:9093']);
    assert.equal(config.outputs[0].authenticationMethod, 'SCRAM-SHA-512');
    assert.equal(redactConfig(config).outputs[0].password, '[redacted]');
  });

  void it("mirrors every Connection Setting of mParticle's table, one for one", async () => {
    const text = await readFile(examplePath, 'utf8');
    for (const key of [
      'unique_id',
      'metadata_field_exclusion',
      'send_network_performance_events',
      'send_as_batch',
      'include_location_information',
      'include_metadata',
      'include_user_attribute_change_events',
      'include_user_identity_change_events',
      'send_batches_without_events',
      'include_mp_device_id',
      'include_event_batch_location',
      'bootstrap_servers',
      'topic',
      'authentication_method',
      'username',
      'password',
    ]) {
      assert.match(text, new RegExp(`^\\s*(# )?${key}:`, 'm'), key);
    }
  });
});
