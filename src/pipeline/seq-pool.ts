// Where the window index keeps the spool seqs of open windows: one shared pool of linked
// slots (8 bytes for the seq, 4 for the link), instead of one growing array per window. With
// 100,000 windows of ~10 batches that is ~12 bytes a batch, where per-window arrays cost ~20
// plus an array object per window. Each window holds only the first and last slot of its chain.
//
// Seqs are stored as signed 64-bit integers (BigInt64Array), so any spool seq comes back exact.
// The pool grows by half its size (less slack than doubling) and keeps its size after a peak;
// freed slots are reused first.

const INITIAL_CAPACITY = 1024;
export const NO_SLOT = -1;

export class SeqPool {
  #seqs = new BigInt64Array(INITIAL_CAPACITY);
  #next = new Int32Array(INITIAL_CAPACITY);
  #free = NO_SLOT;
  #used = 0;

  constructor() {
    this.#chainFree(0, INITIAL_CAPACITY);
  }

  /** Slots in use. */
  get used(): number {
    return this.#used;
  }

  /** Slots allocated (used or free). */
  get capacity(): number {
    return this.#seqs.length;
  }

  /** Stores `seq` in a fresh slot, linked after `tail` (NO_SLOT: the start of a new chain); returns the slot. */
  append(tail: number, seq: bigint): number {
    if (this.#free === NO_SLOT) this.#grow();
    const slot = this.#free;
    this.#free = this.#next[slot];
    this.#seqs[slot] = seq;
    this.#next[slot] = NO_SLOT;
    if (tail !== NO_SLOT) this.#next[tail] = slot;
    this.#used++;
    return slot;
  }

  /** Reads the chain from `head` to `tail` and frees its slots. */
  release(head: number, tail: number): bigint[] {
    const seqs: bigint[] = [];
    for (let slot = head; slot !== NO_SLOT; slot = this.#next[slot]) seqs.push(this.#seqs[slot]);
    this.#next[tail] = this.#free;
    this.#free = head;
    this.#used -= seqs.length;
    return seqs;
  }

  /** Frees every slot. */
  clear(): void {
    this.#used = 0;
    this.#chainFree(0, this.#seqs.length);
  }

  #grow(): void {
    const oldCapacity = this.#seqs.length;
    const newCapacity = oldCapacity + (oldCapacity >> 1);
    const seqs = new BigInt64Array(newCapacity);
    seqs.set(this.#seqs);
    const next = new Int32Array(newCapacity);
    next.set(this.#next);
    this.#seqs = seqs;
    this.#next = next;
    this.#chainFree(oldCapacity, newCapacity);
  }

  /** Makes slots [from, to) the whole free list (called only when the free list is empty or being reset). */
  #chainFree(from: number, to: number): void {
    for (let slot = from; slot < to - 1; slot++) this.#next[slot] = slot + 1;
    this.#next[to - 1] = NO_SLOT;
    this.#free = from;
  }
}
