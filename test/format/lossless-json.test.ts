import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson, stringifyJson, stringifyJsonToBuffer } from '../../src/format/lossless-json.ts';
import { isForwarderError } from '../../src/errors.ts';
import type { JsonObject } from '../../src/format/json-value.ts';

void describe('parseJson', () => {
  void it('keeps signed 64-bit extremes exact as bigints', () => {
    const value = parseJson('[9223372036854775807,-9223372036854775808,9223372036854775806,-9223372036854775807]');
    assert.deepEqual(value, [9223372036854775807n, -9223372036854775808n, 9223372036854775806n, -9223372036854775807n]);
  });

  void it('keeps mParticle-style IDs that a double would round, such as -7636538281262557000', () => {
    const batch = parseJson('{"mpid":-7636538281262557000,"batch_id":-8602161397754364000}') as JsonObject;
    assert.equal(batch.mpid, -7636538281262557000n);
    assert.equal(batch.batch_id, -8602161397754364000n);
  });

  void it('keeps safe integers as numbers and makes every integer past 2^53 - 1 a bigint', () => {
    assert.deepEqual(
      parseJson('[9007199254740991,-9007199254740991,9007199254740992,9007199254740993,-9007199254740993]'),
      [9007199254740991, -9007199254740991, 9007199254740992n, 9007199254740993n, -9007199254740993n],
    );
  });

  void it('keeps small integers, floats and exponents as numbers', () => {
    assert.deepEqual(
      parseJson('[0,-1,42,3.14,-0.5,1e3,1.5e300,2E-7,12345678901234567890.5]'),
      [0, -1, 42, 3.14, -0.5, 1000, 1.5e300, 2e-7, 12345678901234567890.5],
    );
  });

  void it('parses unicode strings, escapes and surrogate pairs', () => {
    assert.deepEqual(parseJson('{"name":"Zoë 日本 🎉","escaped":"\\u00e9\\ud83c\\udf89\\n"}'), {
      name: 'Zoë 日本 🎉',
      escaped: 'é🎉\n',
    });
  });

  void it('parses deep nesting with a bigint at the bottom', () => {
    const depth = 500;
    const text = '['.repeat(depth) + '-9223372036854775808' + ']'.repeat(depth);
    let value = parseJson(text);
    for (let i = 0; i < depth; i++) value = (value as unknown[])[0] as typeof value;
    assert.equal(value, -9223372036854775808n);
  });

  void it('accepts a Buffer holding UTF-8', () => {
    assert.deepEqual(parseJson(Buffer.from('{"a":"ü","id":18446744073709551615}')), {
      a: 'ü',
      id: 18446744073709551615n,
    });
  });

  void it('throws BAD_JSON naming the position on malformed input', () => {
    for (const [text, expected] of [
      ['{"a":1,}', /position 7/],
      ['{"a":1', /end of JSON input|position/],
      ['', /end of JSON input/],
      ['nope', /not valid JSON/],
    ] as const) {
      assert.throws(
        () => parseJson(text),
        (error: unknown) => isForwarderError(error, 'BAD_JSON') && expected.test(error.message) && error.status === 400,
        text,
      );
    }
  });
});

void describe('stringifyJson', () => {
  void it('writes bigints as their digits, compact', () => {
    assert.equal(
      stringifyJson({ mpid: -9223372036854775808n, list: [1n, 2, 'x'] }),
      '{"mpid":-9223372036854775808,"list":[1,2,"x"]}',
    );
  });

  void it('round-trips canonical compact JSON byte for byte', () => {
    const texts = [
      '{"mpid":9223372036854775807,"min":-9223372036854775808,"id":-7636538281262557000,"small":7,"f":0.1,"e":1e+300}',
      '{"near":[9007199254740991,9007199254740992,9007199254740993,-9007199254740993],"n":null,"t":true,"f":false}',
      '{"s":"Zoë 🎉 \\"quoted\\" \\\\ \\n","empty":{},"arr":[],"nested":{"a":{"b":[[-1]]}}}',
      '[18446744073709551616,-18446744073709551617,100000000000000000000000]',
    ];
    for (const text of texts) assert.equal(stringifyJson(parseJson(text)), text);
  });

  void it('has a Buffer variant with the same bytes', () => {
    const value = parseJson('{"a":"é","b":9223372036854775807}');
    assert.deepEqual(stringifyJsonToBuffer(value), Buffer.from('{"a":"é","b":9223372036854775807}', 'utf8'));
  });
});
