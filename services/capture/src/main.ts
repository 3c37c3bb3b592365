// Entry point of the capture service (DaemonSet, one per node): the configured bus, metrics and
// the BPF loader around runCapture. The first SIGTERM/SIGINT stops the loader cleanly (it drains
// the ring buffer, still-open flows emit their last window, the last batch goes to the bus).
import { Effect, Layer } from "effect";
import { collectDefaultMetrics } from "prom-client";
import { BusLive } from "@netpulse/runtime/bus/BusLayer";
import { Metrics, makeMetrics } from "@netpulse/runtime/observability/Metrics";
import { runMain } from "@netpulse/runtime/runMain";
import { captureConfig } from "./CaptureConfig.js";
import { runCapture } from "./CaptureService.js";
import { Loader } from "./LoaderProcess.js";

/** The default process metrics, with the event-loop delay sampled every 100 ms instead of
 * prom-client's 10 ms: on a node the capture is mostly idle, and 100 timer wake-ups a second
 * were most of its CPU (services/capture/bench/latency.bench.ts counts it in "capture"). */
const metricsLayer = Layer.sync(Metrics, () => {
  const metrics = makeMetrics();
  collectDefaultMetrics({ register: metrics.registry, eventLoopMonitoringPrecision: 100 });
  return metrics;
});

runMain(
  "capture",
  (stopRequested) =>
    Effect.flatMap(captureConfig, (s) => runCapture(s, stopRequested)).pipe(
      Effect.provide(Layer.mergeAll(BusLive, metricsLayer, Loader.layer)),
      Effect.scoped,
    ),
  { drainsOnStop: true },
);
