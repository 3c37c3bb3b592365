// Entry point of the sink service: launches the service layer with the configured bus, metrics
// and logger; SIGTERM/SIGINT interrupt it (in-flight batches are un-acked and will be redelivered).
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { BusLive } from "@netpulse/runtime/bus/BusLayer";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { runMain } from "@netpulse/runtime/runMain";
import { runSink, writerLayer } from "./SinkService.js";
import { sinkConfig } from "./SinkConfig.js";

// The config is read (and a bad value refused) before the bus or ClickHouse is dialled.
runMain("sink", () =>
  Effect.flatMap(sinkConfig, (s) =>
    runSink(s).pipe(
      Effect.provide(Layer.mergeAll(writerLayer(s), BusLive).pipe(Layer.provideMerge(Metrics.layer))),
      Effect.scoped,
    ),
  ),
);
