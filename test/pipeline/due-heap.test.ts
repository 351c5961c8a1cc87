import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DueHeap } from '../../src/pipeline/due-heap.ts';

interface Item {
  id: number;
  dueAt: number;
  heapIndex: number;
}

void test('pops in due order through pushes, removals and due-time changes', () => {
  const heap = new DueHeap<Item>();
  const live = new Map<number, Item>();
  let random = 7;
  const rand = (n: number) => {
    random = (random * 1103515245 + 12345) % 2 ** 31;
    return random % n;
  };
  for (let id = 0; id < 3000; id++) {
    const item = { id, dueAt: rand(10_000), heapIndex: -1 };
    heap.push(item);
    live.set(id, item);
    if (rand(4) === 0) {
      const victim = live.get(rand(id + 1));
      if (victim) {
        heap.remove(victim);
        live.delete(victim.id);
        assert.equal(victim.heapIndex, -1);
      }
    }
    if (rand(4) === 0) {
      const moved = live.get(rand(id + 1));
      if (moved) {
        moved.dueAt = rand(10_000);
        heap.update(moved);
      }
    }
  }
  assert.equal(heap.size, live.size);
  const expected = [...live.values()].map((item) => item.dueAt).sort((a, b) => a - b);
  const popped: number[] = [];
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) popped.push(item.dueAt);
  assert.deepEqual(popped, expected);
});
