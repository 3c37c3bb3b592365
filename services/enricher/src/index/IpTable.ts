// IP → Target with time. Pod IPs carry validity intervals so an IP reused by a new pod resolves
// by the flow's start time: a deleted pod keeps answering for flows that started before its
// deletion during a grace period, a new holder answers for flows that start after it appeared.
// Node and Service IPs are fixed claims (highest priority claim wins); external IPs are cached
// (bounded) so every lookup costs one Map.get on the common path. Two maps: `slots` holds the
// state, `hot` holds what lookups need — the Target itself when the answer doesn't depend on
// time (no extra pointer to chase, the cost of a bare Map.get), else the Slot. IPv4 entries are
// mirrored in `hot4` keyed by number (first octet → map of the low 24 bits, always small
// integers) for the batch path, which then never builds the address as a string.

import { ipv4Key } from "./ipv4Key.js";
import { Target } from "./Target.js";

interface Interval {
  readonly target: Target;
  from: number;
  /** Infinity while the holder is alive. */
  to: number;
}

interface Claim {
  readonly source: string;
  readonly priority: number;
  readonly target: Target;
}

class Slot {
  pods: Interval[] = [];
  claims: Claim[] = [];
  /** Cached external answer (no pods, no claims); evictable. */
  external: Target | null = null;
  /** The answer for flows starting at or after `fastFrom`; null when the intervals must be consulted. */
  fast: Target | null = null;
  fastFrom = -Infinity;
}

interface Expiry {
  readonly ip: string;
  readonly interval: Interval;
  readonly at: number;
}

export class IpTable {
  private readonly slots = new Map<string, Slot>();
  private readonly hot = new Map<string, Target | Slot>();
  private readonly hot4: Array<Map<number, Target | Slot>> = Array.from(
    { length: 256 },
    () => new Map<number, Target | Slot>(),
  );
  /** Closed intervals in closing order; the grace is constant, so this is ordered by expiry. */
  private expiries: Expiry[] = [];
  private expiryHead = 0;
  private externalKeys: string[] = [];

  constructor(
    private readonly graceMs: number,
    private readonly externalOf: (ip: string) => Target,
    private readonly maxExternal = 200_000,
  ) {}

  /** Number of IPs known (pods, claims and cached externals). */
  get size(): number {
    return this.slots.size;
  }

  /** The endpoint of `ip` for a flow that started at `tMs`. */
  lookup(ip: string, tMs: number): Target {
    const v = this.hot.get(ip);
    if (v === undefined) return this.cacheExternal(ip);
    if (v instanceof Target) return v;
    if (v.fast !== null && tMs >= v.fastFrom) return v.fast;
    return this.slow(ip, v, tMs);
  }

  /** `lookup` by IPv4 key (see ipv4Key); null when the address isn't known yet (then call `lookup`). */
  lookupV4(key: number, tMs: number): Target | null {
    const v = (this.hot4[key >>> 24] as Map<number, Target | Slot>).get(key & 0xffffff);
    if (v === undefined) return null;
    if (v instanceof Target) return v;
    if (v.fast !== null && tMs >= v.fastFrom) return v.fast;
    return null;
  }

  /** `target` holds `ip` from `fromMs` on (until released). */
  hold(ip: string, target: Target, fromMs: number): void {
    const slot = this.slotFor(ip);
    if (slot.pods.some((iv) => iv.target === target && iv.to === Infinity)) return;
    // One IP, one holder: a newer holder starts no earlier than the previous one ended, and an
    // older holder still open (its delete not seen yet) ends where the new one starts.
    let from = fromMs;
    for (const iv of slot.pods) if (iv.to !== Infinity && iv.to > from) from = iv.to;
    for (const iv of slot.pods) if (iv.to === Infinity) iv.to = Math.max(iv.from, from);
    slot.pods.push({ target, from, to: Infinity });
    this.refresh(ip, slot);
  }

  /** `target` stopped holding `ip` at `nowMs`; it keeps answering for earlier flows for the grace period. */
  release(ip: string, target: Target, nowMs: number): void {
    const slot = this.slots.get(ip);
    if (slot === undefined) return;
    for (const iv of slot.pods) {
      if (iv.target !== target) continue;
      if (iv.to > nowMs) iv.to = Math.max(iv.from, nowMs);
      this.expiries.push({ ip, interval: iv, at: nowMs + this.graceMs });
    }
    this.refresh(ip, slot);
  }

  claim(ip: string, source: string, priority: number, target: Target): void {
    const slot = this.slotFor(ip);
    slot.claims = slot.claims.filter((c) => c.source !== source);
    slot.claims.push({ source, priority, target });
    slot.claims.sort((a, b) => b.priority - a.priority);
    this.refresh(ip, slot);
  }

  unclaim(ip: string, source: string): void {
    const slot = this.slots.get(ip);
    if (slot === undefined) return;
    slot.claims = slot.claims.filter((c) => c.source !== source);
    this.refresh(ip, slot);
  }

  /** The pod holding `ip` now, if any. */
  holder(ip: string): Target | null {
    const slot = this.slots.get(ip);
    const open = slot?.pods.filter((iv) => iv.to === Infinity) ?? [];
    return open[open.length - 1]?.target ?? null;
  }

  /** Forget intervals whose grace period ended by `nowMs`. */
  sweep(nowMs: number): void {
    while (this.expiryHead < this.expiries.length) {
      const e = this.expiries[this.expiryHead] as Expiry;
      if (e.at > nowMs) break;
      this.expiryHead++;
      const slot = this.slots.get(e.ip);
      if (slot === undefined) continue;
      const i = slot.pods.indexOf(e.interval);
      if (i >= 0 && e.interval.to !== Infinity) {
        slot.pods.splice(i, 1);
        this.refresh(e.ip, slot);
      }
    }
    if (this.expiryHead > 1024 && this.expiryHead * 2 > this.expiries.length) {
      this.expiries = this.expiries.slice(this.expiryHead);
      this.expiryHead = 0;
    }
  }

  private slow(ip: string, slot: Slot, t: number): Target {
    let best: Interval | null = null;
    let earliest: Interval | null = null;
    const pods = slot.pods;
    for (let i = 0; i < pods.length; i++) {
      const iv = pods[i] as Interval;
      if (t >= iv.to) continue;
      if (iv.from <= t && (best === null || iv.from >= best.from)) best = iv;
      if (earliest === null || iv.from < earliest.from) earliest = iv;
    }
    // A flow that starts before every holder appeared (clock skew, creationTimestamp rounding)
    // belongs to the oldest holder still valid at that time.
    const pod = best ?? earliest;
    if (pod !== null) return pod.target;
    return slot.claims[0]?.target ?? slot.external ?? this.externalOf(ip);
  }

  private slotFor(ip: string): Slot {
    let slot = this.slots.get(ip);
    if (slot === undefined) {
      slot = new Slot();
      this.slots.set(ip, slot);
    }
    slot.external = null;
    return slot;
  }

  private refresh(ip: string, slot: Slot): void {
    const pods = slot.pods;
    slot.fastFrom = -Infinity;
    if (pods.length === 0) {
      const claim = slot.claims[0];
      if (claim === undefined && slot.external === null) {
        this.slots.delete(ip);
        this.unsetHot(ip);
        return;
      }
      slot.fast = claim?.target ?? slot.external;
      this.setHot(ip, slot.fast as Target);
      return;
    }
    // Holders never overlap (see `hold`), so from the newest live holder's start on it is the
    // answer; a single live holder answers at every time (see `slow`).
    slot.fast = null;
    const newest = pods[pods.length - 1] as Interval;
    if (newest.to === Infinity) {
      slot.fast = newest.target;
      if (pods.length > 1) slot.fastFrom = newest.from;
    }
    this.setHot(ip, slot.fast !== null && slot.fastFrom === -Infinity ? slot.fast : slot);
  }

  private setHot(ip: string, v: Target | Slot): void {
    this.hot.set(ip, v);
    const k = ipv4Key(ip);
    if (k >= 0) (this.hot4[k >>> 24] as Map<number, Target | Slot>).set(k & 0xffffff, v);
  }

  private unsetHot(ip: string): void {
    this.hot.delete(ip);
    const k = ipv4Key(ip);
    if (k >= 0) (this.hot4[k >>> 24] as Map<number, Target | Slot>).delete(k & 0xffffff);
  }

  private cacheExternal(ip: string): Target {
    const target = this.externalOf(ip);
    if (this.externalKeys.length >= this.maxExternal) this.evictExternals();
    const slot = new Slot();
    slot.external = target;
    slot.fast = target;
    this.slots.set(ip, slot);
    this.setHot(ip, target);
    this.externalKeys.push(ip);
    return target;
  }

  private evictExternals(): void {
    for (const ip of this.externalKeys) {
      const slot = this.slots.get(ip);
      if (slot !== undefined && slot.external !== null) {
        this.slots.delete(ip);
        this.unsetHot(ip);
      }
    }
    this.externalKeys = [];
  }
}
