// Event time over several partitions: the watermark waits for every partition that keeps up, goes
// on without one that lags more than the bound, and is the plain newest time with one input; a
// time far past its message's arrival on the bus moves it no further than the arrival.
import { describe, expect, it } from "vitest";
import type { BusMessage } from "@netpulse/runtime/bus/Bus";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";
import { detectMessage, publishedAnomalies } from "../src/detectTransform.js";
import { DetectorEngine } from "../src/engine/Engine.js";
import { EventClock } from "../src/engine/EventClock.js";
import { at, flow, only } from "./engineFixtures.js";

const S = 1_000_000_000n;

describe("EventClock", () => {
  it("with one input, the watermark is the newest time seen", () => {
    const c = new EventClock(120n * S, 900n * S);
    c.begin("only");
    expect(c.see(10n * S)).toBe(10n * S);
    expect(c.see(5n * S)).toBe(10n * S);
    expect(c.see(500n * S)).toBe(500n * S);
  });

  it("a partition read ahead cannot move time past the others", () => {
    const c = new EventClock(120n * S, 900n * S);
    c.begin("p0");
    c.see(10n * S);
    c.begin("p1");
    expect(c.see(12n * S)).toBe(10n * S); // p0 is at 10 s
    expect(c.see(70n * S)).toBe(10n * S);
    c.begin("p0");
    expect(c.see(40n * S)).toBe(40n * S); // p1 is further, p0 decides
    expect(c.see(90n * S)).toBe(70n * S);
  });

  it("an input more than the bound behind the newest time is left out", () => {
    const c = new EventClock(120n * S, 900n * S);
    c.begin("idle");
    c.see(10n * S);
    c.begin("busy");
    expect(c.see(100n * S)).toBe(10n * S);
    // 200 s: the idle partition is 190 s behind, so time is held at most to 200 - 120
    expect(c.see(200n * S)).toBe(80n * S);
    c.begin("busy"); // a new step: the idle input no longer counts
    expect(c.see(210n * S)).toBe(210n * S);
  });
});

describe("EventClock and the arrival time", () => {
  it("takes a time more than the bound past its message's arrival as the arrival, and counts it", () => {
    const c = new EventClock(120n * S, 900n * S);
    c.begin("p0", 1_000n * S);
    expect(c.see(1_010n * S)).toBe(1_010n * S); // ahead of arrival, within the bound
    expect(c.see(1_000n * S + 3_600n * S)).toBe(1_010n * S); // an hour ahead: counts as 1 000 s
    expect(c.ahead).toBe(1);
    c.begin("p0", 1_100n * S);
    expect(c.see(40_000n * S)).toBe(1_100n * S);
    expect(c.ahead).toBe(2);
  });

  it("bounds nothing when the arrival is unknown (0), as for files and ClickHouse", () => {
    const c = new EventClock(120n * S, 900n * S);
    c.begin("file", 0n);
    expect(c.see(10n * S)).toBe(10n * S);
    expect(c.see(90_000n * S)).toBe(90_000n * S);
    c.begin("file");
    expect(c.see(190_000n * S)).toBe(190_000n * S);
    expect(c.ahead).toBe(0);
  });
});

describe("a node whose clock runs hours ahead, through the detector's transform", () => {
  // rtt_high on one pair, then a batch from a node 3 h ahead, then the pair again 20 s later
  const run = (arrival: boolean) => {
    const engine = new DetectorEngine();
    const step = detectMessage(engine, () => ({ rules: only("rtt_high"), policies: undefined }), "test");
    const message = (flows: EnrichedFlow[], arrivedS: number): BusMessage => ({
      topic: Topics.flowsEnriched,
      key: "",
      value: EnrichedFlowCodec.encodeBatch(flows, { producer: "test", sequence: 0n }),
      partition: 0,
      offset: "",
      timestampMs: arrival ? Number(at(arrivedS) / 1_000_000n) : 0,
    });
    const out = [
      ...publishedAnomalies(step(message([flow({ t: 0, srtt_us: 200_000 })], 6))),
      ...publishedAnomalies(step(message([flow({ t: 3 * 3600, from: "skewed/app", to: "data/cache" })], 8))),
      ...publishedAnomalies(step(message([flow({ t: 20, srtt_us: 210_000 })], 26))),
    ];
    return { kinds: out.map((a) => `${a.kind}:${a.status}:${a.pair}`), stats: engine.stats() };
  };

  it("keeps event time at the arrival: the open episode goes on, one opening, the record counted", () => {
    const { kinds, stats } = run(true);
    expect(kinds).toEqual(["rtt_high:open:data/postgres|shop/frontend"]);
    expect(stats.recordsAhead).toBe(1);
    expect(stats.watermarkNs).toBe(at(25));
  });

  it("without arrival times (a file), the far time moves the clock: the episode resolves and reopens", () => {
    const { kinds, stats } = run(false);
    expect(kinds).toEqual([
      "rtt_high:open:data/postgres|shop/frontend",
      "rtt_high:resolved:data/postgres|shop/frontend",
      "rtt_high:open:data/postgres|shop/frontend",
      "rtt_high:resolved:data/postgres|shop/frontend",
    ]);
    expect(stats.recordsAhead).toBe(0);
  });
});
