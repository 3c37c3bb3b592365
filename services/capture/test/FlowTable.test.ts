// Windowing in user space: deltas add up per window, close emits at once, ticks emit only
// active flows, wall-clock conversion, direction/src rules, bounds and eviction.
import { describe, expect, it } from "vitest";
import type { RawFlow } from "@netpulse/runtime/records";
import { applyChunk } from "../src/CapturePipeline.js";
import { CaptureStats } from "../src/CaptureStats.js";
import { decodeFlow } from "../src/FlowRecordDecoder.js";
import { FlowTable } from "../src/FlowTable.js";
import { flowRecord, statsRecord, type FlowFields } from "./recordBuilder.js";

const S = 1_000_000_000;
const OFFSET = 1_700_000_000n * 1_000_000_000n;

const setup = (maxFlows = 1024) => {
  const clock = { offsetNs: OFFSET };
  return { clock, table: new FlowTable({ node: "n1", maxFlows, initialCapacity: 16 }, clock) };
};

const apply = (table: FlowTable, f: FlowFields): RawFlow[] => {
  const out: RawFlow[] = [];
  table.apply(decodeFlow(flowRecord(f), 0), out);
  return out;
};

describe("FlowTable", () => {
  it("sums deltas into one window and emits it on close with wall-clock bounds", () => {
    const { table } = setup();
    apply(table, { kind: 1, flowId: 1, tsNs: 10 * S, startNs: 10 * S, srttUs: 500 });
    apply(table, {
      kind: 2,
      flowId: 1,
      tsNs: 11 * S,
      dBytesOut: 1000,
      dBytesIn: 50,
      dSegsOut: 3,
      dRetrans: 1,
      srttUs: 900,
      minRttUs: 400,
      maxRttUs: 1200,
    });
    const out = apply(table, {
      kind: 3,
      flowId: 1,
      tsNs: 12 * S,
      state: 7,
      closeReason: 1,
      dBytesOut: 24,
      srttUs: 800,
    });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      node: "n1",
      start_ns: OFFSET + 10n * 1_000_000_000n,
      end_ns: OFFSET + 12n * 1_000_000_000n,
      src_ip: "10.0.0.1",
      src_port: 40000,
      dst_ip: "10.0.0.2",
      dst_port: 80,
      direction: "client",
      bytes_sent: 1024n,
      bytes_received: 50n,
      segs_sent: 3n,
      retransmits: 1n,
      srtt_us: 800,
      min_rtt_us: 400,
      max_rtt_us: 1200,
      state: "CLOSE",
      close_reason: "fin",
    });
    expect(table.size).toBe(0);
  });

  it("puts the connecting side in src for an accepted connection", () => {
    const { table } = setup();
    apply(table, { kind: 1, flowId: 2, tsNs: S, direction: 2, lport: 8080, rport: 51000 });
    const [f] = apply(table, {
      kind: 3,
      flowId: 2,
      tsNs: 2 * S,
      direction: 2,
      lport: 8080,
      rport: 51000,
      closeReason: 3,
    });
    expect(f).toMatchObject({
      direction: "server",
      src_ip: "10.0.0.2",
      src_port: 51000,
      dst_ip: "10.0.0.1",
      dst_port: 8080,
      close_reason: "rst_received",
    });
  });

  it("emits active flows every tick, resetting their windows, and keeps flow_id stable", () => {
    const { table } = setup();
    apply(table, { kind: 1, flowId: 3, tsNs: S, startNs: S });
    apply(table, { kind: 2, flowId: 3, tsNs: 2 * S, dBytesOut: 100 });
    apply(table, { kind: 1, flowId: 4, tsNs: S, startNs: S, lport: 40001 });
    const first: RawFlow[] = [];
    table.tick(5 * S, first);
    expect(first.map((f) => [f.src_port, f.bytes_sent, f.close_reason])).toEqual(
      expect.arrayContaining([
        [40000, 100n, "open"],
        [40001, 0n, "open"],
      ]),
    );
    const idle: RawFlow[] = [];
    table.tick(10 * S, idle);
    expect(idle).toHaveLength(0); // no activity, no window
    apply(table, { kind: 2, flowId: 3, tsNs: 11 * S, dBytesOut: 7 });
    const second: RawFlow[] = [];
    table.tick(15 * S, second);
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({
      bytes_sent: 7n,
      start_ns: OFFSET + 10n * 1_000_000_000n,
      end_ns: OFFSET + 15n * 1_000_000_000n,
    });
    expect(second[0]?.flow_id).toBe(first.find((f) => f.src_port === 40000)?.flow_id);
  });

  it("refuses new flows beyond maxFlows and counts them, then accepts again after closes", () => {
    const { table } = setup(64);
    for (let id = 1; id <= 70; id++) apply(table, { kind: 1, flowId: id, tsNs: S });
    expect(table.size).toBe(64);
    expect(table.refused).toBe(6);
    for (let id = 1; id <= 10; id++) apply(table, { kind: 3, flowId: id, tsNs: 2 * S });
    expect(table.size).toBe(54);
    apply(table, { kind: 1, flowId: 100, tsNs: 3 * S });
    expect(table.size).toBe(55);
  });

  it("finds every flow after many inserts and removals (hash deletes keep chains intact)", () => {
    const { table } = setup(4096);
    const live = new Set<number>();
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 20_000; i++) {
      const id = 1 + (rnd() % 3000);
      if (live.has(id)) {
        expect(apply(table, { kind: 3, flowId: id, tsNs: S })).toHaveLength(1);
        live.delete(id);
      } else {
        apply(table, { kind: 1, flowId: id, tsNs: S });
        live.add(id);
      }
    }
    expect(table.size).toBe(live.size);
    for (const id of live) expect(table.cols.find(id)).toBeGreaterThanOrEqual(0);
  });

  it("forgets flows idle for more than maxIdleTicks; a later record re-creates them", () => {
    const clock = { offsetNs: OFFSET };
    const table = new FlowTable({ node: "n1", maxFlows: 64, maxIdleTicks: 2 }, clock);
    apply(table, { kind: 1, flowId: 9, tsNs: S });
    for (let t = 2; t <= 5; t++) table.tick(t * S, []);
    expect(table.size).toBe(0);
    expect(table.evicted).toBe(1);
    apply(table, { kind: 2, flowId: 9, tsNs: 6 * S, dBytesOut: 5 });
    expect(table.size).toBe(1);
  });

  it("takes the clock offset and drop counters from stats records", () => {
    const { table, clock } = setup();
    const stats = new CaptureStats();
    const chunk = Buffer.concat([
      statsRecord(5n * 1_000_000_000n, 1_800_000_005n * 1_000_000_000n, 3),
      flowRecord({ kind: 3, flowId: 1, tsNs: 6 * S, startNs: 5 * S }),
    ]);
    const out = applyChunk(table, clock, stats, chunk);
    expect(clock.offsetNs).toBe(1_800_000_000n * 1_000_000_000n);
    expect(stats.ringbufDrops).toBe(3);
    expect(out[0]?.end_ns).toBe(1_800_000_006n * 1_000_000_000n);
  });
});
