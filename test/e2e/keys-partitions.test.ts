// Record keys and partitions, end to end: the key is the MPID's exact digits (negative, past 2^53),
// its partition is the one Java's default partitioner picks (murmur2, computed here independently),
// each user's records keep their order, and batches without an MPID get a null key and spread.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isJsonObject } from '../../src/format/json-value.ts';
import { consumeRecords, postRaw, startKafkaTestForwarder, type KafkaTestForwarder } from '../support/forwarder.ts';
import { getTestKafkaCluster, uniqueTopicName, type KafkaCluster } from '../support/kafka.ts';

const PARTITIONS = 6;
let cluster: KafkaCluster;
let topic: string;
let forwarder: KafkaTestForwarder;

before(async () => {
  cluster = await getTestKafkaCluster(1);
  topic = uniqueTopicName('keys');
  await cluster.createTopic(topic, { partitions: PARTITIONS });
  forwarder = await startKafkaTestForwarder({ cluster, topic, settings: { send_as_batch: false } });
});
after(async () => {
  await forwarder?.close();
});

/** Kafka's Java murmur2 (org.apache.kafka.common.utils.Utils.murmur2). */
function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ data.length;
  const length4 = data.length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = data.length & ~3;
  const rest = data.length % 4;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Java's producer picks for a key: toPositive(murmur2(bytes)) % partitions. */
function javaPartition(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}

const MPIDS = ['-7636538281262557000', '9223372036854775807', '-9223372036854775808', '9007199254740993', '42', '-1'];
const PER_USER = 20;

test('keys are the exact MPID digits, on the Java partitioner’s partition, in each user’s order', async () => {
  // Interleaved users, each batch numbered; sent as bulk requests of 12 batches.
  const batches: string[] = [];
  for (let n = 0; n < PER_USER; n++) {
    for (const mpid of MPIDS) {
      batches.push(
        `{"environment":"production","mpid":${mpid},"events":[{"event_type":"custom_event","data":{"event_name":"e","custom_event_type":"other","custom_attributes":{"n":"${n}"}}}]}`,
      );
    }
  }
  for (let i = 0; i < batches.length; i += 12) {
    assert.equal(await postRaw(forwarder.url, `[${batches.slice(i, i + 12).join(',')}]`, true), 202);
  }
  const records = await consumeRecords(cluster, topic, MPIDS.length * PER_USER);
  for (const mpid of MPIDS) {
    const mine = records.filter((record) => record.key === mpid).sort((a, b) => Number(a.offset - b.offset));
    assert.equal(mine.length, PER_USER, `records for ${mpid}`);
    assert.ok(
      mine.every((record) => record.partition === javaPartition(mpid, PARTITIONS)),
      `partition of ${mpid}`,
    );
    assert.ok(
      mine.every((record) => record.raw.includes(`"mpid":${mpid},`)),
      `mpid digits of ${mpid}`,
    );
    const order = mine.map((record) => {
      const [event] = record.value.events as unknown[];
      assert.ok(isJsonObject(event) && isJsonObject(event.data) && isJsonObject(event.data.custom_attributes));
      return Number(event.data.custom_attributes.n);
    });
    assert.deepEqual(order, [...Array(PER_USER).keys()], `order of ${mpid}`);
  }
});

test('batches without an MPID get a null key (never "") and spread over the partitions', async () => {
  const anonymous = Array.from(
    { length: 24 },
    (_, n) =>
      `{"environment":"production","source_request_id":"anon-${n}","events":[{"event_type":"screen_view","data":{"screen_name":"s${n}"}}]}`,
  );
  assert.equal(await postRaw(forwarder.url, `[${anonymous.join(',')}]`, true), 202);
  const all = await consumeRecords(cluster, topic, MPIDS.length * PER_USER + anonymous.length);
  const records = all.filter(
    (record) =>
      typeof record.value.source_request_id === 'string' && record.value.source_request_id.startsWith('anon-'),
  );
  assert.equal(records.length, anonymous.length);
  assert.ok(records.every((record) => record.key === null));
  const partitions = new Set(records.map((record) => record.partition));
  assert.ok(partitions.size >= 3, `spread over ${[...partitions].join(',')}`);
});
