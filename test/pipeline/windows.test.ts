import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JsonObject } from '../../src/format/json-value.ts';
import { parseJson } from '../../src/format/lossless-json.ts';
import type { ClosedWindow, WindowEntry, WindowerOptions } from '../../src/pipeline/windows.ts';
import { hasSessionEndEvent, windowEntryOf, windowKeyOf, Windower } from '../../src/pipeline/windows.ts';

/** Every open window, closed as if its time had come (a test's way to look inside). */
function closeAll(w: Windower): ClosedWindow[] {
  return w.due(Number.MAX_SAFE_INTEGER);
}

/** What a restart does: the connection reads the spool's unacknowledged batches in seq order and adds each. */
function readdInSeqOrder(w: Windower, entries: readonly WindowEntry[]): ClosedWindow[] {
  return [...entries].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0)).flatMap((e) => w.add(e));
}

const MINUTE = 60_000;
const T0 = 1_700_000_000_000;

function windower(options: Partial<WindowerOptions> = {}): Windower {
  return new Windower({
    mode: 'device-window',
    batchWindowMs: 10 * MINUTE,
    sessionTimeoutMs: 30 * MINUTE,
    maxRecordBytes: 1_000_000,
    ...options,
  });
}

let nextSeq = 1n;
function entry(windowKey: string | null, receivedAtMs: number, more: Partial<WindowEntry> = {}): WindowEntry {
  return { seq: nextSeq++, windowKey, bytes: 1000, eventCount: 2, hasSessionEnd: false, receivedAtMs, ...more };
}

function seqsOf(windows: readonly ClosedWindow[]): bigint[][] {
  return windows.map((window) => [...window.seqs]);
}

void describe('window key', () => {
  void test('mp_deviceid (with the MPID), else the MPID, else none', () => {
    const batch = (json: string) => parseJson(json) as JsonObject;
    assert.equal(
      windowKeyOf(batch('{"mp_deviceid":"dev-1","mpid":-7636538281262557001}')),
      'd:dev-1|u:-7636538281262557001',
    );
    assert.equal(windowKeyOf(batch('{"mp_deviceid":"dev-1"}')), 'd:dev-1|u:');
    assert.equal(windowKeyOf(batch('{"mpid":12}')), 'u:12');
    assert.equal(windowKeyOf(batch('{"mp_deviceid":"","mpid":null}')), null);
  });

  void test('two users of one device get separate windows', () => {
    const a = windowKeyOf({ mp_deviceid: 'dev', mpid: 1 });
    const b = windowKeyOf({ mp_deviceid: 'dev', mpid: 2 });
    assert.notEqual(a, b);
  });

  void test('windowEntryOf reads the key from the inbound batch and counts from the outgoing one', () => {
    const inbound = { mp_deviceid: 'dev', mpid: 5, events: [] };
    const outgoing = { mpid: 5, events: [{ event_type: 'custom_event' }, { event_type: 'session_end' }] };
    assert.deepEqual(windowEntryOf({ seq: 9n, receivedAtMs: T0, inbound, outgoing, outgoingBytes: 321 }), {
      seq: 9n,
      windowKey: 'd:dev|u:5',
      bytes: 321,
      eventCount: 2,
      hasSessionEnd: true,
      receivedAtMs: T0,
    });
    assert.equal(hasSessionEndEvent({ events: [{ event_type: 'session_start' }] }), false);
  });
});

void describe('Send as Batch windows', () => {
  void test("gathers a device's batches for batchWindowMs from the first arrival, in arrival order", () => {
    const w = windower();
    const a1 = entry('a', T0);
    const b1 = entry('b', T0 + MINUTE);
    const a2 = entry('a', T0 + 5 * MINUTE);
    for (const e of [a1, b1, a2]) assert.deepEqual(w.add(e), []);
    assert.equal(w.openWindows, 2);
    assert.equal(w.heldBatches, 3);
    assert.equal(w.heldEvents, 6);
    assert.equal(w.nextDueAtMs(), T0 + 10 * MINUTE);

    assert.deepEqual(w.due(T0 + 10 * MINUTE - 1), [], 'nothing before its time');
    const closed = w.due(T0 + 10 * MINUTE);
    assert.deepEqual(closed, [
      {
        windowKey: 'a',
        seqs: [a1.seq, a2.seq],
        bytes: 2000,
        eventCount: 4,
        openedAtMs: T0,
        lastReceivedAtMs: T0 + 5 * MINUTE,
        reason: 'window_elapsed',
      },
    ]);
    assert.deepEqual(seqsOf(w.due(T0 + 11 * MINUTE)), [[b1.seq]]);
    assert.equal(w.openWindows, 0);
    assert.equal(w.heldBatches, 0);
    assert.equal(w.nextDueAtMs(), undefined);
  });

  void test('a batch arriving after its window fell due starts a new window, even if due() was not called', () => {
    const w = windower();
    const first = entry('a', T0);
    w.add(first);
    const late = entry('a', T0 + 10 * MINUTE);
    assert.deepEqual(seqsOf(w.add(late)), [[first.seq]]);
    assert.equal(w.openWindows, 1);
    assert.deepEqual(seqsOf(w.due(T0 + 20 * MINUTE)), [[late.seq]]);
  });

  void test('cuts the window before the merged record would pass max.message.bytes', () => {
    const maxRecordBytes = 3000;
    const w = windower({ maxRecordBytes });
    const e1 = entry('a', T0, { bytes: 1000 });
    const e2 = entry('a', T0 + 1, { bytes: 2000 });
    const e3 = entry('a', T0 + 2, { bytes: 1 });
    assert.deepEqual(w.add(e1), []);
    assert.deepEqual(w.add(e2), [], 'exactly at the budget still fits');
    const cut = w.add(e3);
    assert.equal(cut.length, 1);
    assert.deepEqual(cut[0].seqs, [e1.seq, e2.seq]);
    assert.equal(cut[0].reason, 'size');
    assert.equal(cut[0].bytes, 3000);
    assert.equal(w.heldBatches, 1, 'the new window holds the third batch');
    assert.deepEqual(seqsOf(w.due(T0 + 2 + 10 * MINUTE)), [[e3.seq]], 'the new window opened with its first batch');
  });

  void test('a single batch larger than the budget is sent alone at once', () => {
    const w = windower({ maxRecordBytes: 2000 });
    const small = entry('a', T0, { bytes: 500 });
    const huge = entry('a', T0 + 1, { bytes: 5000 });
    w.add(small);
    const closed = w.add(huge);
    assert.deepEqual(seqsOf(closed), [[small.seq], [huge.seq]]);
    assert.deepEqual(
      closed.map((c) => c.reason),
      ['size', 'size'],
    );
    assert.equal(w.openWindows, 0);
  });

  void test('a batch with no device and no MPID is its own window, sent at once', () => {
    const w = windower();
    const alone = entry(null, T0);
    const closed = w.add(alone);
    assert.deepEqual(seqsOf(closed), [[alone.seq]]);
    assert.equal(closed[0].reason, 'no_device');
    assert.equal(w.openWindows, 0);
  });

  void test('session_end does not close a Send as Batch window', () => {
    const w = windower();
    assert.deepEqual(w.add(entry('a', T0, { hasSessionEnd: true })), []);
    assert.equal(w.openWindows, 1);
  });

  void test('seqs beyond 2^53 come back exact', () => {
    const w = windower();
    const big = 2n ** 62n + 3n;
    w.add(entry('a', T0, { seq: big }));
    assert.deepEqual(closeAll(w)[0].seqs, [big]);
  });
});

void describe('Wait for Complete Batch windows', () => {
  void test('holds a device until a batch with session_end arrives, then closes that window with it', () => {
    const w = windower({ mode: 'session' });
    const start = entry('a', T0);
    const other = entry('b', T0 + 1);
    const middle = entry('a', T0 + 25 * MINUTE);
    assert.deepEqual(w.add(start), []);
    assert.deepEqual(w.add(other), []);
    assert.deepEqual(w.add(middle), [], 'the Send as Batch window length does not apply');
    const end = entry('a', T0 + 50 * MINUTE, { hasSessionEnd: true });
    const closed = w.add(end);
    assert.deepEqual(seqsOf(closed), [[start.seq, middle.seq, end.seq]]);
    assert.equal(closed[0].reason, 'session_end');
    assert.equal(w.openWindows, 1, 'the other device waits on');
  });

  void test('a session without session_end is sent sessionTimeoutMs after its last batch', () => {
    const w = windower({ mode: 'session' });
    const first = entry('a', T0);
    const last = entry('a', T0 + 20 * MINUTE);
    w.add(first);
    w.add(last);
    assert.equal(w.nextDueAtMs(), T0 + 50 * MINUTE);
    assert.deepEqual(w.due(T0 + 50 * MINUTE - 1), [], 'the timeout restarts with each batch');
    const closed = w.due(T0 + 50 * MINUTE);
    assert.deepEqual(seqsOf(closed), [[first.seq, last.seq]]);
    assert.equal(closed[0].reason, 'session_timeout');
  });

  void test('a batch after the timeout starts a new window', () => {
    const w = windower({ mode: 'session' });
    const old = entry('a', T0);
    w.add(old);
    const closed = w.add(entry('a', T0 + 30 * MINUTE));
    assert.deepEqual(seqsOf(closed), [[old.seq]]);
    assert.equal(closed[0].reason, 'session_timeout');
  });

  void test('the size cut applies too', () => {
    const w = windower({ mode: 'session', maxRecordBytes: 1500 });
    const e1 = entry('a', T0);
    w.add(e1);
    const closed = w.add(entry('a', T0 + 1, { hasSessionEnd: true }));
    assert.deepEqual(
      closed.map((c) => [c.reason, c.seqs.length]),
      [
        ['size', 1],
        ['session_end', 1],
      ],
    );
  });
});

void describe('shutdown and restart', () => {
  void test('drainAll returns only windows already due and forgets the rest', () => {
    const w = windower();
    const dueOne = entry('a', T0);
    w.add(dueOne);
    w.add(entry('b', T0 + 5 * MINUTE));
    assert.deepEqual(seqsOf(w.drainAll(T0 + 10 * MINUTE)), [[dueOne.seq]]);
    assert.equal(w.openWindows, 0);
    assert.equal(w.heldBatches, 0);
    assert.deepEqual(w.due(Number.MAX_SAFE_INTEGER), []);
  });

  for (const mode of ['device-window', 'session'] as const) {
    void test(`${mode}: re-adding the unacknowledged entries in seq order (as a restart reads the spool) reproduces the same windows`, () => {
      // A day of traffic from 40 devices, with size cuts, session ends and time cuts; some
      // windows close (and are acknowledged) before the "crash", the rest must come back as they were.
      const options = { mode, maxRecordBytes: 9000 };
      let random = 12345;
      const rand = (n: number) => {
        random = (random * 1103515245 + 12345) % 2 ** 31;
        return random % n;
      };
      const entries: WindowEntry[] = [];
      let time = T0;
      for (let i = 0; i < 2000; i++) {
        time += rand(40_000);
        const key = rand(50) === 0 ? null : `dev-${rand(40)}`;
        entries.push(
          entry(key, time, { bytes: 200 + rand(3000), eventCount: 1 + rand(5), hasSessionEnd: rand(15) === 0 }),
        );
      }
      const crashAt = 1500;
      const before = windower(options);
      const acked = new Set<bigint>();
      for (const e of entries.slice(0, crashAt)) {
        for (const closed of [...before.add(e), ...before.due(e.receivedAtMs)])
          for (const s of closed.seqs) acked.add(s);
      }
      // Then the process stops: windows still open stay unacknowledged in the spool.
      const restartAt = time;
      const afterCrash = windower(options);
      const unacked = entries.slice(0, crashAt).filter((e) => !acked.has(e.seq));
      assert.ok(unacked.length > 0);
      const closedOnRebuild = readdInSeqOrder(afterCrash, [...unacked].reverse());
      assert.deepEqual(closedOnRebuild, [], 'nothing that was still open closes just by being re-added');
      assert.equal(afterCrash.openWindows, before.openWindows);
      assert.equal(afterCrash.heldBatches, before.heldBatches);
      assert.equal(afterCrash.heldBytes, before.heldBytes);
      assert.equal(afterCrash.nextDueAtMs(), before.nextDueAtMs());
      // Both go on identically with the rest of the traffic.
      for (const e of entries.slice(crashAt)) assert.deepEqual(afterCrash.add(e), before.add(e));
      assert.deepEqual(afterCrash.due(restartAt), before.due(restartAt));
      assert.deepEqual(closeAll(afterCrash), closeAll(before));
    });
  }

  void test('re-adding re-closes windows that were closed but not acknowledged before the crash', () => {
    const options = { maxRecordBytes: 2500 };
    const before = windower(options);
    const a = [entry('a', T0), entry('a', T0 + 1), entry('a', T0 + 2)];
    const cut = a.flatMap((e) => before.add(e));
    assert.deepEqual(seqsOf(cut), [[a[0].seq, a[1].seq]]);
    // Crash before the cut window was acknowledged: all three are still in the spool.
    const after = windower(options);
    assert.deepEqual(readdInSeqOrder(after, a), cut);
    assert.equal(after.heldBatches, 1);
  });
});
