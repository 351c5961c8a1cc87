// Nothing the project runs or tests may depend on a path outside the repository: a user clones it
// anywhere. This scans every tracked file outside docs/ for an absolute path of a machine (a home or
// work directory, or the folder this clone happens to live in) and for a relative path that climbs
// out of the repository (like a sibling `shared` folder). Paths are derived from import.meta.url or
// process.execPath instead, and fixtures live in test/fixtures/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..');
const SELF = path.relative(ROOT, import.meta.filename);

function trackedFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return listed
    .split('\0')
    .filter((file) => file !== '' && !file.startsWith('docs/') && file !== 'package-lock.json' && file !== SELF);
}

/** Absolute locations no file may name: this clone's own folders, and the usual roots of personal or work trees. */
function forbiddenPrefixes(): string[] {
  // Spelled out of parts, so that this file does not itself name the paths it looks for.
  const prefixes = new Set([
    ...['work', 'home', 'root', 'Users'].map((root) => `/${root}/`),
    ['C:', 'Users', ''].join('\\'),
  ]);
  prefixes.add(`${ROOT}/`);
  const parent = path.dirname(ROOT);
  if (parent !== '/' && parent !== '/tmp') prefixes.add(`${parent}/`);
  return [...prefixes];
}

test('no tracked file outside docs/ names an absolute path of this machine or a path out of the repository', () => {
  const prefixes = forbiddenPrefixes();
  const violations: string[] = [];
  for (const file of trackedFiles()) {
    let text: string;
    try {
      text = readFileSync(path.join(ROOT, file), 'utf8');
    } catch {
      continue; // a file deleted in the work tree but still tracked
    }
    if (text.includes('\0')) continue; // binary
    text.split('\n').forEach((line, index) => {
      for (const prefix of prefixes) {
        if (line.includes(prefix)) violations.push(`${file}:${index + 1} names ${prefix}`);
      }
      for (const match of line.matchAll(/(?:^|[\s'"`(=])((?:\.\.\/)+[\w.@-][^\s'"`)]*)/g)) {
        const target = path.resolve(path.dirname(path.join(ROOT, file)), match[1]);
        if (target !== ROOT && !target.startsWith(`${ROOT}${path.sep}`)) {
          violations.push(`${file}:${index + 1} reaches outside the repository: ${match[1]}`);
        }
      }
    });
  }
  assert.deepEqual(violations, []);
});
