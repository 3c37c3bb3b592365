// Prometheus view of one capture's CaptureStats: gauges, and the shared
// netpulse_dropped_total{stage="capture",reason} advanced by the counters' growth, brought up to
// date on every loader stats record (every second; the pipeline's onStatsRecord hook) rather than
// on a timer of their own: one wake-up a second fewer for an idle capture.
import * as Effect from "effect/Effect";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import type { CaptureStats } from "./CaptureStats.js";

/** reason label → the stats field that counts it. */
const DROP_REASONS = {
  ringbuf_full: (s: CaptureStats) => s.ringbufDrops,
  queue_full: (s: CaptureStats) => s.queueDrops,
  flow_table_full: (s: CaptureStats) => s.tableFull,
  kernel_map_full: (s: CaptureStats) => s.mapFull,
  bus_slow: (s: CaptureStats) => s.sinkDroppedRecords,
} as const;

export const exportMetrics = (stats: CaptureStats) =>
  Effect.gen(function* () {
    const metrics = yield* Metrics;
    const tracked = metrics.gauge("netpulse_capture_flows_tracked", "Flows with an open window in user space");
    const published = metrics.gauge("netpulse_capture_flows_published", "RawFlow records published since start");
    const recordsIn = metrics.gauge("netpulse_capture_kernel_records", "Kernel flow records read since start");
    const reported: Record<string, number> = {};
    stats.onStatsRecord = () => {
      tracked.set(stats.flowsTracked);
      published.set(stats.published);
      recordsIn.set(stats.recordsIn);
      for (const [reason, read] of Object.entries(DROP_REASONS)) {
        const now = read(stats);
        const delta = now - (reported[reason] ?? 0);
        if (delta > 0) metrics.dropped.labels("capture", reason).inc(delta);
        reported[reason] = now;
      }
    };
  });
