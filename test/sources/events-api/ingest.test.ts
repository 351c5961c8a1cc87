// The Events API over real sockets against the real forwarder (src/main.ts): every hostile or broken
// request gets its exact status and mParticle-shaped message, and is never stored; valid ones are
// stored exactly once, byte for byte.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { ClientRequest } from 'node:http';
import { createGzip, gzipSync } from 'node:zlib';
import { parseJson } from '../../../src/format/lossless-json.ts';
import {
  API_KEY,
  API_SECRET,
  OTHER_CONNECTION,
  OTHER_KEY,
  OTHER_SECRET,
  ROTATED_KEY,
  ROTATED_SECRET,
  answerOf,
  basicAuth,
  post,
  smallBatch,
  startTestForwarder,
} from './support/forwarder.ts';
import type { Answer, TestForwarder } from './support/forwarder.ts';

const EVENT_TYPES_LIST =
  'custom_event, commerce_event, screen_view, session_start, session_end, crash_report, network_performance, ' +
  'breadcrumb, first_run, opt_out, push_registration, push_message, application_state_transition, profile, ' +
  'uninstall, user_attribute_change, user_identity_change (or pre_attribution, push_reaction, unknown, which are ' +
  'accepted but not forwarded)';

function assertError(answer: Answer, status: number, code: string, reason: string, message: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.deepEqual(answer.error, { code, message, reason });
}

/** A batch whose stored (compact JSON) form is exactly `bytes` long, padded with one user attribute. */
function paddedBatch(marker: string, bytes: number): Record<string, unknown> {
  const base = JSON.stringify(smallBatch(marker, { user_attributes: { pad: '' } })).length;
  return smallBatch(marker, { user_attributes: { pad: 'x'.repeat(bytes - base) } });
}

/** A gzip stream of `decodedBytes` spaces, built chunk by chunk so the test itself stays small. */
async function gzipBomb(decodedBytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve) => gzip.once('end', resolve));
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  for (let written = 0; written < decodedBytes; written += chunk.length) {
    if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
  return Buffer.concat(out);
}

/** A POST with a chunked body (no Content-Length), so the server must count as it reads. */
function postChunked(url: string, path: string, parts: readonly Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method: 'POST', headers: { 'content-type': 'application/json', authorization: basicAuth() } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => (body += text));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    // The server may answer 413 and close before it has read everything we send.
    req.on('error', reject);
    const send = (i: number): void => {
      if (i === parts.length) return void req.end();
      if (req.destroyed) return;
      req.write(parts[i], () => send(i + 1));
    };
    send(0);
  });
}

void describe('Events API: requests that are rejected, and never stored', () => {
  let server: TestForwarder;
  let storedBefore = 0;
  before(async () => {
    server = await startTestForwarder();
  });
  after(() => server.close());

  const expectNothingStored = async (): Promise<void> => {
    assert.equal((await server.records()).length, storedBefore);
  };
  const remember = async (): Promise<void> => {
    storedBefore = (await server.records()).length;
  };

  void it('malformed JSON: 400 BAD_JSON with the parser position', async () => {
    await remember();
    assertError(
      await post(server.url, '/v2/events', '{"environment":"production",'),
      400,
      'BAD_REQUEST',
      'BAD_JSON',
      'The request body is not valid JSON: Expected double-quoted property name in JSON at position 28 (line 1 column 29).',
    );
    assertError(
      await post(server.url, '/v2/bulkevents', '[{"environment":"production"} {}]'),
      400,
      'BAD_REQUEST',
      'BAD_JSON',
      "The request body is not valid JSON: Expected ',' or ']' after array element in JSON at position 30 (line 1 column 31).",
    );
    await expectNothingStored();
  });

  void it('a body that is not valid UTF-8: 400 BAD_JSON naming the byte and its offset, nothing stored', async () => {
    await remember();
    const prefix =
      '{"environment":"development","mpid":1,"events":[{"event_type":"custom_event","data":{"event_name":"';
    const suffix = '","custom_event_type":"other"}}]}';
    for (const [bytes, name] of [
      [[0xff, 0xfe], '0xff'],
      [[0xc3, 0x28], '0xc3'],
    ] as const) {
      const body = Buffer.concat([Buffer.from(prefix), Buffer.from(bytes), Buffer.from(suffix)]);
      assertError(
        await post(server.url, '/v2/events', body),
        400,
        'BAD_REQUEST',
        'BAD_JSON',
        `The request body is not valid JSON: the body is not valid UTF-8: byte ${name} at offset ${prefix.length} begins no well-formed UTF-8 character.`,
      );
    }
    await expectNothingStored();
  });

  void it('a leading UTF-8 byte order mark is ignored', async () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('{"environment":"development","mpid":1,"events":[]}'),
    ]);
    const answer = await post(server.url, '/v2/events', body);
    assert.equal(answer.status, 202);
  });

  void it('an empty body: 400', async () => {
    await remember();
    assertError(
      await post(server.url, '/v2/events', ''),
      400,
      'BAD_REQUEST',
      'BAD_JSON',
      'The request body is not valid JSON: the body is empty.',
    );
    await expectNothingStored();
  });

  void it('an array sent to /v2/events and an object sent to /v2/bulkevents: 400', async () => {
    await remember();
    assertError(
      await post(server.url, '/v2/events', [smallBatch('arr')]),
      400,
      'BAD_REQUEST',
      'BAD_REQUEST',
      'body: an array is not a batch; /v2/events takes one batch object (send arrays of batches to /v2/bulkevents)',
    );
    assertError(
      await post(server.url, '/v2/bulkevents', smallBatch('obj')),
      400,
      'BAD_REQUEST',
      'BAD_REQUEST',
      'body: /v2/bulkevents takes a JSON array of batches (send a single batch object to /v2/events)',
    );
    assertError(
      await post(server.url, '/v2/events', '"a string"'),
      400,
      'BAD_REQUEST',
      'BAD_REQUEST',
      '"a string" is not a batch; expected a JSON object',
    );
    await expectNothingStored();
  });

  void it('101 batches in one bulk request: 400; 100 are fine', async () => {
    await remember();
    const batches = Array.from({ length: 101 }, (_, i) => smallBatch(`many-${i}`));
    assertError(
      await post(server.url, '/v2/bulkevents', batches),
      400,
      'BAD_REQUEST',
      'TOO_MANY_BATCHES',
      'A bulk request holds at most 100 batches; this one holds 101.',
    );
    await expectNothingStored();
    assert.equal((await post(server.url, '/v2/bulkevents', batches.slice(0, 100))).status, 202);
    assert.equal((await server.records()).length, storedBefore + 100);
  });

  void it('wrong types: 400 naming every field and what was wrong', async () => {
    await remember();
    const batch = {
      environment: 'production',
      mpid: 'abc',
      events: [
        { event_type: 'screen_view', data: { screen_name: 'Home' } },
        { event_type: 'custom_event', data: { event_name: 5, custom_event_type: 'media' } },
      ],
    };
    assertError(
      await post(server.url, '/v2/events', batch),
      400,
      'BAD_REQUEST',
      'BAD_REQUEST',
      'mpid: "abc" is not a signed 64-bit integer (-9223372036854775808 to 9223372036854775807) or null; ' +
        'events[1].data.event_name: 5 is not a string',
    );
    assertError(
      await post(server.url, '/v2/events', { environment: 'production', events: {} }),
      400,
      'BAD_REQUEST',
      'BAD_REQUEST',
      'events: an object is not an array or null',
    );
    await expectNothingStored();
  });

  void it('an unknown event_type: 400 naming events[i].event_type and the supported values', async () => {
    await remember();
    const events = [
      { event_type: 'screen_view', data: { screen_name: 'Home' } },
      { event_type: 'screen_view', data: { screen_name: 'Cart' } },
      { event_type: 'screen_view', data: { screen_name: 'Pay' } },
      { event_type: 'page_view', data: {} },
    ];
    assertError(
      await post(server.url, '/v2/events', { environment: 'production', events }),
      400,
      'BAD_REQUEST',
      'BAD_REQUEST',
      `events[3].event_type: "page_view" is not a supported event_type; expected one of ${EVENT_TYPES_LIST}`,
    );
    await expectNothingStored();
  });

  void it('a missing environment: 400', async () => {
    await remember();
    assertError(
      await post(server.url, '/v2/events', { events: [] }),
      400,
      'BAD_REQUEST',
      'BAD_REQUEST',
      'environment: is required; expected "production" or "development"',
    );
    await expectNothingStored();
  });

  void it('a bulk request with one invalid batch is rejected whole, naming batches[i]', async () => {
    await remember();
    const batches = Array.from({ length: 60 }, (_, i) => smallBatch(`whole-${i}`));
    batches[57] = { ...batches[57], events: [{ event_type: 'custom_event', data: { custom_event_type: 'media' } }] };
    assertError(
      await post(server.url, '/v2/bulkevents', batches),
      400,
      'BAD_REQUEST',
      'BAD_REQUEST',
      'batches[57].events[0].data.event_name: is required',
    );
    await expectNothingStored();
  });

  void it('a body over 256 KB: 413, whether declared by Content-Length or streamed chunked', async () => {
    await remember();
    const big = [paddedBatch('big-1', 100_000), paddedBatch('big-2', 100_000), paddedBatch('big-3', 100_000)];
    const answer = await post(server.url, '/v2/bulkevents', big);
    assertError(answer, 413, 'PAYLOAD_TOO_LARGE', 'BODY_TOO_LARGE', 'The request body is larger than 262144 bytes.');
    assert.equal(answer.headers.get('connection'), 'close');
    const text = Buffer.from(JSON.stringify(big));
    const parts = Array.from({ length: Math.ceil(text.length / 16384) }, (_, i) =>
      text.subarray(i * 16384, (i + 1) * 16384),
    );
    const chunked = await postChunked(server.url, '/v2/bulkevents', parts);
    assert.equal(chunked.status, 413);
    assert.equal((JSON.parse(chunked.body) as { errors: { reason: string }[] }).errors[0].reason, 'BODY_TOO_LARGE');
    await expectNothingStored();
  });

  void it('one batch over 128 KB: 413 naming the batch', async () => {
    await remember();
    assertError(
      await post(server.url, '/v2/bulkevents', [smallBatch('fine'), paddedBatch('too-big', 140_000)]),
      413,
      'PAYLOAD_TOO_LARGE',
      'BATCH_TOO_LARGE',
      'batches[1] is 140000 bytes, more than the 131072-byte batch limit.',
    );
    assertError(
      await post(server.url, '/v2/events', paddedBatch('too-big', 131_073)),
      413,
      'PAYLOAD_TOO_LARGE',
      'BATCH_TOO_LARGE',
      'the batch is 131073 bytes, more than the 131072-byte batch limit.',
    );
    await expectNothingStored();
    assert.equal((await post(server.url, '/v2/events', paddedBatch('just-fits', 131_072))).status, 202);
    assert.equal((await server.records()).length, storedBefore + 1);
  });

  void it('a gzip body is accepted and stored decoded', async () => {
    await remember();
    const batch = smallBatch('gzipped');
    const answer = await post(server.url, '/v2/events', gzipSync(JSON.stringify(batch)), {
      headers: { 'content-encoding': 'gzip' },
    });
    assert.equal(answer.status, 202);
    assert.equal(answer.text, '');
    const records = (await server.records()).slice(storedBefore);
    assert.equal(records.length, 1);
    assert.equal(records[0].payload.toString('utf8'), JSON.stringify(batch));
  });

  void it('a gzip bomb: 413 once decompressed, and the server never holds the decoded body', async () => {
    await remember();
    const decoded = 200 * 1024 * 1024;
    const bomb = await gzipBomb(decoded);
    assert.ok(bomb.length < 262_144, `the bomb must pass the raw size check (${bomb.length} bytes)`);
    // maxRSS is the process's peak: a server that inflated the bomb (the server runs in this process)
    // would raise it by about 200 MB. Allow a quarter of that for everything else going on.
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const answer = await post(server.url, '/v2/events', bomb, { headers: { 'content-encoding': 'gzip' } });
    assertError(
      answer,
      413,
      'PAYLOAD_TOO_LARGE',
      'BODY_TOO_LARGE',
      'The request body is larger than 262144 bytes once decompressed.',
    );
    const growth = process.resourceUsage().maxRSS * 1024 - peakBefore;
    assert.ok(growth < decoded / 4, `peak RSS grew by ${growth} bytes`);
    await expectNothingStored();
  });

  void it('gzip that is not gzip: 400; another Content-Encoding: 415', async () => {
    await remember();
    assertError(
      await post(server.url, '/v2/events', Buffer.from('{"not":"gzip"}'), { headers: { 'content-encoding': 'gzip' } }),
      400,
      'BAD_REQUEST',
      'BAD_REQUEST',
      'The body is not valid gzip data.',
    );
    assertError(
      await post(server.url, '/v2/events', Buffer.from('x'), { headers: { 'content-encoding': 'br' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'UNSUPPORTED_ENCODING',
      'Content-Encoding must be gzip or identity, not "br".',
    );
    await expectNothingStored();
  });

  void it('a content type other than JSON: 415; JSON with a charset is fine', async () => {
    await remember();
    assertError(
      await post(server.url, '/v2/events', JSON.stringify(smallBatch('form')), {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'UNSUPPORTED_MEDIA_TYPE',
      'Content-Type must be application/json, not "application/x-www-form-urlencoded".',
    );
    const untyped = await fetch(`${server.url}/v2/events`, {
      method: 'POST',
      headers: { authorization: basicAuth() },
      body: new TextEncoder().encode(JSON.stringify(smallBatch('untyped'))),
    });
    assert.equal(untyped.status, 415);
    assert.equal(
      ((await untyped.json()) as { errors: { message: string }[] }).errors[0].message,
      'Content-Type must be application/json, not missing.',
    );
    await expectNothingStored();
    const charset = await post(server.url, '/v2/events', smallBatch('charset'), {
      headers: { 'content-type': 'Application/JSON; charset=utf-8' },
    });
    assert.equal(charset.status, 202);
  });

  void it('missing auth: 401; malformed auth: 401; wrong key or secret: 403; none of them stored', async () => {
    await remember();
    const batch = smallBatch('auth');
    assertError(
      await post(server.url, '/v2/events', batch, { noAuth: true }),
      401,
      'UNAUTHORIZED',
      'AUTH_MISSING',
      'Authorization header is missing; send HTTP Basic auth with your API key and secret.',
    );
    for (const [header, reason] of [
      ['Bearer abc.def', 'expected "Basic <base64(key:secret)>"'],
      ['Basic', 'expected "Basic <base64(key:secret)>"'],
      ['Basic !!!', 'expected "Basic <base64(key:secret)>"'],
      [
        `Basic ${Buffer.from('no-colon').toString('base64')}`,
        'the decoded credentials have no ":" between key and secret',
      ],
      [`Basic ${Buffer.from(':secret').toString('base64')}`, 'the API key is empty'],
    ]) {
      assertError(
        await post(server.url, '/v2/events', batch, { headers: { authorization: header } }),
        401,
        'UNAUTHORIZED',
        'AUTH_MALFORMED',
        `Authorization header is malformed: ${reason}.`,
      );
    }
    for (const [key, secret] of [
      [API_KEY, 'wrong-secret'],
      ['wrong-key', API_SECRET],
      [API_KEY, OTHER_SECRET],
      [API_KEY, ''],
    ]) {
      const answer = await post(server.url, '/v2/events', batch, {
        headers: { authorization: basicAuth(key, secret) },
      });
      assertError(answer, 403, 'FORBIDDEN', 'AUTH_INVALID', 'The API key or secret is not valid.');
      assert.equal(answer.text.includes(API_SECRET), false);
    }
    await expectNothingStored();
  });

  void it('either key of a rotated input is accepted, and stores for that input', async () => {
    await remember();
    for (const [key, secret] of [
      [API_KEY, API_SECRET],
      [ROTATED_KEY, ROTATED_SECRET],
    ]) {
      const answer = await post(server.url, '/v2/events', smallBatch(`rotated-${key}`), {
        headers: { authorization: basicAuth(key, secret) },
      });
      assert.equal(answer.status, 202);
    }
    assert.equal((await server.records()).length, storedBefore + 2);
  });

  void it('wrong method: 405 with Allow; unknown path: 404', async () => {
    const get = await fetch(`${server.url}/v2/events`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal(
      ((await get.json()) as { errors: { message: string }[] }).errors[0].message,
      'GET is not allowed on /v2/events.',
    );
    const missing = await post(server.url, '/v1/events', smallBatch('v1'));
    assertError(missing, 404, 'NOT_FOUND', 'NOT_FOUND', 'No such endpoint: POST /v1/events.');
  });
});

void describe('Events API: what is stored, byte for byte', () => {
  let server: TestForwarder;
  before(async () => {
    server = await startTestForwarder();
  });
  after(() => server.close());

  const storeOne = async (text: string): Promise<Buffer> => {
    const before = (await server.records()).length;
    const answer = await post(server.url, '/v2/events', text);
    assert.equal(answer.status, 202, answer.text);
    const records = (await server.records()).slice(before);
    assert.equal(records.length, 1);
    return records[0].payload;
  };

  void it('64-bit IDs near ±2^63 and past 2^53 come back byte-exact', async () => {
    const text =
      '{"environment":"production","source_request_id":"ids","mpid":-7636538281262557000,' +
      '"batch_id":9223372036854775807,"events":[{"event_type":"custom_event","data":{"event_name":"x",' +
      '"custom_event_type":"other","event_id":-9223372036854775808,"session_id":9007199254740993,' +
      '"timestamp_unixtime_ms":1700000000123}},{"event_type":"screen_view","data":{"screen_name":"s",' +
      '"event_id":9223372036854775806,"session_id":-9007199254740993}}],"user_identities":{"customer_id":"c"}}';
    const payload = await storeOne(text);
    assert.equal(payload.toString('utf8'), text);
    const stored = parseJson(payload) as { mpid: unknown; batch_id: unknown };
    assert.equal(stored.mpid, -7636538281262557000n);
    assert.equal(stored.batch_id, 9223372036854775807n);
  });

  void it('an ID past the signed 64-bit range is rejected, not rounded', async () => {
    const answer = await post(server.url, '/v2/events', '{"environment":"production","mpid":9223372036854775808}');
    assertError(
      answer,
      400,
      'BAD_REQUEST',
      'BAD_REQUEST',
      'mpid: 9223372036854775808 is not a signed 64-bit integer (-9223372036854775808 to 9223372036854775807) or null',
    );
  });

  void it('unicode (raw UTF-8, escapes, astral, RTL, combining, NUL) comes back exactly', async () => {
    const name = 'Zoë 🎉 ש"לום 東京 e\u0301 \u0000 \u2028 \\ "quoted"';
    const batch = smallBatch('unicode-✓', {
      user_attributes: { 'naïve 名前': name, emoji: '👩‍👩‍👧‍👦' },
      events: [{ event_type: 'custom_event', data: { event_name: name, custom_event_type: 'other' } }],
    });
    const text = JSON.stringify(batch);
    const payload = await storeOne(text);
    assert.equal(payload.toString('utf8'), text);
    assert.deepEqual(parseJson(payload), batch);
  });

  void it('\\u escapes and lone surrogates are stored as equivalent JSON', async () => {
    const text =
      '{"environment":"production","user_attributes":{"esc":"\\u00e9\\ud83c\\udf89","lone":"\\ud800x"},' +
      '"events":[{"event_type":"screen_view","data":{"screen_name":"\\u0048ome"}}]}';
    const stored = parseJson(await storeOne(text)) as {
      user_attributes: Record<string, string>;
      events: { data: { screen_name: string } }[];
    };
    assert.equal(stored.user_attributes.esc, 'é🎉');
    assert.equal(stored.user_attributes.lone, '\ud800x');
    assert.equal(stored.events[0].data.screen_name, 'Home');
  });

  void it('very long strings within the batch limit are kept whole', async () => {
    const long = 'ä'.repeat(60_000);
    const batch = smallBatch('long', {
      user_attributes: { long },
      events: [{ event_type: 'custom_event', data: { event_name: 'n'.repeat(2000), custom_event_type: 'other' } }],
    });
    const payload = await storeOne(JSON.stringify(batch));
    assert.deepEqual(parseJson(payload), batch);
    // 60,000 two-byte characters: the limit counts stored bytes, not characters.
    const tooLong = smallBatch('too-long', { user_attributes: { long: 'ä'.repeat(66_000) } });
    const answer = await post(server.url, '/v2/events', tooLong);
    assert.equal(answer.status, 413);
    assert.match(answer.error?.message ?? '', /^the batch is 132\d{3} bytes, more than the 131072-byte batch limit\.$/);
  });

  void it('user_identities.customerid and batch_context are stored under their schema names', async () => {
    const payload = await storeOne(
      JSON.stringify({
        environment: 'development',
        schema_version: 2,
        batch_context: { data_plan: { plan_id: 'p', plan_version: 1 } },
        user_identities: { customerid: 'c-9', email: 'e@x.io' },
      }),
    );
    assert.deepEqual(parseJson(payload), {
      environment: 'development',
      schema_version: 2,
      context: { data_plan: { plan_id: 'p', plan_version: 1 } },
      user_identities: { email: 'e@x.io', customer_id: 'c-9' },
    });
  });
});

void describe('Events API: deduplication by source_request_id', () => {
  let server: TestForwarder;
  before(async () => {
    server = await startTestForwarder();
  });
  after(() => server.close());

  void it('a repeated source_request_id gets 202 and is stored once; another input with the same id is stored', async () => {
    const first = smallBatch('dup-1', { mpid: 1 });
    assert.equal((await post(server.url, '/v2/events', first)).status, 202);
    const again = await post(server.url, '/v2/events', smallBatch('dup-1', { mpid: 2 }));
    assert.equal(again.status, 202);
    assert.equal(again.text, '');
    const inBulk = await post(server.url, '/v2/bulkevents', [smallBatch('dup-1', { mpid: 3 }), smallBatch('dup-2')]);
    assert.equal(inBulk.status, 202);
    const records = await server.records();
    assert.deepEqual(
      records.map((record) => parseJson(record.payload)),
      [first, smallBatch('dup-2')],
    );

    const other = await post(server.url, '/v2/events', smallBatch('dup-1', { mpid: 4 }), {
      headers: { authorization: basicAuth(OTHER_KEY, OTHER_SECRET) },
    });
    assert.equal(other.status, 202);
    const otherRecords = await server.records(OTHER_CONNECTION);
    assert.deepEqual(
      otherRecords.map((record) => parseJson(record.payload)),
      [smallBatch('dup-1', { mpid: 4 })],
    );
    assert.equal((await server.records()).length, 2);
  });

  void it('two batches with the same id in one bulk request are stored once', async () => {
    const before = (await server.records()).length;
    const answer = await post(server.url, '/v2/bulkevents', [
      smallBatch('twin', { mpid: 1 }),
      smallBatch('twin', { mpid: 2 }),
    ]);
    assert.equal(answer.status, 202);
    const added = (await server.records()).slice(before).map((record) => parseJson(record.payload));
    assert.deepEqual(added, [smallBatch('twin', { mpid: 1 })]);
  });

  void it('a numeric source_request_id deduplicates like a string one', async () => {
    const before = (await server.records()).length;
    const batch = { environment: 'production', events: [], source_request_id: 424242 };
    for (let i = 0; i < 2; i++) assert.equal((await post(server.url, '/v2/events', batch)).status, 202);
    assert.equal((await server.records()).length, before + 1);
  });

  void it('a batch nested deeper than 64 levels is refused with 400 and not stored, single or bulk', async () => {
    const before = (await server.records()).length;
    // Sent as text: the test's own JSON.stringify could not write this depth either.
    const deep = `{"environment":"production","events":[],"junk":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    for (const [path, body] of [
      ['/v2/events', deep],
      ['/v2/bulkevents', `[${JSON.stringify(smallBatch('shallow'))},${deep}]`],
    ] as const) {
      const answer = await post(server.url, path, body);
      assert.equal(answer.status, 400, answer.text);
      assert.match(answer.error?.message ?? '', /nest deeper than 64 levels/);
    }
    assert.equal((await server.records()).length, before);
  });

  void it('batches without a source_request_id are never deduplicated', async () => {
    const before = (await server.records()).length;
    const batch = { environment: 'production', events: [] };
    for (let i = 0; i < 3; i++) assert.equal((await post(server.url, '/v2/events', batch)).status, 202);
    assert.equal((await server.records()).length, before + 3);
  });
});

void describe('Events API: backpressure, discovery and health', () => {
  void it('a full spool answers 429 with Retry-After matching the message, drops nothing, and fails readiness', async () => {
    const server = await startTestForwarder({ spool: { max_bytes: 1024 * 1024, high_water_ratio: 0.5 } });
    try {
      const accepted: string[] = [];
      let refused: Answer | undefined;
      for (let i = 0; i < 40 && refused === undefined; i++) {
        const batches = Array.from({ length: 10 }, (_, j) => paddedBatch(`full-${i}-${j}`, 5000));
        const answer = await post(server.url, '/v2/bulkevents', batches);
        if (answer.status === 202) accepted.push(...batches.map((batch) => batch.source_request_id as string));
        else refused = answer;
      }
      assert.ok(refused, 'the spool never filled');
      assertError(
        refused,
        429,
        'TOO_MANY_REQUESTS',
        'SPOOL_FULL',
        'The spool cannot take more batches now: it is above its high-water mark; retry after 5 s.',
      );
      assert.equal(refused.headers.get('retry-after'), '5');
      const ready = await fetch(`${server.adminUrl}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { status: 'not ready', reason: 'the spool is above its high-water mark' });
      const health = await fetch(`${server.adminUrl}/healthz`);
      assert.equal(health.status, 200);
      const stored = (await server.records()).map(
        (record) => (parseJson(record.payload) as { source_request_id: string }).source_request_id,
      );
      assert.deepEqual(stored, accepted);
    } finally {
      await server.close();
    }
  });

  void it('the ingest port serves no operational endpoint, and the admin listener serves nothing else', async () => {
    const server = await startTestForwarder();
    try {
      assert.notEqual(server.adminUrl, server.url, 'the admin listener has a port of its own');
      for (const path of ['/metrics', '/healthz', '/readyz']) {
        const answer = await answerOf(await fetch(`${server.url}${path}`));
        assertError(
          answer,
          404,
          'NOT_FOUND',
          'ADMIN_ENDPOINT',
          `${path} is served on the admin listener (admin.host and admin.port, 127.0.0.1:9464 by default), not on the ingest port.`,
        );
      }
      const metrics = await fetch(`${server.adminUrl}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^kafka_forwarder_build_info\{/m);
      const openapi = await fetch(`${server.url}/openapi.json`);
      assert.equal(openapi.status, 200, 'the ingest port still serves /openapi.json');
      const events = await fetch(`${server.adminUrl}/v2/events`, { method: 'POST', body: '{}' });
      assert.equal(events.status, 405, 'the admin listener takes no batches');
      const unknown = await fetch(`${server.adminUrl}/v2/events`);
      assert.equal(unknown.status, 404);
      assert.match(((await unknown.json()) as { error: string }).error, /serves \/metrics, \/healthz, \/readyz/);
    } finally {
      await server.close();
    }
  });

  void it('GET /healthz is 200; /readyz is 200 and, once the start-up check finds no broker, degraded naming the output', async () => {
    // The test output's bootstrap_servers is 127.0.0.1:1, where nothing listens.
    const server = await startTestForwarder();
    try {
      const health = await fetch(`${server.adminUrl}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      let body: { status: string; warnings?: string[] } = { status: '' };
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const ready = await fetch(`${server.adminUrl}/readyz`);
        assert.equal(ready.status, 200, 'still ready: the spool takes batches meanwhile');
        body = (await ready.json()) as typeof body;
        if (body.status === 'degraded') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(body.status, 'degraded', 'within seconds, without any batch sent');
      assert.match(body.warnings?.[0] ?? '', /^output unreachable is retrying: .*\(/);
      const [output] = server.forwarder.outputs();
      assert.equal(output.state, 'retrying');
      assert.equal(output.degraded, true);
    } finally {
      await server.close();
    }
  });
});

void describe('Events API: memory bound on request bodies', () => {
  void it('answers 429 with Retry-After while other requests hold max_in_flight_bytes, then accepts again', async () => {
    const server = await startTestForwarder({ server: { max_in_flight_bytes: 262144 } });
    const port = Number(new URL(server.url).port);
    let held: ClientRequest | undefined;
    try {
      // A client that declares a 262,000-byte body and sends only its first bytes holds the budget.
      held = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v2/events',
        headers: { 'content-type': 'application/json', 'content-length': '262000', authorization: basicAuth() },
      });
      held.on('error', () => undefined);
      held.write('{"environment":"production",');
      await new Promise((resolve) => setTimeout(resolve, 200));

      const busy = await post(server.url, '/v2/events', smallBatch('while-busy'));
      assert.equal(busy.status, 429, busy.text);
      assert.equal(busy.error?.reason, 'SERVER_BUSY');
      assert.equal(busy.headers.get('retry-after'), '1');

      held.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await post(server.url, '/v2/events', smallBatch('after'))).status, 202);
      const stored = (await server.records()).map(
        (record) => (parseJson(record.payload) as { source_request_id: string }).source_request_id,
      );
      assert.deepEqual(stored, ['after']);
    } finally {
      held?.destroy();
      await server.close();
    }
  });
});
