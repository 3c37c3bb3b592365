// The capture's /metrics view is brought up to date by each loader stats record (no timer of its
// own): drops counted between two stats records appear in netpulse_dropped_total after the next.
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { Metrics, renderMetrics } from "@netpulse/runtime/observability/Metrics";
import { applyChunk } from "../src/CapturePipeline.js";
import { CaptureStats } from "../src/CaptureStats.js";
import { exportMetrics } from "../src/captureMetrics.js";
import { FlowTable } from "../src/FlowTable.js";
import { statsRecord } from "./recordBuilder.js";

describe("capture metrics", () => {
  it("syncs gauges and drop counters on every loader stats record", async () => {
    const text = await Effect.runPromise(
      Effect.gen(function* () {
        const stats = new CaptureStats();
        yield* exportMetrics(stats);
        const table = new FlowTable({ node: "unit", maxFlows: 64 }, { offsetNs: 0n });
        const before = yield* renderMetrics();
        stats.queueDrops = 5;
        stats.published = 7;
        const between = yield* renderMetrics();
        applyChunk(table, { offsetNs: 0n }, stats, statsRecord(1n, 2n, 3));
        const after = yield* renderMetrics();
        stats.queueDrops = 6;
        applyChunk(table, { offsetNs: 0n }, stats, statsRecord(2n, 3n, 3));
        return { before, between, after, last: yield* renderMetrics() };
      }).pipe(Effect.provide(Metrics.layerTest)),
    );
    expect(text.before).not.toMatch(/reason="queue_full"/);
    expect(text.between).not.toMatch(/reason="queue_full"/);
    expect(text.after).toMatch(/netpulse_dropped_total\{stage="capture",reason="queue_full"\} 5\n/);
    expect(text.after).toMatch(/netpulse_dropped_total\{stage="capture",reason="ringbuf_full"\} 3\n/);
    expect(text.after).toMatch(/netpulse_capture_flows_published 7\n/);
    expect(text.last).toMatch(/netpulse_dropped_total\{stage="capture",reason="queue_full"\} 6\n/);
    expect(text.last).toMatch(/netpulse_dropped_total\{stage="capture",reason="ringbuf_full"\} 3\n/);
  });
});
