// The per-flow threshold rules through the engine: fire / don't fire, episodes (folding,
// resolution, a new episode after the cooldown), overrides, both-sides dedupe, the node-wide and
// conntrack hints, and deterministic ids.
import { describe, expect, it, vi } from "vitest";
import { DetectorEngine } from "../src/engine/Engine.js";
import { pairKeyOf } from "../src/engine/pairKey.js";
import { defaultRules, withVersion } from "../src/rules/RuleSet.js";
import { at, beat, Driver, ep, flow, only, rules } from "./engineFixtures.js";

describe("rtt_high", () => {
  it("fires over the threshold with the flow's window, pair, values in µs and event-time detection", () => {
    const d = new Driver(only("rtt_high"));
    const f = flow({ t: 10, srtt_us: 150_000 });
    const [a, ...rest] = d.flows(flow({ t: 0, srtt_us: 99_000 }), f);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      kind: "rtt_high",
      status: "open",
      count: 1,
      rule_id: "rtt_high",
      rule_version: 0,
      severity: "warning",
      observed: 150_000,
      threshold: 100_000,
      unit: "us",
      window_start_ns: at(10),
      window_end_ns: at(15),
      first_seen_ns: at(10),
      detected_ns: at(15),
      pair: "data/postgres|shop/frontend",
      sample_flow_ids: [f.flow_id],
    });
    expect(a!.message).toContain("shop/frontend → data/postgres:80");
  });

  it("does not fire at or under the threshold, nor without an RTT sample", () => {
    const d = new Driver(only("rtt_high"));
    expect(d.flows(flow({ srtt_us: 100_000 }), flow({ t: 5, srtt_us: 0 }), flow({ t: 9, srtt_us: 1 }))).toEqual([]);
  });

  it("folds repeats within the cooldown into one episode and resolves it once the cooldown passes", () => {
    const d = new Driver(only("rtt_high"));
    const first = d.flows(flow({ t: 0, srtt_us: 200_000 }));
    expect(first).toHaveLength(1);
    // repeats 30 s and 80 s later: each within 60 s of the last one
    expect(d.flows(flow({ t: 30, srtt_us: 300_000 }), flow({ t: 80, srtt_us: 250_000 }))).toEqual([]);
    expect(d.tick(140)).toEqual([]); // last seen 85 s, cooldown ends at 145 s
    const [r] = d.tick(146);
    expect(r).toMatchObject({
      id: first[0]!.id,
      status: "resolved",
      count: 3,
      window_start_ns: at(0), // the opening's window never moves
      window_end_ns: at(5),
      first_seen_ns: at(0),
      last_seen_ns: at(85),
      detected_ns: at(145),
      observed: 200_000,
    });
    expect(r!.sample_flow_ids).toHaveLength(3);
    // a finding after the resolution opens a new episode with a new id
    const [again] = d.flows(flow({ t: 200, srtt_us: 200_000 }));
    expect(again).toMatchObject({ status: "open", count: 1, window_start_ns: at(200) });
    expect(again!.id).not.toBe(first[0]!.id);
  });

  it("resolves the old episode before opening the next when a repeat comes after the cooldown in one batch", () => {
    const d = new Driver(only("rtt_high"));
    const out = d.flows(flow({ t: 0, srtt_us: 200_000 }), flow({ t: 100, srtt_us: 200_000 }));
    expect(out.map((a) => `${a.status}@${a.window_start_ns - at(0)}`)).toEqual([
      "open@0",
      "resolved@0",
      "open@100000000000",
    ]);
  });

  it("keeps one episode per pair: other pairs open their own", () => {
    const d = new Driver(only("rtt_high"));
    const out = d.flows(
      flow({ t: 0, srtt_us: 200_000 }),
      flow({ t: 1, srtt_us: 200_000, from: "shop/cart" }),
      flow({ t: 2, srtt_us: 200_000 }),
    );
    expect(out.map((a) => a.pair)).toEqual(["data/postgres|shop/frontend", "data/postgres|shop/cart"]);
  });

  it("applies the first matching override, on either end, by namespace and/or workload", () => {
    const r = rules(`
rules:
  rtt_high: { threshold_ms: 100 }
overrides:
  - match: { namespace: batch }
    rules: { rtt_high: { threshold_ms: 250 } }
  - match: { namespace: batch, workload: etl }
    rules: { rtt_high: { enabled: false } }
  - match: { workload: postgres }
    rules: { rtt_high: { threshold_ms: 50, severity: critical } }
`);
    const d = new Driver(r);
    // batch on the client end: 200 ms is under the 250 ms override (the later etl override never applies)
    expect(d.flows(flow({ from: "batch/etl", srtt_us: 200_000 }))).toEqual([]);
    const [batch] = d.flows(flow({ t: 1, from: "batch/etl", to: "data/redis", srtt_us: 260_000 }));
    expect(batch).toMatchObject({ rule_id: "rtt_high@override[0]", threshold: 250_000 });
    // postgres on the server end: 60 ms is over its 50 ms override
    const [pg] = d.flows(flow({ t: 2, srtt_us: 60_000 }));
    expect(pg).toMatchObject({ rule_id: "rtt_high@override[2]", threshold: 50_000, severity: "critical" });
    // neither: the base rule
    const [base] = d.flows(flow({ t: 3, to: "data/redis", srtt_us: 120_000 }));
    expect(base).toMatchObject({ rule_id: "rtt_high", threshold: 100_000 });
  });
});

describe("retransmits_high and syn_retransmits", () => {
  it("fires on more than N retransmits in one window, not on N", () => {
    const d = new Driver(only("retransmits_high"));
    expect(d.flows(flow({ retransmits: 3n }))).toEqual([]);
    const [a] = d.flows(flow({ t: 5, retransmits: 4n }));
    expect(a).toMatchObject({ kind: "retransmits_high", observed: 4, threshold: 3, unit: "segments" });
  });

  it("takes N from an override for matching workloads", () => {
    const d = new Driver(
      rules(`
rules: { rtt_high: { enabled: false }, baseline_deviation: { enabled: false } }
overrides:
  - match: { workload: postgres }
    rules: { retransmits_high: { threshold: 10 } }
`),
    );
    expect(d.flows(flow({ retransmits: 9n }))).toEqual([]);
    const [a] = d.flows(flow({ t: 5, retransmits: 9n, to: "data/redis" }));
    expect(a).toMatchObject({ rule_id: "retransmits_high", threshold: 3 });
  });

  it("fires on SYN retransmits with a conntrack hint when a node on the path is under pressure", () => {
    const d = new Driver(only("syn_retransmits"));
    expect(d.flows(flow({ syn_retransmits: 0n }))).toEqual([]);
    const [plain] = d.flows(flow({ t: 1, syn_retransmits: 1n }));
    expect(plain).toMatchObject({ kind: "syn_retransmits", observed: 1, cause_hint: "" });
    // node-b (the server's node) reports a nearly full table
    d.beats(beat("node-b", 2, { conntrack_count: 65000n, conntrack_max: 65536n }));
    const [hinted] = d.flows(flow({ t: 3, syn_retransmits: 2n, to: "data/redis" }));
    expect(hinted!.cause_hint).toBe("conntrack table full on node node-b (65000/65536)");
  });

  it("hints conntrack when insert failures rise between heartbeats, even below the ratio", () => {
    const d = new Driver(only("syn_retransmits"));
    d.beats(beat("node-a", 0, { conntrack_insert_failed: 10n }), beat("node-a", 5, { conntrack_insert_failed: 17n }));
    const [a] = d.flows(flow({ t: 6, syn_retransmits: 1n }));
    expect(a!.cause_hint).toContain("conntrack inserts failing on node node-a (+7 insert_failed");
  });
});

describe("one connection seen from both nodes", () => {
  it("gives one anomaly and counts the connection once", () => {
    const d = new Driver(only("rtt_high", "retransmits_high"));
    const client = flow({ t: 0, srtt_us: 200_000, node: "node-a", direction: "client" });
    const server = flow({ t: 0.2, srtt_us: 190_000, node: "node-b", direction: "server" });
    expect(d.flows(client, server).map((a) => a.kind)).toEqual(["rtt_high"]);
    // a different connection of the same pair counts
    d.flows(flow({ t: 10, srtt_us: 200_000, src_port: 5555 }));
    const [r] = d.tick(500);
    expect(r).toMatchObject({ status: "resolved", count: 2 });
  });

  it("counts the very record fed twice once, and the next window of the connection again", () => {
    const d = new Driver(only("rtt_high"));
    const f = flow({ t: 0, srtt_us: 200_000 });
    d.flows(f, f, flow({ t: 5, srtt_us: 200_000 }));
    expect(d.tick(500)[0]).toMatchObject({ status: "resolved", count: 2 });
  });

  it("still counts the other side's finding of a kind the first side did not report", () => {
    const d = new Driver(only("rtt_high", "retransmits_high"));
    const out = d.flows(
      flow({ t: 0, srtt_us: 200_000, direction: "client" }),
      flow({ t: 0, srtt_us: 1000, retransmits: 9n, node: "node-b", direction: "server" }),
    );
    expect(out.map((a) => a.kind)).toEqual(["rtt_high", "retransmits_high"]);
  });
});

describe("node-wide slowness", () => {
  const slowPairs = (node: string, n: number, slow: number, t: number) =>
    Array.from({ length: n }, (_, i) =>
      flow({
        t,
        node,
        from: `shop/w${i}`,
        to: "data/postgres",
        srtt_us: i < slow ? 300_000 : 1000,
        src_port: 1000 + i,
      }),
    );

  it("names the node when most of its pairs are slow in the same window", () => {
    const d = new Driver(only("rtt_high"));
    const out = d.flows(...slowPairs("node-c", 6, 5, 0));
    expect(out).toHaveLength(5);
    for (const a of out) expect(a.cause_hint).toMatch(/^node node-c: 5 of 6 pairs it reports are slow/);
  });

  it("names the pairs only when few of the node's pairs are slow", () => {
    const d = new Driver(only("rtt_high"));
    const out = d.flows(...slowPairs("node-c", 10, 3, 0));
    expect(out).toHaveLength(3);
    for (const a of out) expect(a.cause_hint).toBe("");
  });
});

describe("determinism", () => {
  it("gives the same anomalies and ids from two engines fed the same input, whatever the batching", () => {
    const input = Array.from({ length: 200 }, (_, i) =>
      flow({
        t: i * 3,
        from: `shop/w${i % 7}`,
        srtt_us: i % 5 === 0 ? 250_000 : 2000,
        retransmits: BigInt(i % 11),
        syn_retransmits: BigInt(i % 13 === 0 ? 1 : 0),
        flow_id: BigInt(i + 1),
      }),
    );
    const run = (batch: number) => {
      const e = new DetectorEngine();
      const out = [];
      for (let i = 0; i < input.length; i += batch)
        out.push(
          ...e.step({ _tag: "Flows", flows: input.slice(i, i + batch) }, { rules: defaultRules, policies: undefined }),
        );
      out.push(...e.step({ _tag: "Tick", nowNs: at(10_000) }, { rules: defaultRules, policies: undefined }));
      return out.map((a) => `${a.id} ${a.status} ${a.kind} ${a.count} ${a.detected_ns}`).sort();
    };
    const a = run(200);
    expect(a.length).toBeGreaterThan(10);
    expect(run(200)).toEqual(a);
    expect(run(7)).toEqual(a);
    expect(new Set(a.map((l) => l.split(" ")[0])).size).toBe(a.length / 2); // each id: open + resolved
  });

  it("never reads the wall clock or draws random numbers", () => {
    const trap = () => {
      throw new Error("the engine must not read the clock or draw random numbers");
    };
    const spies = [vi.spyOn(Date, "now").mockImplementation(trap), vi.spyOn(Math, "random").mockImplementation(trap)];
    try {
      const d = new Driver();
      d.beats(beat("node-a", 0, { conntrack_count: 65_000n }));
      d.flows(flow({ t: 1, srtt_us: 300_000, retransmits: 9n, syn_retransmits: 1n }));
      d.tick(1000);
      expect(d.out.length).toBeGreaterThan(5);
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });

  it("keys pairs alike from either end and by owner workload, pod, external name or IP", () => {
    const f = flow({ from: "shop/frontend", to: "data/postgres" });
    const g = flow({ src: ep("data/postgres"), dst: ep("shop/frontend") });
    expect(pairKeyOf(f)).toBe(pairKeyOf(g));
    const bare = flow({ src: { ...ep("shop/"), pod: "debug" }, dst: { ...ep("x"), external_name: "internet" } });
    expect(pairKeyOf(bare)).toBe("internet|shop/debug");
    expect(pairKeyOf(flow({ dst: ep("x"), dst_ip: "1.2.3.4" }))).toBe("1.2.3.4|shop/frontend");
  });
});

describe("rules changed at runtime and bounded state", () => {
  it("names the version in force in each opening; an open episode keeps its id across a change", () => {
    const v1 = withVersion(rules("rules:\n  rtt_high: { threshold_ms: 100 }\n"), 1);
    const d = new Driver(v1);
    const [a] = d.flows(flow({ t: 0, srtt_us: 150_000 }));
    expect(a).toMatchObject({ rule_version: 1 });
    d.rules = withVersion(rules("rules:\n  rtt_high: { threshold_ms: 200 }\n"), 2);
    expect(d.flows(flow({ t: 10, srtt_us: 150_000 }))).toEqual([]); // under the new threshold
    expect(d.flows(flow({ t: 20, srtt_us: 250_000 }))).toEqual([]); // folds into the open episode
    const [r] = d.tick(500);
    expect(r).toMatchObject({ id: a!.id, status: "resolved", count: 2, rule_version: 1 });
    const [b] = d.flows(flow({ t: 600, srtt_us: 250_000 }));
    expect(b).toMatchObject({ rule_version: 2, threshold: 200_000 });
    expect(d.engine.stats().rulesVersion).toBe(2);
  });

  it("ids change with the rule version, so a backtest's candidate rules never collide with live ones", () => {
    const run = (version: number) =>
      new Driver(withVersion(defaultRules, version)).flows(flow({ t: 0, srtt_us: 150_000, flow_id: 42n }))[0]!.id;
    expect(run(1)).toBe(run(1));
    expect(run(1)).not.toBe(run(2));
  });

  it("keeps at most maxPairs baselines and counts evictions", () => {
    const d = new Driver(only("baseline_deviation"), undefined, { maxPairs: 2 });
    d.flows(flow({ from: "a/x" }), flow({ from: "b/x" }), flow({ from: "c/x" }));
    expect(d.engine.stats()).toMatchObject({ pairsTracked: 2, evictions: 1, watermarkNs: at(5) });
  });
});
