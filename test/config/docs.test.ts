import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { docsPath, renderConfigDocs } from '../../scripts/gen-config-docs.ts';
import { configSchema } from '../../src/config/schema.ts';

void describe('docs/configuration.md', () => {
  void it('is current with the schema', async () => {
    const written = await readFile(docsPath, 'utf8');
    assert.ok(
      written === (await renderConfigDocs()),
      'docs/configuration.md is out of date with src/config/schema.ts; run: node scripts/gen-config-docs.ts',
    );
  });

  void it("names every mParticle setting of the Kafka integration's two tables", async () => {
    const text = await renderConfigDocs();
    for (const setting of [
      'Apache Kafka Bootstrap Servers',
      'Topic Name',
      'Authentication Method',
      'User Name',
      'Password',
      'Unique ID',
      'Metadata Field Exclusion',
      'Send Network Performance Events',
      'Send as Batch',
      'Include Location Information',
      'Include Metadata',
      'Include User Attribute Change Events',
      'Include User Identity Change Events',
      'Send Batches without Events',
      'Include MP DeviceId',
      'Include Event Batch Location',
    ]) {
      assert.match(text, new RegExp(`\\| ${setting} +\\|`), setting);
    }
    assert.ok(configSchema.properties?.outputs.items?.properties?.password.description?.includes('"Password"'));
  });
});
