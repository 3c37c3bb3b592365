// PairTable against a reference LRU (a Map in insertion order) under heavy churn: the open
// addressing index with backward-shift deletion must find exactly the keys still tracked.
import { describe, expect, it } from "vitest";
import { PairTable } from "../src/engine/baseline/PairTable.js";
import { hashPairKey } from "../src/engine/baseline/pairKeyHash.js";

describe("PairTable", () => {
  it("agrees with a reference LRU over 200 k acquires with evictions", () => {
    const capacity = 97;
    const t = new PairTable(capacity);
    const ref = new Map<string, number>();
    let x = 12345;
    let evictions = 0;
    let wrong = 0;
    for (let i = 0; i < 200_000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const key = `k${(x >>> 8) % 300}`;
      const slot = t.acquire(key);
      const known = ref.get(key);
      if (t.isNew !== (known === undefined)) wrong++;
      if (known !== undefined) {
        if (slot !== known) wrong++;
        ref.delete(key);
      } else if (ref.size === capacity) {
        const [oldest, oldSlot] = ref.entries().next().value!;
        ref.delete(oldest);
        if (slot !== oldSlot) wrong++;
        evictions++;
      }
      ref.set(key, slot);
    }
    expect(wrong).toBe(0);
    expect(evictions).toBeGreaterThan(100_000);
    expect(t.size).toBe(capacity);
    expect(t.evictions).toBe(evictions);
  });

  it("hashes keys to 64 bits that differ for near-identical keys", () => {
    const seen = new Set<string>();
    const h = new Uint32Array(2);
    for (let i = 0; i < 100_000; i++) {
      hashPairKey(`default/api-${i}|default/db`, h);
      seen.add(`${h[0]}:${h[1]}`);
    }
    expect(seen.size).toBe(100_000);
  });
});
