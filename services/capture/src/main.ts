// Entry point of the capture service (DaemonSet, one per node): the configured bus, metrics and
// the BPF loader around runCapture. The first SIGTERM/SIGINT stops the loader cleanly (it drains
// the ring buffer, still-open flows emit their last window, the last batch goes to the bus).
// First the process takes its scheduling policy (NETPULSE_CAPTURE_SCHED, default SCHED_IDLE: see
// schedPolicy.ts), so every thread and the loader it spawns run at it.
// It runs as `node --no-memory-reducer` (capture.command in deploy/helm/netpulse/values.yaml; the
// flag only works on the command line, not through v8.setFlagsFromString once the heap exists): V8's
// memory reducer shrinks a heap whose allocation rate dropped with up to three full GCs, and under a
// steady load it did so again after each major GC (~100 ms of CPU within 2 s, --trace-gc), then the
// shrunk young generation doubled the scavenges (35 against 16 in 40 s). The capture's heap is small
// and steady; the garbage collector still runs whenever allocation needs it.
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
