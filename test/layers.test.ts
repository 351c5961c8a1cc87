// The source tree is layered, and imports only go downward (or sideways within a folder), so a
// newcomer can read it from the top and every module can be tested with what lies below it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const SRC = path.join(import.meta.dirname, '..', 'src');

/** Higher number = lower layer. Modules may import from their own layer or any lower one. */
function layerOf(file: string): { name: string; rank: number } {
  const relative = path.relative(SRC, file).split(path.sep).join('/');
  const table: [RegExp, string, number][] = [
    [/^cli\//, 'cli', 0],
    [/^main\.ts$/, 'main', 1],
    [/^pipeline\//, 'pipeline', 2],
    [/^sources\//, 'sources', 3],
    [/^sinks\//, 'sinks', 3],
    [/^spool\//, 'spool', 4],
    [/^config\//, 'config', 4],
    [/^format\//, 'format', 5],
    [/^telemetry\//, 'telemetry', 5],
    [/^errors\.ts$/, 'errors', 6],
  ];
  for (const [pattern, name, rank] of table) if (pattern.test(relative)) return { name, rank };
  throw new Error(`src/${relative} belongs to no layer; add it to the table in test/layers.test.ts`);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

test('src/ imports only go down the layers, and sources and sinks do not import each other', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = layerOf(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = path.resolve(path.dirname(file), match[1]);
      const to = layerOf(target);
      const sideways = from.rank === to.rank && from.name !== to.name;
      if (to.rank < from.rank || sideways) {
        violations.push(`${path.relative(SRC, file)} (${from.name}) imports ${match[1]} (${to.name})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test("only the sink's and the Kafka spool's client modules import the Kafka client library", () => {
  const importers = sourceFiles(SRC)
    .filter((file) => /from\s+'@platformatic\/kafka'/.test(readFileSync(file, 'utf8')))
    .map((file) => path.relative(SRC, file));
  assert.deepEqual(importers.sort(), ['sinks/kafka/kafka-client.ts', 'spool/kafka/client.ts']);
});

test('each folder of src/ is imported from outside it only through its index.ts', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = path.resolve(path.dirname(file), match[1]);
      const targetFolder = path.dirname(target);
      // Within a folder, a subfolder (sinks/kafka/diagnose/) is part of it and may use its files.
      const insideFolder = `${path.dirname(file)}${path.sep}`.startsWith(`${targetFolder}${path.sep}`);
      // Files at the top of src/ (errors.ts, main.ts) are their own public face.
      const topLevel = targetFolder === SRC;
      if (!insideFolder && !topLevel && path.basename(target) !== 'index.ts') {
        violations.push(`${path.relative(SRC, file)} imports ${match[1]}`);
      }
    }
  }
  assert.deepEqual(violations, []);
});
