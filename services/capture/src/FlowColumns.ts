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
  // hash index: 2 × capacity entries holding slot + 1 (0 = empty); the id lives in slotId
  index = new Int32Array(0);
  slotId = new Float64Array(0);
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
    this.slotId = grow(this.slotId, (n) => new Float64Array(n), 1);
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
    const old = this.index;
    this.index = new Int32Array(cap * 2);
    this.capacity = cap;
    for (let i = 0; i < old.length; i++) {
      const v = old[i] ?? 0;
      if (v !== 0) this.place(this.slotId[v - 1] ?? 0, v - 1);
    }
  }

  private place(id: number, slot: number): void {
    const mask = this.index.length - 1;
    let i = mixId(id) & mask;
    while (this.index[i] !== 0) i = (i + 1) & mask;
    this.index[i] = slot + 1;
    this.slotId[slot] = id;
  }

  private idAt(i: number): number {
    const v = this.index[i] ?? 0;
    return v === 0 ? 0 : (this.slotId[v - 1] ?? 0);
  }

  find(id: number): number {
    const mask = this.index.length - 1;
    for (let i = mixId(id) & mask; ; i = (i + 1) & mask) {
      const v = this.index[i] ?? 0;
      if (v === 0) return -1;
      if (this.slotId[v - 1] === id) return v - 1;
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
    const mask = this.index.length - 1;
    let i = mixId(id) & mask;
    while (this.idAt(i) !== id) {
      if (this.index[i] === 0) return;
      i = (i + 1) & mask;
    }
    // backward-shift: keep every probe chain unbroken without tombstones
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (this.index[j] === 0) break;
      const home = mixId(this.idAt(j)) & mask;
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (between) continue;
      this.index[i] = this.index[j] ?? 0;
      i = j;
    }
    this.index[i] = 0;
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
    for (let i = 0; i < this.index.length; i++) {
      const v = this.index[i] ?? 0;
      if (v === 0) continue;
      const s = v - 1;
      const k = this.slotId[s] ?? 0;
      const m = s * META;
      if (this.meta[m + M_DIRTY] === 1) fn(s);
      else if ((this.meta[m + M_IDLE] = Math.min(255, (this.meta[m + M_IDLE] ?? 0) + 1)) > maxIdleTicks)
        evict.push(k, s);
    }
    for (let i = 0; i < evict.length; i += 2) this.remove(evict[i] ?? 0, evict[i + 1] ?? 0);
    return evict.length / 2;
  }
}
