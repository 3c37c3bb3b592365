// Entry point of the detector service (Deployment, replicas in one consumer group): config, bus,
// metrics and logger around runDetector; SIGTERM/SIGINT stop it cleanly (un-acked input is
// redelivered).
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { BusLive } from "@netpulse/runtime/bus/BusLayer";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { runMain } from "@netpulse/runtime/runMain";
import { DetectorConfig } from "./config.js";
import { runDetector } from "./DetectorService.js";

const ServiceLive = BusLive.pipe(Layer.provideMerge(Layer.mergeAll(DetectorConfig.layer, Metrics.layer)));

runMain("detector", () => runDetector.pipe(Effect.provide(ServiceLive), Effect.scoped));
