// baseline_deviation through the engine (the method itself is PairBaselines'): a warm-up with no
// alerts, an alert well above the learned RTT, and the anomaly not becoming the new normal.
import { describe, expect, it } from "vitest";
import { Driver, flow, only, rules } from "./engineFixtures.js";

/** A steady ~10 ms pair with a little deterministic jitter, one window every 10 s. */
const steady = (from: number, n: number, pair = "shop/frontend") =>
  Array.from({ length: n }, (_, i) =>
    flow({ t: (from + i) * 10, from: pair, srtt_us: 10_000 + ((i * 37) % 11) * 100, segs_sent: 100n }),
  );

describe("baseline_deviation", () => {
  it("stays quiet while warming up, even on a spike", () => {
    const d = new Driver(only("baseline_deviation"));
    const warm = steady(0, 10);
    warm[5] = { ...warm[5]!, srtt_us: 200_000 };
    expect(d.flows(...warm)).toEqual([]);
  });

  // A sustained jump (5 windows at 8×): the module may want a few windows to confirm.
  const burst = (from: number) => Array.from({ length: 5 }, (_, i) => flow({ t: (from + i) * 10, srtt_us: 80_000 }));

  it("alerts well above the learned RTT, with the baseline; a normal window does not", () => {
    const d = new Driver(only("baseline_deviation"));
    expect(d.flows(...steady(0, 40))).toEqual([]);
    const [a, ...rest] = d.flows(...burst(40));
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ kind: "baseline_deviation", unit: "us", observed: 80_000, threshold: null });
    expect(a!.baseline).toBeGreaterThan(9_000);
    expect(a!.baseline).toBeLessThan(12_000);
    const normal = new Driver(only("baseline_deviation"));
    expect(normal.flows(...steady(0, 60))).toEqual([]);
  });

  it("does not take an anomalous window as the new normal: the next burst alerts again", () => {
    const countAfter = (...parts: ReturnType<typeof flow>[][]) => {
      const d = new Driver(only("baseline_deviation"));
      for (const p of parts) d.flows(...p);
      d.tick(5000);
      expect(d.kinds()).toEqual(["baseline_deviation:open", "baseline_deviation:resolved"]);
      return d.out[1]!.count!;
    };
    const once = countAfter(steady(0, 40), burst(40));
    const twice = countAfter(steady(0, 40), burst(40), steady(45, 2), burst(47));
    expect(twice).toBeGreaterThan(once);
  });

  it("takes baseline parameters from the rules (a longer warm-up keeps it quiet)", () => {
    const d = new Driver(
      rules("rules:\n  rtt_high: { enabled: false }\n  baseline_deviation: { warmupSamples: 100 }\n"),
    );
    d.flows(...steady(0, 40));
    expect(d.flows(flow({ t: 400, srtt_us: 80_000 })).filter((a) => a.kind === "baseline_deviation")).toEqual([]);
    expect(d.engine.stats().pairsTracked).toBe(1);
  });
});
