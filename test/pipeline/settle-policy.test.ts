// The settle policy alone: from Kafka's answers for a unit's records to acks and dead letters,
// using only the metadata that comes with each record (request-builder's RecordEvent).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJson } from '../../src/format/lossless-json.ts';
import { messageIdFor } from '../../src/pipeline/message-id.ts';
import { settlementOf, type Unit } from '../../src/pipeline/settle-policy.ts';
import { buildRecords } from '../../src/sinks/kafka/request-builder.ts';
import type { SpoolRecord } from '../../src/spool/types.ts';

/** A stored batch of the named events, and its outgoing form's events (message_ids as the pipeline gives them). */
function stored(seq: bigint, ...names: string[]): SpoolRecord {
  const events = names.map((name) => ({ event_type: 'custom_event', data: { event_name: name } }));
  return { seq, batchId: 100n + seq, receivedAtMs: 0, payload: Buffer.from(JSON.stringify({ mpid: 1, events })) };
}

/** One merged record of the stored batches (a window), built by the real request builder. */
function windowUnit(batches: SpoolRecord[], maxRecordBytes = 100_000): Unit {
  const events: object[] = [];
  const eventSeqs = new Map<string, bigint>();
  for (const batch of batches) {
    const inbound = JSON.parse(batch.payload.toString()) as { events: { data: { event_name: string } }[] };
    inbound.events.forEach((event, index) => {
      const messageId = messageIdFor(batch.batchId, index);
      eventSeqs.set(messageId, batch.seq);
      events.push({ ...event, message_id: messageId });
    });
  }
  const built = buildRecords(
    { mpid: 1, events: events as never },
    { seqs: batches.map((b) => b.seq), eventSeqs },
    { maxRecordBytes },
  );
  return { batches, records: built.records, oversized: built.oversized };
}

function namesIn(payload: Buffer | undefined): string[] {
  assert.ok(payload !== undefined);
  const batch = parseJson(payload) as { events: { data: { event_name: string } }[] };
  return batch.events.map((event) => event.data.event_name);
}

test('every record acked: every batch of the unit is acknowledged', () => {
  const unit = windowUnit([stored(1n, 'a'), stored(2n, 'b')]);
  const settlement = settlementOf(unit, [{ status: 'acked' }]);
  assert.deepEqual(
    settlement?.acked.map((b) => b.seq),
    [1n, 2n],
  );
  assert.deepEqual(settlement?.deadLetters, []);
});

test('an aborted record keeps the whole unit in the spool', () => {
  const unit = windowUnit([stored(1n, 'a')]);
  assert.equal(settlementOf(unit, [{ status: 'aborted' }]), undefined);
});

test('refused events dead-letter only their batch, narrowed to them; the other batches are acked', () => {
  const unit = windowUnit([stored(1n, 'a'), stored(2n, 'b', 'bad'), stored(3n, 'c')]);
  const [record] = unit.records;
  const bad = record.events.filter((event) => event.seq === 2n).slice(1);
  const settlement = settlementOf(unit, [{ status: 'rejected', code: 'X', reason: 'no', refusedEvents: bad }]);
  assert.deepEqual(
    settlement?.acked.map((b) => b.seq),
    [1n, 3n],
  );
  assert.equal(settlement?.deadLetters.length, 1);
  const [dead] = settlement.deadLetters;
  assert.equal(dead.seq, 2n);
  assert.match(dead.reason, /^X: no \(1 of the batch's 2 events were delivered/);
  assert.deepEqual(namesIn(dead.payload), ['bad']);
});

test('a record refused whole dead-letters its batches as stored', () => {
  const unit = windowUnit([stored(1n, 'a'), stored(2n, 'b')]);
  const settlement = settlementOf(unit, [{ status: 'rejected', code: 'X', reason: 'no' }]);
  assert.deepEqual(settlement?.acked, []);
  assert.deepEqual(
    settlement?.deadLetters.map((dead) => [dead.seq, dead.payload]),
    [
      [1n, undefined],
      [2n, undefined],
    ],
  );
});

test('an event too large even alone dead-letters its own batch, with the RECORD_TOO_LARGE reason', () => {
  const big = stored(2n, 'x'.repeat(500), 'ok');
  const unit = windowUnit([stored(1n, 'a'), big], 400);
  assert.equal(unit.oversized.length, 1);
  const settlement = settlementOf(
    unit,
    unit.records.map(() => ({ status: 'acked' }) as const),
  );
  assert.deepEqual(
    settlement?.acked.map((b) => b.seq),
    [1n],
  );
  const [dead] = settlement?.deadLetters ?? [];
  assert.equal(dead.seq, 2n);
  assert.match(dead.reason, /^RECORD_TOO_LARGE/);
  assert.deepEqual(namesIn(dead.payload), ['x'.repeat(500)]);
});

test('a refused record without events dead-letters the batches it names', () => {
  const batch = stored(4n);
  const built = buildRecords({ mpid: 1, events: [] }, { seqs: [4n] }, { maxRecordBytes: 1000 });
  const unit: Unit = { batches: [batch], records: built.records, oversized: [] };
  const settlement = settlementOf(unit, [{ status: 'rejected', code: 'X', reason: 'no' }]);
  assert.deepEqual(
    settlement?.deadLetters.map((dead) => dead.seq),
    [4n],
  );
});
