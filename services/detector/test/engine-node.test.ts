// The node rules through the engine: capture_silent judged by event time (one opening per
// silence, resolved by the next heartbeat, nothing invented for the silent node) and
// conntrack_pressure (ratio, or counters rising), folded into episodes.
import { describe, expect, it } from "vitest";
import { at, beat, Driver, flow, only, rules } from "./engineFixtures.js";

const everyFive = (node: string, from: number, to: number) => {
  const out = [];
  for (let t = from; t <= to; t += 5) out.push(beat(node, t));
  return out;
};

describe("capture_silent", () => {
  it("opens once when a node's heartbeats stop past after_s, resolves when they return, invents nothing", () => {
    const d = new Driver(); // default rules: every kind but policy_unprotected on
    d.beats(...everyFive("node-a", 0, 20), ...everyFive("node-b", 0, 20));
    d.flows(flow({ t: 15, node: "node-a" }), flow({ t: 15, node: "node-b", src_port: 2 }));
    expect(d.out).toEqual([]);
    // node-a goes quiet after 20 s; node-b keeps beating (and carries the watermark)
    expect(d.beats(...everyFive("node-b", 25, 35))).toEqual([]); // 35 - 20 = 15: not longer than after_s
    const [open] = d.beats(beat("node-b", 40));
    expect(open).toMatchObject({
      kind: "capture_silent",
      status: "open",
      node: "node-a",
      pair: "node:node-a",
      window_start_ns: at(20),
      detected_ns: at(35),
      threshold: 15,
      unit: "s",
    });
    // silence goes on: nothing more, for node-a or anyone
    d.beats(...everyFive("node-b", 45, 120));
    d.tick(130);
    expect(d.kinds()).toEqual(["capture_silent:open"]);
    const [back] = d.beats(beat("node-a", 132));
    expect(back).toMatchObject({ id: open!.id, status: "resolved", detected_ns: at(132), observed: 112 });
    d.beats(...everyFive("node-a", 137, 147), ...everyFive("node-b", 125, 145));
    expect(d.kinds()).toEqual(["capture_silent:open", "capture_silent:resolved"]);
    // a second silence is a second episode
    d.beats(...everyFive("node-b", 150, 170));
    expect(d.out[2]).toMatchObject({ kind: "capture_silent", status: "open", window_start_ns: at(147) });
    expect(d.out[2]!.id).not.toBe(open!.id);
    expect(d.out).toHaveLength(3);
  });

  it("is judged by event time from ticks alone, and not at all when the rule is off", () => {
    const d = new Driver(only("capture_silent"));
    d.beats(beat("node-a", 0));
    expect(d.tick(15)).toEqual([]);
    expect(d.tick(15.5)).toHaveLength(1);
    const off = new Driver(only("rtt_high"));
    off.beats(beat("node-a", 0));
    expect(off.tick(1000)).toEqual([]);
  });

  it("honours after_s from the rules", () => {
    const d = new Driver(rules("rules:\n  capture_silent: { after_s: 60 }\n"));
    d.beats(beat("node-a", 0));
    expect(d.tick(59)).toEqual([]);
    expect(d.tick(61)).toHaveLength(1);
  });
});

describe("conntrack_pressure", () => {
  it("fires at count/max ≥ ratio, folds repeats, resolves after the cooldown", () => {
    const d = new Driver(only("conntrack_pressure"));
    expect(d.beats(beat("node-a", 0, { conntrack_count: 50_000n }))).toEqual([]);
    const [a] = d.beats(beat("node-a", 5, { conntrack_count: 60_000n }));
    expect(a).toMatchObject({
      kind: "conntrack_pressure",
      node: "node-a",
      unit: "ratio",
      threshold: 0.9,
      window_start_ns: at(0),
      window_end_ns: at(5),
      cause_hint: "conntrack table full on node node-a (60000/65536)",
    });
    expect(a!.observed).toBeCloseTo(60_000 / 65_536);
    expect(
      d.beats(beat("node-a", 10, { conntrack_count: 61_000n }), beat("node-a", 15, { conntrack_count: 100n })),
    ).toEqual([]);
    const [r] = d.beats(beat("node-a", 80, { conntrack_count: 100n }));
    expect(r).toMatchObject({ id: a!.id, status: "resolved", count: 2, last_seen_ns: at(10), detected_ns: at(70) });
  });

  it("fires when insert_failed or drop rise between heartbeats, not when they stay put or are unknown", () => {
    const d = new Driver(only("conntrack_pressure"));
    d.beats(beat("node-a", 0, { conntrack_drop: 3n }), beat("node-a", 5, { conntrack_drop: 3n }));
    d.beats(
      beat("node-b", 0, {
        conntrack_count: -1n,
        conntrack_max: -1n,
        conntrack_insert_failed: -1n,
        conntrack_drop: -1n,
      }),
    );
    d.beats(
      beat("node-b", 5, { conntrack_count: -1n, conntrack_max: -1n, conntrack_insert_failed: -1n, conntrack_drop: 5n }),
    );
    expect(d.out).toEqual([]);
    const [a] = d.beats(beat("node-a", 10, { conntrack_drop: 9n }));
    expect(a).toMatchObject({ kind: "conntrack_pressure", unit: "count", observed: 6 });
    expect(a!.cause_hint).toContain("+6 drop");
  });

  it("ignores heartbeats older than the node's latest", () => {
    const d = new Driver(only("conntrack_pressure"));
    d.beats(beat("node-a", 10));
    expect(d.beats(beat("node-a", 5, { conntrack_count: 65_000n }))).toEqual([]);
  });
});
