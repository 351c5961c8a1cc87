import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  firstInvalidUtf8,
  MAX_NESTING_DEPTH,
  parseJson,
  stringifyJson,
  stringifyJsonToBuffer,
} from '../../src/format/lossless-json.ts';
import { integerOfLiteral } from '../../src/format/batch.ts';
import { isForwarderError } from '../../src/errors.ts';
import { isRawJsonNumber } from '../../src/format/json-value.ts';
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

  void it('keeps small integers, floats and exponents that write back as read as plain numbers', () => {
    assert.deepEqual(
      parseJson('[0,-1,42,3.14,-0.5,1.5e+300,2e-7,19.99]'),
      [0, -1, 42, 3.14, -0.5, 1.5e300, 2e-7, 19.99],
    );
  });

  void it('parses unicode strings, escapes and surrogate pairs', () => {
    assert.deepEqual(parseJson('{"name":"Zoë 日本 🎉","escaped":"\\u00e9\\ud83c\\udf89\\n"}'), {
      name: 'Zoë 日本 🎉',
      escaped: 'é🎉\n',
    });
  });

  void it('parses nesting up to the limit with a bigint at the bottom', () => {
    const depth = MAX_NESTING_DEPTH;
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

void describe('parseJson marker pass (long integers outside strings)', () => {
  void it('leaves digits inside strings alone, including after escaped quotes', () => {
    const text =
      '{"a":"x 12345678901234567890 \\" 98765432109876543210","b":-9223372036854775808,"c":["1234567890123456789"]}';
    assert.equal(stringifyJson(parseJson(text)), text);
    assert.equal((parseJson(text) as JsonObject).b, -9223372036854775808n);
  });

  void it('keeps safe 16-digit integers as numbers and unsafe ones as bigints', () => {
    const value = parseJson('[9007199254740991,-9007199254740991,9007199254740992,1000000000000000]') as unknown[];
    assert.deepEqual(value, [9007199254740991, -9007199254740991, 9007199254740992n, 1000000000000000]);
  });

  void it('does not turn malformed numbers into valid JSON', () => {
    for (const text of [
      '{1234567890123456789:1}',
      '[00000000000000001]',
      '[--1234567890123456789]',
      '[1234567890123456789x]',
    ]) {
      assert.throws(
        () => parseJson(text),
        (error: unknown) => isForwarderError(error, 'BAD_JSON'),
        text,
      );
    }
  });

  void it('keeps every number token exactly as written, also fractions, exponents and minus zero', () => {
    const texts = [
      '[12345678901234567.5,1.12345678901234567,1e1234567890123456,1e400,-0,10.0,1e3,1E+3,0.10000000000000001,-0.0]',
      '{"price":19.99,"qty":2,"ratio":0.5,"big":1.5e300,"t":1700000000000,"neg":-12.25}',
      '[10.0]',
      '{"a":-0}',
    ];
    for (const text of texts) assert.equal(stringifyJson(parseJson(text)), text);
    const value = parseJson('[19.99,10.0,1e3,-0]') as unknown[];
    assert.equal(value[0], 19.99, 'a number that round-trips stays a number');
    assert.equal(isRawJsonNumber(value[1]), true);
    assert.equal(isRawJsonNumber(value[2]), true);
    assert.equal(isRawJsonNumber(value[3]), true);
  });

  void it('keeps numbers exact on the reviver path too (texts holding a \\u0000 escape)', () => {
    const text = '{"s":"\\u0000","a":[10.0,-0,1e400,12345678901234567890,0.5]}';
    assert.equal(stringifyJson(parseJson(text)), text);
  });

  void it('reads a text holding a \\u0000 escape exactly (the marker cannot collide)', () => {
    const text = '{"a":"\\u0000#1","b":12345678901234567890}';
    const value = parseJson(text) as JsonObject;
    assert.equal(value.a, '\u0000#1');
    assert.equal(value.b, 12345678901234567890n);
  });

  void it('handles very long strings next to long integers', () => {
    const text = `{"s":"${'y'.repeat(300_000)}","n":12345678901234567891}`;
    assert.equal(stringifyJson(parseJson(text)), text);
  });
});

void describe('parseJson nesting limit', () => {
  void it('rejects documents nested deeper than MAX_NESTING_DEPTH, and accepts that depth', () => {
    const nested = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    assert.doesNotThrow(() => parseJson(nested(MAX_NESTING_DEPTH)));
    for (const text of [nested(MAX_NESTING_DEPTH + 1), `{"a":${nested(20_000)},"id":12345678901234567890}`]) {
      assert.throws(
        () => parseJson(text),
        (error: unknown) => isForwarderError(error, 'BAD_JSON') && /nest deeper than 64 levels/.test(error.message),
      );
    }
  });

  void it('does not count brackets inside strings', () => {
    const text = `{"s":"${'['.repeat(500)}\\"${'{'.repeat(500)}"}`;
    assert.equal(stringifyJson(parseJson(text)), text);
  });
});

void describe('parseJson UTF-8', () => {
  void it('finds the first ill-formed sequence where Buffer decoding would substitute U+FFFD', () => {
    const cases: [number[], number][] = [
      [[0x61, 0x62], -1],
      [[0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], -1], // € and an emoji
      [[0x61, 0xff], 1],
      [[0xc3, 0x28], 0], // a lead byte without its continuation
      [[0xc0, 0x80], 0], // overlong
      [[0xed, 0xa0, 0x80], 0], // a UTF-16 surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0], // beyond U+10FFFF
      [[0x61, 0xe2, 0x82], 1], // cut short at the end
    ];
    for (const [bytes, offset] of cases) {
      assert.equal(firstInvalidUtf8(Uint8Array.from(bytes)), offset, Buffer.from(bytes).toString('hex'));
      assert.equal(offset === -1, Buffer.from(bytes).toString('utf8').includes('\ufffd') === false);
    }
  });

  void it('refuses invalid bytes with BAD_JSON and ignores a leading BOM', () => {
    assert.throws(
      () => parseJson(Buffer.from([0x22, 0xff, 0x22])),
      (error) => isForwarderError(error, 'BAD_JSON') && /byte 0xff at offset 1/.test(error.message),
    );
    assert.equal(parseJson(Buffer.from([0xef, 0xbb, 0xbf, 0x22, 0x61, 0x22])), 'a');
  });
});

void describe('integerOfLiteral', () => {
  void it('finds the integer of integral literals, whatever their notation', () => {
    const cases: [string, bigint | undefined][] = [
      ['13.0', 13n],
      ['-1505126866959.0', -1505126866959n],
      ['1e3', 1000n],
      ['1.5e1', 15n],
      ['1500e-2', 15n],
      ['-0', 0n],
      ['0.0e5', 0n],
      ['13.5', undefined],
      ['1e-1', undefined],
      ['1e400', undefined],
      ['9223372036854775807.000', 9223372036854775807n],
    ];
    for (const [text, expected] of cases) assert.equal(integerOfLiteral(text), expected, text);
  });
});
