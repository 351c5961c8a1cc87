// Like fastify's: every error code is documented. docs/errors.md must name each code of the error
// registry (src/errors.ts) and each classification of the Kafka error table.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { errorRegistry } from '../src/errors.ts';
import { kafkaErrorTable } from '../src/sinks/kafka/error-table.ts';

const docs = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

test('every code of the error registry is documented in docs/errors.md', () => {
  const missing = Object.keys(errorRegistry).filter((code) => !docs.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});

test('every Kafka error classification is documented in docs/errors.md', () => {
  const missing = [...new Set([...kafkaErrorTable.map((rule) => rule.code), 'UNCLASSIFIED'])].filter(
    (code) => !docs.includes(`\`${code}\``),
  );
  assert.deepEqual(missing, []);
});
