// A binary min-heap of windows ordered by due time, where each window knows its own position.
// Knowing the position lets a window leave the heap as soon as it closes early (size cut,
// session_end) and move when its due time changes (a session's timeout restarts with each
// batch), so the heap never holds stale entries and stays exactly as large as the index.

export interface HeapItem {
  dueAt: number;
  /** Position in the heap, -1 when not in it. Maintained by DueHeap only. */
  heapIndex: number;
}

export class DueHeap<T extends HeapItem> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#siftUp(item.heapIndex);
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(item: T): void {
    const index = item.heapIndex;
    if (index < 0) return;
    const last = this.#items.pop() as T;
    item.heapIndex = -1;
    if (last === item) return;
    this.#items[index] = last;
    last.heapIndex = index;
    this.#siftUp(index);
    this.#siftDown(last.heapIndex);
  }

  /** Call after changing `item.dueAt`. */
  update(item: T): void {
    if (item.heapIndex < 0) return;
    this.#siftUp(item.heapIndex);
    this.#siftDown(item.heapIndex);
  }

  clear(): void {
    for (const item of this.#items) item.heapIndex = -1;
    this.#items.length = 0;
  }

  #siftUp(index: number): void {
    const items = this.#items;
    const item = items[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex];
      if (parent.dueAt <= item.dueAt) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = item;
    item.heapIndex = index;
  }

  #siftDown(index: number): void {
    const items = this.#items;
    const length = items.length;
    const item = items[index];
    for (;;) {
      let smallest = index * 2 + 1;
      if (smallest >= length) break;
      const right = smallest + 1;
      if (right < length && items[right].dueAt < items[smallest].dueAt) smallest = right;
      if (items[smallest].dueAt >= item.dueAt) break;
      items[index] = items[smallest];
      items[index].heapIndex = index;
      index = smallest;
    }
    items[index] = item;
    item.heapIndex = index;
  }
}
