// The baseline module's bench: memory per tracked pair, observe() rate, and the comparison of
// candidate methods on generated labelled series (baselineSeries.ts) that chose the shipped one.
//   npx tsx services/detector/bench/baseline.bench.ts
// Goal: ≤ 64 B per tracked pair, key bookkeeping included.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { PairBaselines, baselineDefaults } from "../src/engine/baseline/PairBaselines.js";
import { candidateMethods, pairBaselinesMethod, type Method } from "./baselineMethods.js";
import { scoreAlerts, scorePoints, type Score } from "./baselineScore.js";
import { generateSeries, type LabelledEvent, type Series } from "./baselineSeries.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const used = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const pairKey = (i: number): string => `team-${i % 97}/checkout-${i}|payments-${i % 13}/ledger-${i * 7}`;

const memory = (n: number): void => {
  // Compile observe() and build the bench's own strings before the first reading.
  const warm = new PairBaselines({ capacity: 64, params: baselineDefaults() });
  for (let i = 0; i < 10_000; i++) warm.observe(pairKey(i), BigInt(i), 1000, 0);
  // Several tables, all kept alive, so a stray 100 kB of heap does not swing the figure.
  const copies = Math.max(1, Math.round(1_000_000 / n));
  const tables: PairBaselines[] = [];
  const before = used();
  for (let c = 0; c < copies; c++) {
    const b = new PairBaselines({ capacity: n, params: baselineDefaults() });
    for (let i = 0; i < n; i++) b.observe(pairKey(i), BigInt(i) * 1_000_000n, 1000 + (i % 500), 0);
    tables.push(b);
  }
  const after = used();
  // Twice as many more distinct keys: the structure must not grow (evictions instead).
  for (const b of tables) for (let i = n; i < 3 * n; i++) b.observe(pairKey(i), BigInt(i) * 1_000_000n, 1000, 0);
  const later = used();
  const b = tables[0]!;
  const per = (bytes: number) => (bytes / n / copies).toFixed(1);
  console.log(
    `  ${String(n).padStart(7)} pairs (× ${copies} tables): ${per(after - before)} B/pair measured (heap + array buffers), ` +
      `${(b.bytes / n).toFixed(1)} B/pair in typed arrays; after ${2 * n} more keys each: ` +
      `${per(later - before)} B/pair, size ${b.size}, evictions ${b.evictions}`,
  );
};

const throughput = (capacity: number, distinct: number, calls: number): void => {
  const keys = Array.from({ length: distinct }, (_, i) => pairKey(i));
  const b = new PairBaselines({ capacity, params: baselineDefaults() });
  const run = (m: number): number => {
    const t0 = performance.now();
    for (let i = 0; i < m; i++) {
      const k = keys[i % distinct] ?? "";
      b.observe(k, BigInt(i) * 10_000_000n, 2000 + ((i * 2654435761) % 3000), (i & 63) === 0 ? 0.02 : 0);
    }
    return performance.now() - t0;
  };
  run(Math.min(calls, 200_000)); // warm-up (JIT)
  const ms = run(calls);
  console.log(
    `  capacity ${capacity}, ${distinct} keys: ${(((calls / ms) * 1000) / 1e6).toFixed(2)} M observe()/s ` +
      `(evictions ${b.evictions})`,
  );
};

const RTT_KINDS = new Set<LabelledEvent["kind"]>(["shift", "burst", "ramp"]);
const alertsOf = (m: Method, k: number, set: readonly Series[]): Uint8Array[] =>
  set.map((s) => {
    const d = m.make(k);
    const a = new Uint8Array(s.srttUs.length);
    for (let j = 0; j < a.length; j++) {
      const us = s.srttUs[j] ?? 0;
      if (us > 0 && d(j * s.stepS, us / 1000)) a[j] = 1;
    }
    return a;
  });
const runMethod = (m: Method, k: number, set: readonly Series[]): Score =>
  scoreAlerts(set, alertsOf(m, k, set), RTT_KINDS);

const fmt = (s: Score): string =>
  [
    s.precision.toFixed(3),
    s.recall.toFixed(3),
    s.f1.toFixed(3),
    String(s.medianDelay).padStart(5),
    s.meanDelay.toFixed(1).padStart(6),
    s.falsePerPairDay.toFixed(2).padStart(7),
  ].join("  ");
const HEAD = "precis  recall  F1     delay(med/mean windows)  false/pair-day";

const SENS = [2, 2.5, 3, 3.5, 4, 5, 6, 8];
const main = (): void => {
  console.log("Bytes per tracked pair (PairBaselines, default params):");
  memory(10_000);
  memory(100_000);
  console.log("\nobserve() rate, one core:");
  throughput(100_000, 10_000, 5_000_000);
  throughput(10_000, 100_000, 5_000_000);

  const opts = { series: 400, length: 1500, stepS: 10 };
  const tune = generateSeries({ seed: 1, ...opts });
  const held = generateSeries({ seed: 2, ...opts });
  const count = (set: readonly Series[]) =>
    set.reduce((a, s) => a + s.events.filter((e) => RTT_KINDS.has(e.kind)).length, 0);
  console.log(
    `\nMethods on generated series (${opts.series} pairs × ${opts.length} windows of ${opts.stepS} s; ` +
      `RTT events: tuning seed 1 ${count(tune)}, held-out seed 2 ${count(held)}).`,
  );
  console.log("Sensitivity chosen per method by F1 on seed 1, scored on seed 2.");
  console.log(`${"method".padEnd(42)} k     ${HEAD}`);
  for (const m of candidateMethods) {
    let best = { k: SENS[0] ?? 4, f1: -1 };
    for (const k of SENS) {
      const s = runMethod(m, k, tune);
      if (s.f1 > best.f1) best = { k, f1: s.f1 };
    }
    console.log(`${m.name.padEnd(42)} ${String(best.k).padEnd(5)} ${fmt(runMethod(m, best.k, held))}`);
  }
  const shipped = pairBaselinesMethod("shipped defaults", {});
  const d = baselineDefaults();
  console.log(`\nShipped defaults (${JSON.stringify(d)}), sensitivity sweep on seed 2:`);
  for (const k of SENS) console.log(`  k=${String(k).padEnd(4)} ${fmt(runMethod(shipped, k, held))}`);
  for (const kind of RTT_KINDS) {
    const only = new Set([kind]);
    const alerts = held.map((s) => {
      const det = shipped.make(d["sensitivity"] ?? 4);
      const a = new Uint8Array(s.srttUs.length);
      for (let j = 0; j < a.length; j++)
        if ((s.srttUs[j] ?? 0) > 0 && det(j * s.stepS, (s.srttUs[j] ?? 0) / 1000)) a[j] = 1;
      return a;
    });
    const sc = scoreAlerts(held, alerts, only);
    console.log(
      `  ${kind.padEnd(6)} recall ${sc.recall.toFixed(3)} (${sc.found}/${sc.events}), median delay ${sc.medianDelay}`,
    );
  }

  console.log("\nHow long a deviation lasts before it is the new level (seed 2; events, then windows):");
  for (const [samples, seconds] of [
    [30, 300],
    [60, 1800],
    [127, 3600],
  ] as const) {
    const m = pairBaselinesMethod("", { acceptAfterSamples: samples, acceptAfterS: seconds });
    const a = alertsOf(m, d["sensitivity"] ?? 3, held);
    const pt = scorePoints(held, a, RTT_KINDS);
    console.log(
      `  ${String(samples).padStart(3)} windows and ${String(seconds).padStart(4)} s: ${fmt(scoreAlerts(held, a, RTT_KINDS))}` +
        ` | windows P ${pt.precision.toFixed(3)} R ${pt.recall.toFixed(3)} F1 ${pt.f1.toFixed(3)}`,
    );
  }

  console.log(
    `\nShipped defaults on other window spacings (seed 3, ${opts.series} pairs × ${opts.length} windows): ${HEAD}`,
  );
  for (const stepS of [1, 10, 60, 300]) {
    const other = generateSeries({ ...opts, seed: 3, stepS });
    console.log(`  ${String(stepS).padStart(3)} s  ${fmt(runMethod(shipped, d["sensitivity"] ?? 3, other))}`);
  }

  const retrans = held.map((s) => {
    const b = new PairBaselines({ capacity: 1, params: d });
    const a = new Uint8Array(s.srttUs.length);
    for (let j = 0; j < a.length; j++) {
      const f = b.observe("p", BigInt(j * s.stepS) * 1_000_000_000n, s.srttUs[j] ?? 0, s.retrans[j] ?? 0);
      if (f?.metric === "retrans") a[j] = 1;
    }
    return a;
  });
  console.log(`\nRetransmit bursts, shipped defaults, seed 2: ${HEAD}`);
  console.log(`  ${fmt(scoreAlerts(held, retrans, new Set(["retrans"])))}`);
};

main();
