// Column storage for FlowTable: one typed array per field, indexed by slot, plus an
// open-addressing hash (linear probing, backward-shift delete) from kernel flow id to slot.
// Grows by doubling up to maxFlows; never beyond.
import type { KernelFlowRecord } from "./FlowRecordDecoder.js";
import { RecordFlags } from "./FlowRecordLayout.js";

const META = 7; // family, direction, state, flags, closeReason, dirty, idle ticks
export const M_FAMILY = 0;
export const M_DIRECTION = 1;
export const M_STATE = 2;
export const M_FLAGS = 3;
export const M_CLOSE = 4;
export const M_DIRTY = 5;
export const M_IDLE = 6;

const mixId = (id: number): number => Math.imul((id >>> 0) ^ ((id / 0x1_0000_0000) >>> 0), 0x9e3779b1) >>> 0;

export class FlowColumns {
  size = 0;
  capacity = 0;
  // hash index: 2 × capacity entries, key 0 = empty (kernel ids start at 1)
  keys = new Float64Array(0);
  vals = new Int32Array(0);
  free = new Int32Array(0);
  freeTop = 0;
  meta = new Uint8Array(0);
  ports = new Uint16Array(0);
  addrs = new Uint8Array(0);
  pid = new Uint32Array(0);
  netns = new Uint32Array(0);
  cgroup = new Uint32Array(0); // hi, lo
  comm = new Uint8Array(0);
  startNs = new Float64Array(0);
  sampling = new Uint32Array(0);
  bytes = new Float64Array(0); // out, in (window)
  counts = new Uint32Array(0); // segs out, segs in, retrans, syn retrans (window)
  rtt = new Uint32Array(0); // srtt (latest), min, max (window)

  constructor(
    initial: number,
    readonly maxFlows: number,
  ) {
    this.resize(Math.max(16, Math.min(initial, maxFlows)));
  }

  private resize(cap: number): void {
    const grow = <T extends Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array>(
      old: T,
      make: (n: number) => T,
      per: number,
    ): T => {
      const next = make(cap * per);
      next.set(old);
      return next;
    };
    this.meta = grow(this.meta, (n) => new Uint8Array(n), META);
    this.ports = grow(this.ports, (n) => new Uint16Array(n), 2);
    this.addrs = grow(this.addrs, (n) => new Uint8Array(n), 32);
    this.pid = grow(this.pid, (n) => new Uint32Array(n), 1);
    this.netns = grow(this.netns, (n) => new Uint32Array(n), 1);
    this.cgroup = grow(this.cgroup, (n) => new Uint32Array(n), 2);
    this.comm = grow(this.comm, (n) => new Uint8Array(n), 16);
    this.startNs = grow(this.startNs, (n) => new Float64Array(n), 1);
    this.sampling = grow(this.sampling, (n) => new Uint32Array(n), 1);
    this.bytes = grow(this.bytes, (n) => new Float64Array(n), 2);
    this.counts = grow(this.counts, (n) => new Uint32Array(n), 4);
    this.rtt = grow(this.rtt, (n) => new Uint32Array(n), 3);
    const free = new Int32Array(cap);
    free.set(this.free.subarray(0, this.freeTop));
    let top = this.freeTop;
    for (let s = cap - 1; s >= this.capacity; s--) free[top++] = s;
    this.free = free;
    this.freeTop = top;
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new Float64Array(cap * 2);
    this.vals = new Int32Array(cap * 2);
    this.capacity = cap;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i] ?? 0;
      if (k !== 0) this.place(k, oldVals[i] ?? 0);
    }
  }

  private place(id: number, slot: number): void {
    const mask = this.keys.length - 1;
    let i = mixId(id) & mask;
    while (this.keys[i] !== 0) i = (i + 1) & mask;
    this.keys[i] = id;
    this.vals[i] = slot;
  }

  find(id: number): number {
    const mask = this.keys.length - 1;
    for (let i = mixId(id) & mask; ; i = (i + 1) & mask) {
      const k = this.keys[i];
      if (k === id) return this.vals[i] ?? -1;
      if (k === 0) return -1;
    }
  }

  /** A fresh slot for `id`, or -1 when maxFlows are tracked. */
  insert(id: number): number {
    if (this.freeTop === 0) {
      if (this.capacity >= this.maxFlows) return -1;
      this.resize(Math.min(this.capacity * 2, this.maxFlows));
    }
    const s = this.free[--this.freeTop] ?? -1;
    this.place(id, s);
    this.size++;
    this.resetWindow(s);
    this.rtt[s * 3] = 0;
    return s;
  }

  remove(id: number, slot: number): void {
    const mask = this.keys.length - 1;
    let i = mixId(id) & mask;
    while (this.keys[i] !== id) {
      if (this.keys[i] === 0) return;
      i = (i + 1) & mask;
    }
    // backward-shift: keep every probe chain unbroken without tombstones
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = this.keys[j] ?? 0;
      if (k === 0) break;
      const home = mixId(k) & mask;
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (between) continue;
      this.keys[i] = k;
      this.vals[i] = this.vals[j] ?? 0;
      i = j;
    }
    this.keys[i] = 0;
    this.meta[slot * META + M_DIRTY] = 0;
    this.free[this.freeTop++] = slot;
    this.size--;
  }

  setIdentity(s: number, r: KernelFlowRecord): void {
    const m = s * META;
    this.meta[m + M_FAMILY] = r.family;
    this.meta[m + M_DIRECTION] = r.direction;
    this.ports[s * 2] = r.lport;
    this.ports[s * 2 + 1] = r.rport;
    this.addrs.set(r.laddr, s * 32);
    this.addrs.set(r.raddr, s * 32 + 16);
    this.netns[s] = r.netns;
    this.cgroup[s * 2] = r.cgroupHi;
    this.cgroup[s * 2 + 1] = r.cgroupLo;
    this.startNs[s] = r.startNs;
    this.pid[s] = 0;
    this.comm.fill(0, s * 16, s * 16 + 16);
  }

  addRecord(s: number, r: KernelFlowRecord): void {
    const m = s * META;
    this.meta[m + M_STATE] = r.state;
    this.meta[m + M_FLAGS] = r.flags;
    this.meta[m + M_CLOSE] = r.closeReason;
    this.meta[m + M_DIRTY] = 1;
    this.meta[m + M_IDLE] = 0;
    this.sampling[s] = r.sampling;
    if (r.flags & RecordFlags.pidKnown) {
      this.pid[s] = r.pid;
      this.comm.set(r.comm, s * 16);
    }
    this.bytes[s * 2] = (this.bytes[s * 2] ?? 0) + r.dBytesOut;
    this.bytes[s * 2 + 1] = (this.bytes[s * 2 + 1] ?? 0) + r.dBytesIn;
    const c = s * 4;
    this.counts[c] = (this.counts[c] ?? 0) + r.dSegsOut;
    this.counts[c + 1] = (this.counts[c + 1] ?? 0) + r.dSegsIn;
    this.counts[c + 2] = (this.counts[c + 2] ?? 0) + r.dRetrans;
    this.counts[c + 3] = (this.counts[c + 3] ?? 0) + r.dSynRetrans;
    const t = s * 3;
    if (r.srttUs > 0) this.rtt[t] = r.srttUs;
    const lo = r.minRttUs > 0 ? Math.min(r.minRttUs, r.srttUs || r.minRttUs) : r.srttUs;
    const hi = Math.max(r.maxRttUs, r.srttUs);
    const curLo = this.rtt[t + 1] ?? 0;
    if (lo > 0 && (curLo === 0 || lo < curLo)) this.rtt[t + 1] = lo;
    if (hi > (this.rtt[t + 2] ?? 0)) this.rtt[t + 2] = hi;
  }

  resetWindow(s: number): void {
    this.meta[s * META + M_DIRTY] = 0;
    this.bytes[s * 2] = 0;
    this.bytes[s * 2 + 1] = 0;
    this.counts.fill(0, s * 4, s * 4 + 4);
    this.rtt[s * 3 + 1] = 0;
    this.rtt[s * 3 + 2] = 0;
  }

  /** Calls `fn` for each flow with activity; forgets flows idle for more than `maxIdleTicks`
   * (their close record was lost, or they are long idle: any later record re-creates them). */
  sweep(fn: (slot: number) => void, maxIdleTicks: number): number {
    const evict: number[] = [];
    for (let i = 0; i < this.vals.length; i++) {
      const k = this.keys[i] ?? 0;
      if (k === 0) continue;
      const s = this.vals[i] ?? 0;
      const m = s * META;
      if (this.meta[m + M_DIRTY] === 1) fn(s);
      else if ((this.meta[m + M_IDLE] = Math.min(255, (this.meta[m + M_IDLE] ?? 0) + 1)) > maxIdleTicks) evict.push(k, s);
    }
    for (let i = 0; i < evict.length; i += 2) this.remove(evict[i] ?? 0, evict[i + 1] ?? 0);
    return evict.length / 2;
  }
}
