// The Kafka commit point: only past messages acked together with everything before them.
import { describe, expect, it } from "vitest";
import { OffsetTracker } from "@netpulse/runtime/bus/kafka/OffsetTracker";

describe("OffsetTracker", () => {
  it("commits the contiguous acked prefix per partition, across offset gaps", () => {
    const t = new OffsetTracker();
    const a = [10n, 11n, 13n, 14n].map((o) => t.delivered(0, o)); // 12 is a gap (compaction/marker)
    const b = t.delivered(1, 5n);
    expect(t.ack(a[1]!)).toBe(false);
    expect(t.takeCommits()).toEqual([]);
    expect(t.ack(a[0]!)).toBe(true);
    expect(t.ack(b)).toBe(true);
    expect(t.takeCommits()).toEqual([
      { partition: 0, offset: "12" },
      { partition: 1, offset: "6" },
    ]);
    expect(t.ack(a[3]!)).toBe(false);
    expect(t.ack(a[2]!)).toBe(true);
    expect(t.takeCommits()).toEqual([{ partition: 0, offset: "15" }]);
    expect(t.takeCommits()).toEqual([]);
  });

  it("ignores acks from before a reset (rebalance) and starts over on a re-fetch", () => {
    const t = new OffsetTracker();
    const old = t.delivered(0, 1n);
    t.resetAll();
    expect(t.ack(old)).toBe(false);
    const x = t.delivered(0, 1n);
    const y = t.delivered(0, 2n);
    // kafkajs fetches offset 1 again (a stale batch was abandoned): the earlier tickets are void.
    const again = t.delivered(0, 1n);
    expect(t.ack(x)).toBe(false);
    expect(t.ack(y)).toBe(false);
    expect(t.ack(again)).toBe(true);
    expect(t.takeCommits()).toEqual([{ partition: 0, offset: "2" }]);
  });

  it("puts back a failed commit unless the partition was reset meanwhile", () => {
    const t = new OffsetTracker();
    t.ack(t.delivered(0, 7n));
    t.ack(t.delivered(1, 7n));
    const epochs = new Map([0, 1].map((p) => [p, t.epochOf(p)!]));
    const taken = t.takeCommits();
    t.reset(1);
    t.restore(taken, epochs);
    expect(t.takeCommits()).toEqual([{ partition: 0, offset: "8" }]);
  });
});
