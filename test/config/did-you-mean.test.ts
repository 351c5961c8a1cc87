import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closest, levenshtein } from '../../src/config/did-you-mean.ts';

void describe('did you mean', () => {
  void it('counts edits, with a swap of neighbours as one', () => {
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('batch', 'bacth'), 1);
    assert.equal(levenshtein('', 'abc'), 3);
  });

  void it('suggests only close candidates, ignoring case and - versus _', () => {
    assert.equal(closest('topc', ['topic', 'username']), 'topic');
    assert.equal(closest('scram-sha-256', ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']), 'SCRAM-SHA-256');
    assert.equal(closest('xyz', ['topic', 'username']), undefined);
    assert.equal(closest('ab', ['cd']), undefined);
  });
});
