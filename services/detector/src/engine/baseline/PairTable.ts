// The key bookkeeping of the baselines: which slot holds which workload pair, in a fixed number
// of slots. Keys are 64-bit hashes (pairKeyHash.ts) in two Uint32 columns; an open-addressing index
// (linear probing, load ≤ 0.75, backward-shift deletion) maps a hash to its slot; a doubly linked
// list in two Int32 columns orders slots by last use, so a new pair at capacity takes the slot of
// the least recently seen one. Every array is sized by the capacity at construction: memory does
// not grow with the number of distinct keys ever seen. ≈ 16 B per slot plus 4 B per index bucket.
import { hashPairKey } from "./pairKeyHash.js";

const EMPTY = -1;

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(2, n)));

export class PairTable {
  readonly capacity: number;
  size = 0;
  evictions = 0;
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly index: Int32Array;
  private readonly mask: number;
  private head = EMPTY;
  private tail = EMPTY;
  private readonly h = new Uint32Array(2);

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer`);
    this.capacity = capacity;
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    const buckets = nextPow2(Math.ceil((capacity * 4) / 3));
    this.index = new Int32Array(buckets).fill(EMPTY);
    this.mask = buckets - 1;
  }

  /** Bytes held by the typed arrays (the whole structure but a few object headers). */
  get bytes(): number {
    return (
      this.hi.byteLength + this.lo.byteLength + this.prev.byteLength + this.next.byteLength + this.index.byteLength
    );
  }

  /**
   * The slot of `key`, made most recently used. A new key gets a free slot or, at capacity, the
   * least recently used one (counted in `evictions`); `isNew` is then set so the caller resets
   * the slot's state.
   */
  acquire(key: string): number {
    const h = this.h;
    hashPairKey(key, h);
    const hi = h[0] ?? 0;
    const lo = h[1] ?? 0;
    let b = hi & this.mask;
    for (;;) {
      const s = this.index[b] ?? EMPTY;
      if (s === EMPTY) break;
      if (this.hi[s] === hi && this.lo[s] === lo) {
        this.isNew = false;
        this.touch(s);
        return s;
      }
      b = (b + 1) & this.mask;
    }
    let s: number;
    if (this.size < this.capacity) {
      s = this.size++;
    } else {
      s = this.tail;
      this.unlink(s);
      this.unindex(s);
      this.evictions++;
      // The deletion may have shifted entries into the probe run: find the free bucket again.
      b = hi & this.mask;
      while ((this.index[b] ?? EMPTY) !== EMPTY) b = (b + 1) & this.mask;
    }
    this.hi[s] = hi;
    this.lo[s] = lo;
    this.index[b] = s;
    this.pushFront(s);
    this.isNew = true;
    return s;
  }

  /** Whether the last `acquire` gave a slot to a key that was not tracked. */
  isNew = false;

  private touch(s: number): void {
    if (this.head === s) return;
    this.unlink(s);
    this.pushFront(s);
  }

  private pushFront(s: number): void {
    this.prev[s] = EMPTY;
    this.next[s] = this.head;
    if (this.head !== EMPTY) this.prev[this.head] = s;
    this.head = s;
    if (this.tail === EMPTY) this.tail = s;
  }

  private unlink(s: number): void {
    const p = this.prev[s] ?? EMPTY;
    const n = this.next[s] ?? EMPTY;
    if (p === EMPTY) this.head = n;
    else this.next[p] = n;
    if (n === EMPTY) this.tail = p;
    else this.prev[n] = p;
  }

  /** Removes slot s from the index, shifting later members of its probe run back (no tombstones). */
  private unindex(s: number): void {
    const mask = this.mask;
    let i = (this.hi[s] ?? 0) & mask;
    while (this.index[i] !== s) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const t = this.index[j] ?? EMPTY;
      if (t === EMPTY) break;
      const home = (this.hi[t] ?? 0) & mask;
      // t may move back to i unless its home lies cyclically in (i, j].
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!inRange) {
        this.index[i] = t;
        i = j;
      }
    }
    this.index[i] = EMPTY;
  }
}
