// Entry point of the capture service (DaemonSet, one per node): the configured bus, metrics and
// the BPF loader around runCapture. The first SIGTERM/SIGINT stops the loader cleanly (it drains
// the ring buffer, still-open flows emit their last window, the last batch goes to the bus).
// First the process takes its scheduling policy (NETPULSE_CAPTURE_SCHED, default SCHED_IDLE: see
// schedPolicy.ts), so every thread and the loader it spawns run at it.
// It runs with node flags of its own (captureNodeFlags in nodeFlags.ts, which says why each).
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { BusLive } from "@netpulse/runtime/bus/BusLayer";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { runMain } from "@netpulse/runtime/runMain";
import { captureConfig } from "./CaptureConfig.js";
import { runCapture } from "./CaptureService.js";
import { Loader } from "./LoaderProcess.js";
import { applySchedPolicy } from "./schedPolicy.js";

runMain(
  "capture",
  (stopRequested) =>
    // the config is read (and a bad value refused) before the bus is dialled
    Effect.flatMap(captureConfig, (s) =>
      Effect.zipRight(applySchedPolicy(s.sched), runCapture(s, stopRequested)).pipe(
        Effect.provide(Layer.mergeAll(BusLive, Metrics.layer, Loader.layer)),
        Effect.scoped,
      ),
    ),
  { drainsOnStop: true },
);
