// PairBaselines: warm-up, level shifts, benign spikes, anomalies not becoming the baseline,
// eviction, determinism, rule changes and the memory bound.
import { describe, expect, it } from "vitest";
import {
  BASELINE_PARAM_SPEC,
  type BaselineFinding,
  PairBaselines,
  baselineDefaults,
} from "../src/engine/baseline/PairBaselines.js";

const S = 1_000_000_000n;
const D = baselineDefaults();
const WARMUP = D["warmupSamples"] ?? 0;
const CONFIRM = D["confirmSamples"] ?? 0;
/** Windows (10 s apart) a deviation must last to be accepted as the new level. */
const ACCEPT = Math.max(D["acceptAfterSamples"] ?? 0, Math.ceil((D["acceptAfterS"] ?? 0) / 10));

/** Seeded standard normal (a small LCG and Box-Muller): tests stay deterministic. */
const normals = (seed: number): (() => number) => {
  let x = seed >>> 0;
  const u = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return (x + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
};

/** Feeds one pair window after window (10 s apart); returns the findings by window index. */
const feed = (b: PairBaselines, key: string, rttMs: readonly number[], from = 0, rates?: readonly number[]) => {
  const out = new Map<number, BaselineFinding>();
  rttMs.forEach((ms, i) => {
    const f = b.observe(key, BigInt(from + i) * 10n * S, ms * 1000, rates?.[i] ?? 0);
    if (f !== undefined) out.set(from + i, f);
  });
  return out;
};
const noisy = (n: number, ms: number, sigma: number, seed = 1): number[] => {
  const z = normals(seed);
  return Array.from({ length: n }, () => ms * Math.exp(sigma * z()));
};
const fresh = (params: Record<string, number> = {}) =>
  new PairBaselines({ capacity: 16, params: { ...baselineDefaults(), ...params } });

describe("PairBaselines", () => {
  it("stays silent while warming up, even on a tenfold RTT", () => {
    const b = fresh();
    const rtt = [...noisy(WARMUP - 5, 10, 0.05), ...Array<number>(5).fill(100)];
    expect(feed(b, "a|b", rtt).size).toBe(0);
    // The same jump after the warm-up does alert: the silence above was the warm-up's.
    const c = fresh();
    expect(feed(c, "a|b", [...noisy(WARMUP + 20, 10, 0.05), ...Array<number>(5).fill(100)]).size).toBeGreaterThan(0);
  });

  it("fires on a level shift, after confirmSamples windows, against the old level", () => {
    const b = fresh();
    const before = noisy(200, 10, 0.1);
    feed(b, "a|b", before);
    const found = feed(b, "a|b", noisy(20, 40, 0.1, 2), 200);
    const first = Math.min(...found.keys());
    expect(first).toBe(200 + CONFIRM - 1);
    const f = found.get(first)!;
    expect(f.metric).toBe("rtt");
    expect(f.baseline).toBeGreaterThan(8);
    expect(f.baseline).toBeLessThan(12);
    expect(f.observed).toBeGreaterThan(25);
    expect(f.score).toBeGreaterThanOrEqual(D["sensitivity"] ?? Infinity);
  });

  it("does not fire on a benign spike in noisy heavy data, single windows apart", () => {
    const b = fresh();
    const rtt = noisy(600, 20, 0.3);
    // Tenfold spikes, each alone (the trade-off: confirmSamples 3 ignores any 1-2 window event).
    for (const at of [100, 230, 231, 400]) rtt[at] = 200;
    expect(feed(b, "a|b", rtt).size).toBe(0);
    // With confirmSamples 1 the same series alerts: the test can tell.
    expect(feed(fresh({ confirmSamples: 1 }), "a|b", rtt).size).toBeGreaterThan(0);
  });

  it("does not alert a tiny-RTT pair on a fraction of a millisecond, but on milliseconds", () => {
    const b = fresh();
    feed(b, "a|b", noisy(100, 0.3, 0.05));
    expect(feed(b, "a|b", Array<number>(10).fill(0.9), 100).size).toBe(0);
    expect(feed(b, "a|b", Array<number>(10).fill(8), 110).size).toBeGreaterThan(0);
  });

  it("does not learn an anomaly as the new normal until it has lasted", () => {
    const b = fresh();
    feed(b, "a|b", noisy(200, 10, 0.1));
    // 20 slow windows (200 s, far from acceptance): every finding keeps the old baseline.
    const during = [...feed(b, "a|b", Array<number>(20).fill(60), 200).values()];
    expect(during.length).toBe(20 - CONFIRM + 1);
    for (const f of during) expect(f.baseline).toBeLessThan(12);
    // Back to normal for a while, then the same shift is again an anomaly against ~10 ms.
    expect(feed(b, "a|b", noisy(50, 10, 0.1, 3), 220).size).toBe(0);
    const again = feed(b, "a|b", Array<number>(5).fill(60), 270);
    expect(again.size).toBe(5 - CONFIRM + 1);
    expect([...again.values()][0]!.baseline).toBeLessThan(12);
    // A shift that lasts (both acceptAfterS and acceptAfterSamples) becomes the new level: this
    // run began at window 270, the last window before acceptance still alerts.
    const long = feed(b, "a|b", Array<number>(ACCEPT + 20).fill(60), 275);
    expect(Math.max(...long.keys())).toBe(270 + ACCEPT - 1);
    expect(feed(b, "a|b", noisy(50, 60, 0.05, 4), 295 + ACCEPT).size).toBe(0);
  });

  it("comes back down when a level it accepted ends", () => {
    const b = fresh();
    feed(b, "a|b", noisy(200, 10, 0.1));
    feed(b, "a|b", noisy(ACCEPT + 20, 60, 0.05, 2), 200); // accepted as the new level
    let t = 220 + ACCEPT;
    expect(feed(b, "a|b", noisy(20, 60, 0.05, 3), t).size).toBe(0);
    t += 20;
    feed(b, "a|b", noisy(ACCEPT + 20, 10, 0.1, 4), t); // congestion over: back to ~10 ms
    t += ACCEPT + 20;
    const again = feed(b, "a|b", Array<number>(5).fill(40), t);
    expect(again.size).toBeGreaterThan(0);
    expect([...again.values()][0]!.baseline).toBeLessThan(14);
  });

  it("a busy pair's many windows per instant neither stall learning nor accept a level at once", () => {
    const b = fresh();
    // 40 connections report at each 10 s tick, all with the tick's timestamp.
    const tick = (i: number, ms: number) => {
      let found = 0;
      for (let c = 0; c < 40; c++) if (b.observe("a|b", BigInt(i) * 10n * S, ms * 1000, 0) !== undefined) found++;
      return found;
    };
    for (let i = 0; i < 30; i++) tick(i, 10);
    // Every window counts, not only the first of each instant: 100 ticks at 13 ms move the baseline.
    for (let i = 30; i < 130; i++) tick(i, 13);
    // 200 deviating windows within 50 s: far more than acceptAfterSamples, far less than acceptAfterS.
    let found = 0;
    for (let i = 130; i < 135; i++) found += tick(i, 60);
    expect(found).toBe(200 - CONFIRM + 1);
    for (let i = 135; i < 140; i++) tick(i, 13);
    for (let c = 0; c < CONFIRM - 1; c++) b.observe("a|b", 140n * 10n * S, 60_000, 0);
    const f = b.observe("a|b", 140n * 10n * S, 60_000, 0);
    expect(f?.baseline).toBeGreaterThan(12);
    expect(f?.baseline).toBeLessThan(13.5);
  });

  it("learns the retransmit rate and fires on a retransmit burst", () => {
    const b = fresh();
    const rtt = Array<number>(300).fill(10);
    const rates: number[] = Array.from({ length: 300 }, (_, i) => (i % 37 === 0 ? 0.01 : 0));
    for (let i = 250; i < 260; i++) rates[i] = 0.3;
    const found = feed(b, "a|b", rtt, 0, rates);
    expect([...found.keys()]).toEqual(Array.from({ length: 10 - CONFIRM + 1 }, (_, i) => 250 + CONFIRM - 1 + i));
    expect(found.get(252)!.metric).toBe("retrans");
    expect(found.get(252)!.observed).toBeCloseTo(0.3);
  });

  it("skips the RTT metric of windows without an RTT sample", () => {
    const b = fresh();
    feed(b, "a|b", noisy(100, 10, 0.05));
    for (let i = 0; i < 50; i++) expect(b.observe("a|b", BigInt(100 + i) * 10n * S, 0, 0)).toBeUndefined();
    // Zeros did not drag the baseline: 10 ms is still normal, 50 ms is not.
    expect(feed(b, "a|b", noisy(10, 10, 0.05, 5), 150).size).toBe(0);
    expect(feed(b, "a|b", Array<number>(5).fill(50), 160).size).toBeGreaterThan(0);
  });

  it("skips values that are not finite numbers instead of learning them", () => {
    const b = fresh();
    feed(b, "a|b", noisy(100, 10, 0.05));
    for (const bad of [NaN, Infinity, Infinity, Infinity, -5]) {
      expect(b.observe("a|b", 100n * 10n * S, bad, NaN)).toBeUndefined();
    }
    expect(feed(b, "a|b", noisy(10, 10, 0.05, 5), 101).size).toBe(0);
    expect(feed(b, "a|b", Array<number>(5).fill(50), 111).size).toBeGreaterThan(0);
  });

  it("evicts the least recently seen pair at capacity and counts it", () => {
    const b = new PairBaselines({ capacity: 3, params: D });
    for (const k of ["a", "b", "c"]) feed(b, k, noisy(50, 10, 0.05));
    feed(b, "a", [10], 50); // a is now more recent than b
    feed(b, "d", [10], 51);
    expect(b.size).toBe(3);
    expect(b.evictions).toBe(1);
    // a kept its baseline (it alerts at once on a shift); b was evicted and warms up again.
    expect(feed(b, "a", Array<number>(5).fill(60), 60).size).toBeGreaterThan(0);
    expect(feed(b, "b", Array<number>(5).fill(60), 60).size).toBe(0);
    expect(b.evictions).toBe(2); // b's return pushed out c
  });

  it("is deterministic: the same windows give the same findings", () => {
    const run = () => {
      const b = new PairBaselines({ capacity: 45, params: D });
      const z = normals(7);
      const out: unknown[] = [];
      for (let i = 0; i < 20_000; i++) {
        // 40 steady pairs, and a one-off pair every 50 windows that forces evictions.
        const pair = i % 50 === 0 ? `ns/once-${i}|ns/x` : `ns/w${i % 40}|ns/x`;
        const level = i > 12_000 && i % 40 < 10 && i % 400 < 200 ? 5 : 1;
        const f = b.observe(pair, BigInt(i) * S, 10_000 * level * Math.exp(0.2 * z()), i % 97 === 0 ? 0.2 : 0);
        if (f !== undefined) out.push([i, f]);
      }
      return { out, evictions: b.evictions };
    };
    const a = run();
    expect(a.out.length).toBeGreaterThan(0);
    expect(a.evictions).toBeGreaterThan(0);
    expect(run()).toEqual(a);
  });

  it("keeps what it learned when the parameters change", () => {
    const b = fresh();
    feed(b, "a|b", noisy(200, 10, 0.1));
    b.setParams({ ...D, confirmSamples: 1, minDeviationMs: 100 });
    // No new warm-up, and the new parameters are in force at once.
    expect(feed(b, "a|b", [60, 60], 200).size).toBe(0);
    b.setParams({ ...D, confirmSamples: 1 });
    expect([...feed(b, "a|b", [60], 202).keys()]).toEqual([202]);
    expect(() => b.setParams({ sensitivity: -1 })).toThrow(/sensitivity/);
  });

  it("takes memory by capacity, not by keys seen, and stays under 64 B per pair", () => {
    for (const capacity of [1_000, 10_000, 12_289, 100_000]) {
      const b = new PairBaselines({ capacity, params: {} });
      const bytes = b.bytes;
      expect(bytes / capacity).toBeLessThanOrEqual(64);
      for (let i = 0; i < 3 * capacity; i++) b.observe(`team-${i}/api|team-${i}/db`, BigInt(i) * S, 1000, 0);
      expect(b.bytes).toBe(bytes);
      expect(b.size).toBe(capacity);
      expect(b.evictions).toBe(2 * capacity);
    }
  });

  it("defaults come from the spec, each inside its range", () => {
    for (const [name, spec] of Object.entries(BASELINE_PARAM_SPEC)) {
      expect(D[name]).toBe(spec.default);
      expect(spec.default).toBeGreaterThanOrEqual(spec.min);
      expect(spec.default).toBeLessThanOrEqual(spec.max);
      expect(spec.doc.length).toBeGreaterThan(10);
    }
  });
});
